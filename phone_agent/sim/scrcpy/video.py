"""The video socket: H.264 of the screen, sent when it changes and repeated while it is still.

Like the real server on MediaCodec: a codec header once, then packets with a 12-byte header
(u64 PTS whose bit 63 marks the config packet and bit 62 a key frame, u32 size). The encoder
repeats the last frame 100 ms after the screen stops changing, and keeps doing so while it is still.
"""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Callable
from fractions import Fraction

import av
from av.codec.context import Flags
from PIL import Image

from phone_agent.sim.adb.device import ShellPhone
from phone_agent.sim.adb.transport import StreamClosed
from phone_agent.sim.scrcpy.options import ServerOptions
from phone_agent.sim.sockets import LocalSocket

CODEC_H264 = 0x68323634  # "h264"
PACKET_FLAG_CONFIG = 1 << 63
PACKET_FLAG_KEY_FRAME = 1 << 62
REPEAT_AFTER_S = 0.1
POLL_S = 1 / 60  # how often the screen is looked at: one display refresh
UNSETTLED_FPS = 30  # transition and progress frames change all the time; more would only burn CPU
ENCODER_FPS = 60  # what the real server tells MediaCodec
I_FRAME_INTERVAL_FRAMES = 10 * ENCODER_FPS  # the real server asks for a key frame every 10 s


def video_size(width: int, height: int, max_size: int) -> tuple[int, int]:
    """The encoded size: the screen scaled so its longer side fits max_size, then rounded to multiples of 8."""
    portrait = height > width
    major, minor = (height, width) if portrait else (width, height)
    if max_size and major > max_size:
        major, minor = max_size, max_size * minor // major
    # Round like the real server: the major side down, the minor side to the nearest multiple of 8.
    if major % 8 or minor % 8:
        major &= ~7
        minor = min((minor + 4) & ~7, major)
    return (minor, major) if portrait else (major, minor)


class _Encoder:
    """One libx264 session; a new one starts with a config packet and a key frame, as MediaCodec does."""

    def __init__(self, size: tuple[int, int], bit_rate: int) -> None:
        codec = av.CodecContext.create("libx264", "w")
        codec.width, codec.height = size
        codec.pix_fmt = "yuv420p"
        codec.time_base = Fraction(1, 1_000_000)
        codec.framerate = Fraction(ENCODER_FPS)  # x264 shares the bit rate out per frame at this rate
        codec.bit_rate = bit_rate
        codec.gop_size = I_FRAME_INTERVAL_FRAMES
        codec.options = {"preset": "ultrafast", "tune": "zerolatency"}
        # SPS/PPS out of band: they travel in the config packet, not inside each key frame.
        codec.flags |= Flags.global_header
        codec.open()
        self.codec = codec
        self.config = bytes(codec.extradata or b"")

    def encode(self, frame: av.VideoFrame) -> list[tuple[bytes, bool]]:
        """(data, key frame) of every packet the frame produced."""
        return [(bytes(packet), bool(packet.is_keyframe)) for packet in self.codec.encode(frame)]


class VideoStreamer:
    """Streams one phone's screen to one video socket until stopped or the client goes away."""

    def __init__(self, phone: ShellPhone, sock: LocalSocket, options: ServerOptions, stop: threading.Event,
                 log: Callable[[str, str], None]) -> None:
        """Stream at the size the client asked for (max_size)."""
        self.phone = phone
        self.log = log
        self.sock = sock
        self.options = options
        self.stop = stop
        self.size = video_size(phone.ui.width, phone.ui.height, options.max_size)
        self._reset = threading.Event()
        self._started = time.monotonic()
        self._last_pts = -1

    def request_reset(self) -> None:
        """RESET_VIDEO: restart the encoder, so a fresh config packet and key frame follow."""
        self._reset.set()

    def run(self) -> None:
        """The streaming loop; any socket error ends the server, as a broken pipe does."""
        try:
            if self.options.video_codec != "h264":
                # No encoder for it: the server logs it and ends; only audio streams send codec id 0 or 1.
                self.log("ERROR", f"Could not create default video encoder for {self.options.video_codec}")
                return
            if self.options.send_codec_meta:
                self.sock.write(struct.pack(">III", CODEC_H264, *self.size))
            self._stream()
        except StreamClosed:
            pass
        finally:
            self.stop.set()

    def _stream(self) -> None:
        encoder: _Encoder | None = None
        last_key: object = None
        frame: av.VideoFrame | None = None
        last_sent = 0.0
        min_interval = 1 / self.options.max_fps if self.options.max_fps > 0 else 0.0
        while not self.stop.is_set() and not self.sock.closed:
            if encoder is None or self._reset.is_set():
                self._reset.clear()
                encoder = _Encoder(self.size, self.options.video_bit_rate)
                self._send(encoder.config, PACKET_FLAG_CONFIG)
                last_key = None  # a new encoder needs a frame now
            now = time.monotonic()
            with self.phone.lock:
                on = self.phone.ui.screen_on
                key = self.phone.screen_key()
                settled = self.phone.ui.settled()
                interval = max(min_interval, 0.0 if settled else 1 / UNSETTLED_FPS)
                changed = on and (key != last_key or not settled) and now - last_sent >= interval
                image = self.phone.screen_image() if changed else None
            if not on:  # nothing is composed for a display that is off: no frames, not even repeats
                frame, last_key = None, None
            if image is not None:
                frame = av.VideoFrame.from_image(image.resize(self.size, Image.Resampling.BILINEAR))
                last_key = key
            if frame is not None and (image is not None or now - last_sent >= REPEAT_AFTER_S):
                for data, key_frame in encoder.encode(self._stamped(frame)):
                    self._send(data, self._last_pts | (PACKET_FLAG_KEY_FRAME if key_frame else 0))
                last_sent = now
            self.stop.wait(POLL_S)

    def _stamped(self, frame: av.VideoFrame) -> av.VideoFrame:
        self._last_pts = max(self._last_pts + 1, int((time.monotonic() - self._started) * 1_000_000))
        frame.pts = self._last_pts
        return frame

    def _send(self, data: bytes, pts_and_flags: int) -> None:
        header = struct.pack(">QI", pts_and_flags, len(data)) if self.options.send_frame_meta else b""
        self.sock.write(header + data)
