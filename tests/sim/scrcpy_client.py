"""A minimal test-side scrcpy client over raw sockets: start the server through adb, read video, send control.

Independent of the product's client on purpose, so the two cannot share a misreading of the protocol.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
from PIL import Image, ImageChops, ImageStat

from phone_agent.sim.phone import VirtualPhone
from phone_agent.sim.testing import AdbServer

JAR = "/data/local/tmp/scrcpy-server.jar"
CONFIG, KEY_FRAME = 1 << 63, 1 << 62


def server_command(version: str = "3.3.4", *options: str) -> str:
    """The shell command line that starts the server."""
    return f"CLASSPATH={JAR} app_process / com.genymobile.scrcpy.Server {version} " + " ".join(options)


def recv_exact(sock: socket.socket, size: int) -> bytes:
    """Exactly `size` bytes from the socket."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError(f"closed after {len(data)} of {size} bytes")
        data += chunk
    return data


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel (0-255)."""
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


@dataclass
class Mirror:
    """A connected session: the sockets, the video size and a decoder."""

    video: socket.socket
    control: socket.socket
    process: subprocess.Popen[bytes]
    socket_name: str
    name: bytes = b""
    codec: int = 0
    size: tuple[int, int] = (0, 0)
    decoder: av.VideoCodecContext = field(default_factory=lambda: av.VideoCodecContext.create("h264", "r"))
    packets: list[tuple[int, int]] = field(default_factory=list)  # (pts and flags, size)
    _config: bytes = b""

    def read_header(self) -> None:
        """Device name and codec header."""
        self.name = recv_exact(self.video, 64).rstrip(b"\0")
        (self.codec,) = struct.unpack(">I", recv_exact(self.video, 4))
        if self.codec > 1:  # 0 and 1: the device disabled the stream
            self.size = struct.unpack(">II", recv_exact(self.video, 8))

    def next_image(self) -> Image.Image:
        """Read packets until one decodes into a frame."""
        while True:
            pts, length = struct.unpack(">QI", recv_exact(self.video, 12))
            data = recv_exact(self.video, length)
            self.packets.append((pts, length))
            if pts & CONFIG:
                self._config = data
                continue
            data, self._config = self._config + data, b""
            for frame in self.decoder.decode(av.Packet(data)):
                return frame.to_image()

    def image_like(self, phone: VirtualPhone, timeout: float = 10) -> Image.Image:
        """The first frame that shows what the phone's screen shows (within encoding loss)."""
        deadline = time.monotonic() + timeout
        while True:
            image = self.next_image()
            with phone.lock:
                expected = phone.screen_image().resize(self.size)
            if difference(image, expected) < 4 or time.monotonic() > deadline:
                return image

    def touch(self, action: int, x: int, y: int, pointer: int = -2) -> None:
        """INJECT_TOUCH_EVENT at video coordinates (pointer -2: the generic finger)."""
        pressure = 0xFFFF if action != 1 else 0
        self.control.sendall(struct.pack(">BBqiiHHHii", 2, action, pointer, x, y, *self.size, pressure, 1, 1))

    def tap_phone(self, phone: VirtualPhone, x: int, y: int, hold_s: float = 0.05) -> None:
        """Down, hold, up at a point given in the phone's pixels."""
        vx, vy = x * self.size[0] // phone.ui.width, y * self.size[1] // phone.ui.height
        self.touch(0, vx, vy)
        time.sleep(hold_s)
        self.touch(1, vx, vy)

    def key(self, code: int, meta: int = 0) -> None:
        """INJECT_KEYCODE down and up."""
        for action in (0, 1):
            self.control.sendall(struct.pack(">BBiii", 0, action, code, 0, meta))

    def device_message(self) -> tuple[int, bytes]:
        """(type, payload) of the next device message."""
        kind = recv_exact(self.control, 1)[0]
        if kind == 0:
            (length,) = struct.unpack(">I", recv_exact(self.control, 4))
            return kind, recv_exact(self.control, length)
        return kind, recv_exact(self.control, 8)


@contextlib.contextmanager
def mirror(server: AdbServer, serial: str, jar: Path, *options: str, timeout: float = 15) -> Iterator[Mirror]:
    """Push the jar, start the server, forward its socket and connect video then control."""
    pushed = server.run("-s", serial, "push", str(jar), JAR)
    assert pushed.returncode == 0, pushed.stderr
    scid = random.randrange(1 << 31)
    command = server_command("3.3.4", f"scid={scid:08x}", "tunnel_forward=true", "audio=false", "max_size=1024",
                             "clipboard_autosync=false", *options)
    process = subprocess.Popen([server.adb, "-P", str(server.port), "-s", serial, "shell", command],
                               env=server.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    forwarded = server.run("-s", serial, "forward", "tcp:0", f"localabstract:scrcpy_{scid:08x}")
    port = int(forwarded.stdout)
    sockets: list[socket.socket] = []
    try:
        deadline = time.monotonic() + timeout
        while True:  # the server listens only once its VM runs: until then adb closes each connection
            video = socket.create_connection(("127.0.0.1", port), timeout=timeout)
            sockets.append(video)
            with contextlib.suppress(EOFError, ConnectionError):
                assert recv_exact(video, 1) == b"\0"
                break
            assert time.monotonic() < deadline, "the server never accepted"
            time.sleep(0.05)
        control = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        sockets.append(control)
        session = Mirror(video, control, process, f"scrcpy_{scid:08x}")
        session.read_header()
        yield session
    finally:
        for sock in sockets:
            sock.close()
        server.run("-s", serial, "forward", "--remove", f"tcp:{port}")
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            process.kill()
            process.wait()
