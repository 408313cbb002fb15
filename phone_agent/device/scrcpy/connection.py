"""Starting the genuine scrcpy server on a phone and holding its sockets: video (decoded) and control.

The jar is pushed to ``/data/local/tmp`` only when the phone's copy has another SHA-256, started with
``app_process``, and reached through the adb server with one ``localabstract:scrcpy_<scid>`` stream per
socket: the same stream ``adb forward`` would open for each connection, without a host port that any
local program could connect to or that outlives a crash.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import adbutils

from phone_agent.device.adb import AdbDevice
from phone_agent.device.scrcpy import protocol
from phone_agent.device.scrcpy.server import SHA256, VERSION
from phone_agent.device.scrcpy.video import VideoReader, read_exactly
from phone_agent.errors import ChannelError, DeviceError

DEVICE_PATH = "/data/local/tmp/scrcpy-server.jar"
MIN_SDK = 21  # scrcpy needs Android 5.0
PASTE_SDK = 24
_OUTPUT_LIMIT = 4000


@dataclass(frozen=True)
class ServerOptions:
    """What we ask the server for: frame size limit (0: the screen's own), bit rate, frame rate."""

    max_size: int = 0
    video_bit_rate: int = 8_000_000
    max_fps: int = 60

    def arguments(self, scid: int) -> list[str]:
        """The server's key=value arguments. ``cleanup=false``: we change no setting it would restore, and its
        clean-up process would delete the jar, which would then be pushed again at every start."""
        return [
            f"scid={scid:08x}", "log_level=info", "tunnel_forward=true", "audio=false", "control=true",
            "cleanup=false", "clipboard_autosync=false", f"max_size={self.max_size}",
            f"video_bit_rate={self.video_bit_rate}", f"max_fps={self.max_fps}",
        ]


class ScrcpyConnection:
    """A running scrcpy server: its shell stream (for its messages), the video reader and the control socket."""

    def __init__(self, serial: str, process: socket.socket, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.serial = serial
        self.name = ""
        self.width = self.height = 0
        self.pastes = True  # the server pastes what SET_CLIPBOARD sets
        self._process = process
        process.settimeout(None)  # the server's output stream lasts as long as the server
        self._output = bytearray()
        self._clock = clock
        self._ended = threading.Event()
        self._acks: set[int] = set()
        self._acked = threading.Condition()
        self._send_lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.video: VideoReader | None = None
        self._control: socket.socket | None = None
        threading.Thread(target=self._read_output, name="scrcpy-server-output", daemon=True).start()

    @classmethod
    def start(cls, adb: AdbDevice, jar: Path, options: ServerOptions, *, timeout: float = 5.0) -> ScrcpyConnection:
        """Start the server on the phone and connect to it; everything opened is closed again on failure.

        Raises:
            ChannelError: the phone is too old, the server exited (with its message), or it did not answer in time.
            DeviceError: the phone cannot be reached.
        """
        sdk = adb.getprop("ro.build.version.sdk")
        if sdk.isdigit() and int(sdk) < MIN_SDK:
            release = adb.getprop("ro.build.version.release")
            raise ChannelError(f"Android {release} (SDK {sdk}) is older than 5.0, which scrcpy needs")
        push_if_changed(adb, jar)
        scid = random.getrandbits(31)
        command = (f"CLASSPATH={DEVICE_PATH} app_process / com.genymobile.scrcpy.Server {VERSION} "
                   + " ".join(options.arguments(scid)))
        try:
            process = adb.open_stream(f"shell:{command}")
        except (adbutils.AdbError, OSError) as exc:
            raise DeviceError(f"Cannot start the scrcpy server on {adb.serial} ({exc}).") from exc
        connection = cls(adb.serial, process)
        # The server presses PASTE after SET_CLIPBOARD only on Android 7+ (KEYCODE_PASTE came with API 24).
        connection.pastes = not (sdk.isdigit() and int(sdk) < PASTE_SDK)
        try:
            connection._connect(adb, f"localabstract:scrcpy_{scid:08x}", timeout)
        except BaseException:
            connection.close()
            raise
        return connection

    def _connect(self, adb: AdbDevice, service: str, timeout: float) -> None:
        deadline = self._clock() + timeout
        video = self._open_socket(adb, service, deadline)
        if read_exactly(video, 1) != b"\0":  # the dummy byte: the server accepted us
            raise ChannelError(f"The scrcpy server sent an unexpected first byte. {self._said()}")
        self._control = self._open_socket(adb, service, deadline)
        try:
            self.name = protocol.device_name(read_exactly(video, protocol.DEVICE_NAME_LENGTH))
            header = protocol.VideoHeader.parse(read_exactly(video, protocol.VIDEO_HEADER.size))
        except (EOFError, OSError) as exc:
            raise ChannelError(f"The scrcpy server closed the video stream ({exc}). {self._said()}") from exc
        if header.codec in (protocol.CODEC_DISABLED, protocol.CODEC_ERROR):
            raise ChannelError(f"The scrcpy server could not start its video encoder. {self._said()}")
        if header.codec != protocol.CODEC_H264:
            raise ChannelError(f"The scrcpy server sent codec {header.codec:#x} instead of H.264")
        self.width, self.height = header.width, header.height
        video.settimeout(None)
        self.video = VideoReader(video)
        self.video.start()
        if self.video.latest(timeout=max(0.1, deadline - self._clock())) is None:
            raise ChannelError(f"No video frame came from the scrcpy server ({self.video.error or 'timeout'}). "
                               f"{self._said()}")
        threading.Thread(target=self._read_device_messages, name="scrcpy-control", daemon=True).start()

    def _open_socket(self, adb: AdbDevice, service: str, deadline: float) -> socket.socket:
        """Connect to the server's socket, retrying while it starts; fail at once if it exited."""
        while True:
            try:
                sock = adb.open_stream(service)
            except (adbutils.AdbError, OSError) as exc:
                if self._ended.is_set():
                    raise ChannelError(f"The scrcpy server exited. {self._said()}") from exc
                if self._clock() >= deadline:
                    raise ChannelError(f"The scrcpy server did not start in time. {self._said()}") from exc
                time.sleep(0.05)
                continue
            sock.settimeout(max(0.1, deadline - self._clock()))
            self._sockets.append(sock)
            return sock

    def send(self, message: bytes) -> None:
        """Write one control message.

        Raises:
            DeviceError: the server is gone.
        """
        assert self._control is not None
        try:
            with self._send_lock:
                self._control.sendall(message)
        except OSError as exc:
            raise DeviceError(f"Lost the scrcpy server on {self.serial} ({exc}). {self._said()}") from exc

    def wait_ack(self, sequence: int, timeout: float) -> bool:
        """Wait until the server acknowledged clipboard ``sequence``; False after ``timeout`` seconds."""
        with self._acked:
            return self._acked.wait_for(lambda: sequence in self._acks or self._ended.is_set(), timeout) and (
                sequence in self._acks
            )

    def failure(self) -> str | None:
        """Why the server or its video stream has gone, if it has."""
        if self.video is not None and self.video.error is not None:
            return f"{self.video.error}. {self._said()}"
        return f"The scrcpy server exited. {self._said()}" if self._ended.is_set() else None

    def close(self) -> None:
        """Close the sockets (the server then exits by itself), then its shell stream."""
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self.video is not None:
            self.video.join(timeout=2)
        self._ended.wait(timeout=2)
        self._process.close()

    def _said(self) -> str:
        """The server's last message, for errors."""
        lines = [line for line in self._output.decode("utf-8", "replace").splitlines() if line.strip()]
        return f"It said: {' / '.join(lines[-3:])}" if lines else "It printed nothing."

    def _read_output(self) -> None:
        try:
            while chunk := self._process.recv(4096):
                self._output += chunk
                del self._output[:-_OUTPUT_LIMIT]
        except OSError:
            pass
        finally:
            self._ended.set()
            with self._acked:
                self._acked.notify_all()

    def _read_device_messages(self) -> None:
        assert self._control is not None
        control = self._control
        try:
            control.settimeout(None)
            while True:
                kind, value = protocol.read_device_message(lambda size: read_exactly(control, size))
                if kind == protocol.DEVICE_ACK_CLIPBOARD:
                    with self._acked:
                        self._acks.add(int(value))
                        self._acked.notify_all()
        except (OSError, EOFError, ValueError):
            return


def push_if_changed(adb: AdbDevice, jar: Path) -> bool:
    """Copy the jar to the phone unless its copy already has the right SHA-256 (``sha256sum``, a native
    command: no Java start-up); True when it was pushed."""
    if SHA256 in adb.shell(f"sha256sum {DEVICE_PATH} 2>/dev/null"):
        return False
    adb.push(jar, DEVICE_PATH)
    return True
