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
from typing import TYPE_CHECKING

import adbutils

from phone_agent.device.scrcpy import protocol
from phone_agent.device.scrcpy.server import SHA256, START_TIMEOUT, VERSION
from phone_agent.device.scrcpy.video import VideoReader, read_exactly
from phone_agent.errors import ChannelError, DeviceError

if TYPE_CHECKING:  # the adb device lists apps with this module's jar: a run-time import would be a cycle
    from phone_agent.device.adb import AdbDevice

# Our own name: an official scrcpy client deletes /data/local/tmp/scrcpy-server.jar at every start.
DEVICE_PATH = f"/data/local/tmp/phone-agent-scrcpy-server-{VERSION}.jar"
MIN_SDK = 21  # scrcpy needs Android 5.0
PASTE_SDK = 24
_OUTPUT_LIMIT = 4000
_RETRY_INTERVAL = 0.1


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
        self.pastes = True  # the phone has KEYCODE_PASTE (Android 7+)
        self._process = process
        process.settimeout(None)  # the server's output stream lasts as long as the server
        self._output = bytearray()
        self._clock = clock
        self._ended = threading.Event()
        self._received = 0  # bytes the server printed so far
        self._acks: set[int] = set()
        self._clipboards: list[str] = []  # the texts GET_CLIPBOARD answered with, oldest first
        self._answered = threading.Condition()
        self._send_lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._budget = START_TIMEOUT
        self.video: VideoReader | None = None
        self._control: socket.socket | None = None
        threading.Thread(target=self._read_output, name="scrcpy-server-output", daemon=True).start()

    @classmethod
    def start(cls, adb: AdbDevice, jar: Path, options: ServerOptions, *,
              timeout: float = START_TIMEOUT) -> ScrcpyConnection:
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
        connection.pastes = not (sdk.isdigit() and int(sdk) < PASTE_SDK)
        try:
            connection._connect(adb, f"localabstract:scrcpy_{scid:08x}", timeout)
        except BaseException:
            connection.close()
            raise
        return connection

    def _connect(self, adb: AdbDevice, service: str, timeout: float) -> None:
        self._budget = timeout
        deadline = self._clock() + timeout
        video = self._accepted_socket(adb, service, deadline)
        self._control = self._open_socket(adb, service, deadline)
        # TCP_NODELAY, as the official client sets: Nagle's algorithm would hold a tap's UP or a swipe's moves
        # back (up to 40 ms on Linux, 200 ms on Windows) while the adb server delays its ACK.
        self._control.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.name = protocol.device_name(read_exactly(video, protocol.DEVICE_NAME_LENGTH))
            (codec,) = protocol.CODEC_ID.unpack(read_exactly(video, protocol.CODEC_ID.size))
            if codec != protocol.CODEC_H264:
                raise ChannelError(f"The scrcpy server sent codec {codec:#x} instead of H.264. {self._said()}")
            self.width, self.height = protocol.VIDEO_SIZE.unpack(read_exactly(video, protocol.VIDEO_SIZE.size))
        except (EOFError, OSError) as exc:
            raise ChannelError(f"The scrcpy server closed the video stream ({exc}). {self._said()}") from exc
        video.settimeout(None)
        self.video = VideoReader(video)
        self.video.start()
        if self.video.latest(timeout=max(0.1, deadline - self._clock())) is None:
            raise ChannelError(f"No video frame came from the scrcpy server ({self.video.error or 'timeout'}). "
                               f"{self._said()}")
        threading.Thread(target=self._read_device_messages, name="scrcpy-control", daemon=True).start()

    def _accepted_socket(self, adb: AdbDevice, service: str, deadline: float) -> socket.socket:
        """The video socket, once the server's dummy byte says it accepted it; a connection that closes before
        the byte is opened again (as the official client does), until the deadline."""
        while True:
            sock = self._open_socket(adb, service, deadline)
            try:
                first = read_exactly(sock, 1)
            except EOFError:
                self._sockets.remove(sock)
                sock.close()
                self._wait_to_retry(deadline, None)
                continue
            except OSError as exc:  # the timeout: it connected, but the server never accepted
                raise ChannelError(f"The scrcpy server did not answer within {self._budget:g} s. "
                                   f"{self._said()}") from exc
            if first != b"\0":
                raise ChannelError(f"The scrcpy server sent an unexpected first byte. {self._said()}")
            return sock

    def _open_socket(self, adb: AdbDevice, service: str, deadline: float) -> socket.socket:
        """Connect to the server's socket, retrying while it starts; fail at once if it exited."""
        while True:
            try:
                sock = adb.open_stream(service)
            except (adbutils.AdbError, OSError) as exc:
                self._wait_to_retry(deadline, exc)
                continue
            sock.settimeout(max(0.1, deadline - self._clock()))
            self._sockets.append(sock)
            return sock

    def _wait_to_retry(self, deadline: float, cause: Exception | None) -> None:
        """Pause before the next attempt to connect.

        Raises:
            ChannelError: the server exited, or the deadline has passed.
        """
        if self._ended.is_set():
            raise ChannelError(f"The scrcpy server exited. {self._said()}") from cause
        if self._clock() >= deadline:
            raise ChannelError(f"The scrcpy server did not start within {self._budget:g} s. "
                               f"{self._said()}") from cause
        self._ended.wait(_RETRY_INTERVAL)  # a server that exits meanwhile ends the wait at once

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
        with self._answered:
            return self._answered.wait_for(lambda: sequence in self._acks or self._ended.is_set(), timeout) and (
                sequence in self._acks
            )

    def clipboard(self, timeout: float) -> str | None:
        """The phone's clipboard text (GET_CLIPBOARD); None when the server does not answer within ``timeout``
        (it sends nothing when the clipboard holds no text)."""
        with self._answered:
            asked = len(self._clipboards)
        self.send(protocol.get_clipboard())
        with self._answered:
            answered = self._answered.wait_for(lambda: len(self._clipboards) > asked or self._ended.is_set(), timeout)
            return self._clipboards[asked] if answered and len(self._clipboards) > asked else None

    def output_mark(self) -> int:
        """Where the server's output is now, for :meth:`printed_since`."""
        return self._received

    def printed_since(self, mark: int) -> str:
        """What the server printed after ``mark`` (its last few thousand characters at most)."""
        new = min(self._received - mark, len(self._output))
        return self._output[len(self._output) - new:].decode("utf-8", "replace") if new > 0 else ""

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
                self._received += len(chunk)
                del self._output[:-_OUTPUT_LIMIT]
        except OSError:
            pass
        finally:
            self._ended.set()
            with self._answered:
                self._answered.notify_all()

    def _read_device_messages(self) -> None:
        assert self._control is not None
        control = self._control
        try:
            control.settimeout(None)
            while True:
                kind, value = protocol.read_device_message(lambda size: read_exactly(control, size))
                with self._answered:
                    if kind == protocol.DEVICE_ACK_CLIPBOARD:
                        self._acks.add(int(value))
                    elif kind == protocol.DEVICE_CLIPBOARD:
                        self._clipboards.append(str(value))
                    self._answered.notify_all()
        except (OSError, EOFError, ValueError):
            return


def push_if_changed(adb: AdbDevice, jar: Path) -> bool:
    """Copy the jar to the phone unless its copy already has the right SHA-256 (``sha256sum``, a native
    command: no Java start-up); True when it was pushed."""
    if SHA256 in adb.shell(f"sha256sum {DEVICE_PATH} 2>/dev/null"):
        return False
    adb.push(jar, DEVICE_PATH)
    return True
