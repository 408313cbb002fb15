"""Capturing the screen with ``screencap``: as the phone's PNG, or as raw pixels encoded on the host.

A phone compresses a PNG slowly (0.5–2 s); raw RGBA skips that but is ~10 MB per frame, which a
USB 2 cable needs ~0.3 s for, and the host must then encode it. Raw pixels deflated on the phone
(``gzip -1``, a fast level) cross the cable as a few hundred KB, for the phone's time to deflate
10 MB. Which is fastest depends on the phone, the cable, this computer and what the screen shows: a
flat settings screen deflates to ~1 %, a photo or a feed hardly at all, and gzip then only adds its
time. So the first capture times each way and keeps the fastest, and the choice is revisited:

- A black frame (a locked or FLAG_SECURE screen) deflates to nothing and tells nothing of the screens
  to come: after a timing on one, the first capture that is not black has the next one time each way
  again. Black captures never count towards the running time below.
- The chosen way has a running time, the median of its last five captures (plus its PNG encoding as
  timed). When that exceeds the time recorded for the fastest other way, the next capture times each
  way again. The median needs three slow captures, so one hiccup on the cable changes nothing, and
  at least five captures lie between two timings: timing never becomes the cost of every capture.
- Every hundredth capture times each way again anyway, as another way may have become faster
  (gzip, once the photos are gone) while the chosen one kept its pace.

Timing each way costs one capture of each (a PNG at the phone's pace among them); the frame of the
PNG capture is the one returned.

A raw frame carries the MD5 of its pixels' bytes, and ``raw_digest`` has the phone capture again and
send only the MD5 of that (``screencap | md5sum``): equal digests mean the screen showed exactly the
same at both moments, which tells that it is still for the price of one frame on the cable.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import re
import statistics
import struct
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from phone_agent.device.frames import Frame, shrink

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND\xaeB`\x82"
# screencap's raw header: width, height, pixel format (u32 each), then since Android 8 a colour space (u32).
_HEADER_SIZES = (16, 12)
# PIXEL_FORMAT_RGBA_8888 and RGBX_8888 are R,G,B,A in memory; BGRA_8888 is B,G,R,A. Others (RGB_565) use PNG.
_TO_BGR = {1: cv2.COLOR_RGBA2BGR, 2: cv2.COLOR_RGBA2BGR, 5: cv2.COLOR_BGRA2BGR}
_TO_GRAY = {1: cv2.COLOR_RGBA2GRAY, 2: cv2.COLOR_RGBA2GRAY, 5: cv2.COLOR_BGRA2GRAY}
# ``exec:`` sends stderr in the same stream as stdout, so every program of a raw capture has its stderr
# dropped by sh: a warning (several displays, an old phone's linker) cannot land in the middle of the bytes.
RAW_COMMAND = "exec:screencap 2>/dev/null"
PNG_COMMAND = "exec:screencap -p"
DEFLATED_COMMAND = "exec:(screencap | gzip -1) 2>/dev/null"
# The same raw capture, hashed on the phone (toybox md5sum prints "HEX  -").
DIGEST_COMMAND = "exec:(screencap | md5sum) 2>/dev/null"
_MD5 = re.compile(rb"\b([0-9a-f]{32})  -")
_GZIP_MAGIC = b"\x1f\x8b\x08"
RUNNING_CAPTURES = 5  # the chosen way's running time is the median of this many captures
RETIME_AFTER = 100  # captures after which each way is timed again anyway (another may have become faster)


def png_from_screencap(data: bytes) -> bytes:
    """The PNG in what ``screencap -p`` sent, skipping text before it (a multi-display warning).

    Raises:
        ValueError: there is no complete PNG; the message is what the phone said instead.
    """
    start = data.find(_PNG_SIGNATURE)
    png = data[start:].rstrip(b"\r\n") if start >= 0 else b""
    if len(png) >= 24 and png.endswith(_PNG_END):
        return png
    said = data[: start if start >= 0 else 200].decode("utf-8", "replace").strip()
    raise ValueError(said or ("the PNG was cut off" if png else "no PNG came back"))


def frame_from_png(data: bytes) -> Frame:
    """A frame from ``screencap -p`` output.

    Raises:
        ValueError: there is no complete PNG.
    """
    png = png_from_screencap(data)
    width, height = struct.unpack(">II", png[16:24])
    return Frame.from_png(png, width, height)


def frame_from_raw(data: bytes) -> Frame:
    """A frame from raw ``screencap`` output (header, then width*height*4 bytes of pixels).

    Raises:
        ValueError: the output is not a raw frame in a 4-byte pixel format.
    """
    if len(data) < 12:
        raise ValueError("no raw frame came back")
    width, height, pixel_format = struct.unpack_from("<3I", data)
    header = len(data) - width * height * 4
    if header not in _HEADER_SIZES or pixel_format not in _TO_BGR:
        raise ValueError(f"not a raw RGBA frame ({len(data)} bytes, {width}x{height}, format {pixel_format})")
    pixels = np.frombuffer(data, np.uint8, offset=header).reshape(height, width, 4)
    small = shrink(cv2.cvtColor(pixels, _TO_GRAY[pixel_format]))
    return Frame.from_pixels(lambda: cv2.cvtColor(pixels, _TO_BGR[pixel_format]), width, height, small,
                             digest=lambda: hashlib.md5(data).hexdigest())


def frame_from_deflated(data: bytes) -> Frame:
    """A frame from raw ``screencap`` output gzipped on the phone.

    Raises:
        ValueError: the output is no gzip stream of a raw frame (e.g. the phone has no ``gzip``).
    """
    start = data.find(_GZIP_MAGIC)  # text before the stream (a warning sh could not drop) is skipped
    try:
        raw = gzip.decompress(data[max(start, 0):])
    except (OSError, EOFError, zlib.error):
        said = data[:200].decode("utf-8", "replace").strip()
        raise ValueError(f"no gzipped frame came back ({said or 'nothing'})") from None
    return frame_from_raw(raw)


@dataclass(frozen=True)
class Way:
    """One way to capture: the service that sends the frame, and how it becomes a Frame."""

    service: str
    decode: Callable[[bytes], Frame]


PNG = Way(PNG_COMMAND, frame_from_png)
RAW = Way(RAW_COMMAND, frame_from_raw)
DEFLATED = Way(DEFLATED_COMMAND, frame_from_deflated)


class ScreenCapture:
    """Captures one phone's screen the fastest way, timing each way again when the chosen one slows down."""

    def __init__(
        self, run: Callable[[str], bytes], clock: Callable[[], float] = time.perf_counter, *, way: Way | None = None
    ) -> None:
        self._run = run
        self._clock = clock
        self.way = way  # None until timed; a way given here is kept
        self._timed: dict[Way, float] = {}  # each way's seconds, PNG encoding included, at the last timing
        self._encoding = 0.0  # the chosen way's share of that spent encoding PNG on the host
        self._recent: deque[float] = deque(maxlen=RUNNING_CAPTURES)  # the chosen way's latest captures
        self._black = False  # the last timing was of a black screen
        self._kept = 0  # captures since the last timing
        self._due = False  # time each way at the next capture

    @property
    def digests(self) -> bool:
        """Whether frames carry the MD5 of their raw pixels, which ``raw_digest`` can be matched against."""
        return self.way in (RAW, DEFLATED)

    def capture(self) -> Frame:
        """The screen now.

        Raises:
            ValueError: the capture failed; the message is what the phone said.
            DeviceError: the phone cannot be reached.
        """
        if self.way is None or self._due:
            return self._time_each_way()
        began = self._clock()
        try:
            frame = self.way.decode(self._run(self.way.service))
        except ValueError:
            if self.way is PNG:
                raise
            return frame_from_png(self._run(PNG_COMMAND))  # says why (raw sends its error text to /dev/null)
        self._note(frame, self._clock() - began)
        return frame

    def raw_digest(self) -> str | None:
        """The MD5 of a raw capture the phone takes now, without the picture (None when it sent no digest).

        Raises:
            DeviceError: the phone cannot be reached.
        """
        match = _MD5.search(self._run(DIGEST_COMMAND))
        return match.group(1).decode() if match else None

    def _note(self, frame: Frame, seconds: float) -> None:
        """Count one capture the chosen way; decide whether the next capture times each way again."""
        if not self._timed or frame.secure:
            return  # a way given by the caller is kept; a black screen's time says nothing of the others
        self._kept += 1
        self._recent.append(seconds)
        running = statistics.median(self._recent) + self._encoding
        runner_up = min((t for way, t in self._timed.items() if way is not self.way), default=math.inf)
        slower = len(self._recent) == RUNNING_CAPTURES and running > runner_up
        self._due = self._black or slower or self._kept >= RETIME_AFTER

    def _time_each_way(self) -> Frame:
        """Capture once each way, keep the fastest; the PNG capture is the frame returned.

        A raw frame counts with its PNG encoding on the host, which the frame the model sees needs.
        """
        began = self._clock()
        frame = frame_from_png(self._run(PNG_COMMAND))
        self._timed, encoding = {PNG: self._clock() - began}, {PNG: 0.0}
        for way in (RAW, DEFLATED):
            began = self._clock()
            try:
                decoded = way.decode(self._run(way.service))
            except ValueError:
                continue
            fetched = self._clock()
            _ = decoded.png
            done = self._clock()
            self._timed[way], encoding[way] = done - began, done - fetched
        self.way = min(self._timed, key=self._timed.__getitem__)
        self._encoding, self._black, self._kept, self._due = encoding[self.way], frame.secure, 0, False
        self._recent.clear()
        return frame
