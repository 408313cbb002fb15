"""Capturing the screen with ``screencap``: as the phone's PNG, or as raw pixels encoded on the host.

A phone compresses a PNG slowly (0.5–2 s); raw RGBA skips that but is ~10 MB per frame, which a
USB 2 cable needs ~0.3 s for, and the host must then encode it. Which is faster depends on the phone,
the cable and this computer, so the first capture times one of each and the faster is used from then on.

A raw frame carries the MD5 of its bytes, and ``raw_digest`` has the phone capture again and send
only the MD5 of that (``screencap | md5sum``): equal digests mean the screen showed exactly the same
at both moments, which tells that it is still for the price of one frame on the cable.
"""

from __future__ import annotations

import hashlib
import re
import struct
import time
from collections.abc import Callable

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
# Raw goes through sh so that a warning on stderr (several displays) cannot land in the middle of the pixels.
RAW_COMMAND = "exec:screencap 2>/dev/null"
PNG_COMMAND = "exec:screencap -p"
# The same raw capture, hashed on the phone (toybox md5sum prints "HEX  -").
DIGEST_COMMAND = "exec:screencap 2>/dev/null | md5sum"
_MD5 = re.compile(rb"([0-9a-f]{32})\s")


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
                             digest=hashlib.md5(data).hexdigest())


class ScreenCapture:
    """Captures one phone's screen the faster way, chosen at the first capture by timing both."""

    def __init__(
        self, run: Callable[[str], bytes], clock: Callable[[], float] = time.perf_counter, *, raw: bool | None = None
    ) -> None:
        self._run = run
        self._clock = clock
        self.raw = raw  # None until measured

    def capture(self) -> Frame:
        """The screen now.

        Raises:
            ValueError: the capture failed; the message is what the phone said.
            DeviceError: the phone cannot be reached.
        """
        if self.raw is None:
            return self._measure()
        if self.raw:
            try:
                return frame_from_raw(self._run(RAW_COMMAND))
            except ValueError:
                pass  # the PNG capture says why (raw sends its error text to /dev/null)
        return frame_from_png(self._run(PNG_COMMAND))

    def raw_digest(self) -> str | None:
        """The MD5 of a raw capture the phone takes now, without the picture (None when it sent no digest).

        Raises:
            DeviceError: the phone cannot be reached.
        """
        match = _MD5.match(self._run(DIGEST_COMMAND))
        return match.group(1).decode() if match else None

    def _measure(self) -> Frame:
        """Capture once each way, keep the faster way; the PNG capture is the frame returned.

        A raw frame counts with its PNG encoding on the host, which the frame the model sees needs.
        """
        began = self._clock()
        frame = frame_from_png(self._run(PNG_COMMAND))
        png_seconds = self._clock() - began
        began = self._clock()
        try:
            _ = frame_from_raw(self._run(RAW_COMMAND)).png
        except ValueError:
            self.raw = False
        else:
            self.raw = self._clock() - began < png_seconds
        return frame
