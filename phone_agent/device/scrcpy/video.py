"""The video socket: a thread that decodes the H.264 stream and keeps the latest frame at hand.

Each decoded frame's luma is shrunk to a thumbnail and compared with the last one the way
``frames.same_screen`` compares screens, so the frames MediaCodec repeats on a still screen (about
every 100 ms) are not counted as changes. Only when a frame is asked for is it converted to colour.
"""

from __future__ import annotations

import socket
import threading
import time

import av
import numpy as np
from av.codec.context import Flags

from phone_agent.device.frames import Thumbnail, same_screen, shrink
from phone_agent.device.scrcpy.protocol import PACKET_HEADER, PacketHeader


def read_exactly(sock: socket.socket, size: int) -> bytes:
    """Exactly ``size`` bytes from the socket.

    Raises:
        EOFError: the phone closed the socket first.
    """
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        count = sock.recv_into(view[got:], size - got)
        if count == 0:
            raise EOFError("the scrcpy server closed the video stream")
        got += count
    return bytes(buffer)


def luma_thumbnail(frame: av.VideoFrame) -> Thumbnail:
    """The frame's Y plane as the thumbnail screens are compared by."""
    plane = frame.planes[0]
    luma = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]
    return shrink(luma)


class VideoReader:
    """Decodes the video socket in a thread; ``latest()`` is the newest frame, ``changes`` counts new content."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._decoder = av.CodecContext.create("h264", "r")
        # Slice threads only: frame threading would hold frames back by one per thread. Low delay: output each
        # frame as it is decoded, even when the phone's encoder does not declare that it never reorders frames.
        self._decoder.thread_type = "SLICE"
        self._decoder.flags |= Flags.low_delay
        self._lock = threading.Condition()
        self._frame: av.VideoFrame | None = None
        self._thumbnail: Thumbnail | None = None
        self._changes = 0
        self._changed_at = time.monotonic()
        self._decoded = 0
        self._error: str | None = None
        self._corrupt = 0
        self._thread = threading.Thread(target=self._run, name="scrcpy-video", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def changes(self) -> int:
        """How many decoded frames so far showed different content than the frame before them."""
        return self._changes

    @property
    def changed_at(self) -> float:
        """When (``time.monotonic``) the last frame with new content arrived."""
        return self._changed_at

    @property
    def decoded(self) -> int:
        """How many frames were decoded so far (repeats included)."""
        return self._decoded

    @property
    def corrupt(self) -> int:
        """How many packets the decoder rejected."""
        return self._corrupt

    @property
    def error(self) -> str | None:
        """Why the stream ended, once it has."""
        return self._error

    def latest(self, timeout: float = 0.0) -> av.VideoFrame | None:
        """The newest decoded frame, waiting up to ``timeout`` seconds for the first one."""
        return self.newest(timeout)[0]

    def newest(self, timeout: float = 0.0) -> tuple[av.VideoFrame | None, Thumbnail | None, int]:
        """The newest decoded frame, its thumbnail and the content count it belongs to, taken together."""
        with self._lock:
            if self._frame is None and self._error is None and timeout > 0:
                self._lock.wait_for(lambda: self._frame is not None or self._error is not None, timeout)
            return self._frame, self._thumbnail, self._changes

    def join(self, timeout: float) -> None:
        """Wait for the thread to end (after the socket is closed)."""
        self._thread.join(timeout)

    def _run(self) -> None:
        config = b""
        try:
            while True:
                header = PacketHeader.parse(read_exactly(self._sock, PACKET_HEADER.size))
                payload = read_exactly(self._sock, header.size)
                if header.config:
                    config = payload  # SPS/PPS: decoded together with the next frame
                    continue
                try:
                    frames = self._decoder.decode(av.Packet(config + payload))
                except av.FFmpegError:
                    self._corrupt += 1  # a damaged packet: the next key frame repairs the picture
                    continue
                finally:
                    config = b""
                for frame in frames:
                    self._keep(frame)
        except (OSError, EOFError) as exc:
            self._end(str(exc) or type(exc).__name__)

    def _keep(self, frame: av.VideoFrame) -> None:
        thumbnail = luma_thumbnail(frame)
        changed = not same_screen(self._thumbnail, thumbnail)
        with self._lock:
            self._frame, self._thumbnail = frame, thumbnail
            self._decoded += 1
            if changed:
                self._changes += 1
                self._changed_at = time.monotonic()
            self._lock.notify_all()

    def _end(self, reason: str) -> None:
        with self._lock:
            self._error = reason
            self._lock.notify_all()
