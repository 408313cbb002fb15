"""Comparing screens the way a person would: ignore the status bar and a blinking cursor."""

from __future__ import annotations

import cv2
import numpy as np

from actions.device import Screenshot

# Frames are compared as grayscale thumbnails at 1/4 scale without the status bar (top 3 %), so the
# clock ticking or a notification icon does not count as the app changing (24 dp on a 1080x2400 screen).
STATUS_BAR_FRACTION = 0.03
# A pixel differs when its gray level moves by more than _PIXEL_DELTA. Changed areas shaped like a
# text cursor (a vertical line: at most _CURSOR_WIDTH thumbnail pixels wide, at least _CURSOR_HEIGHT
# tall) are ignored, since a blinking cursor is not the app changing; a frame differs when more than
# _CHANGED_FRACTION of its pixels differ outside such blobs (below a turning spinner or a typed word).
_PIXEL_DELTA = 12
_CURSOR_WIDTH = 2
_CURSOR_HEIGHT = 6
_CHANGED_FRACTION = 0.00004

Thumbnail = np.ndarray


def thumbnail(png: bytes) -> Thumbnail | None:
    """A small grayscale version of a PNG without its status bar (None when it does not decode)."""
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_4)
    if image is None:
        return None
    return image[int(image.shape[0] * STATUS_BAR_FRACTION) :]


def same_screen(a: Thumbnail | None, b: Thumbnail | None) -> bool:
    """True when two thumbnails show the same screen, ignoring tiny changes and a blinking cursor."""
    if a is None or b is None or a.shape != b.shape:
        return False
    mask = (cv2.absdiff(a, b) > _PIXEL_DELTA).astype(np.uint8)
    limit = _CHANGED_FRACTION * a.size
    changed = int(np.count_nonzero(mask))
    if changed <= limit:
        return True
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    for width, height, area in stats[1:count, [cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT, cv2.CC_STAT_AREA]]:
        if width <= _CURSOR_WIDTH and height >= _CURSOR_HEIGHT:
            changed -= int(area)
    return changed <= limit


class Frame:
    """A captured frame whose thumbnail is decoded only when byte equality cannot decide."""

    def __init__(self, screenshot: Screenshot) -> None:
        self.screenshot = screenshot
        self._thumbnail: Thumbnail | None = None
        self._decoded = False

    def thumbnail(self) -> Thumbnail | None:
        """The frame's thumbnail, decoded once."""
        if not self._decoded:
            self._thumbnail, self._decoded = thumbnail(self.screenshot.png), True
        return self._thumbnail

    def same(self, other: Frame) -> bool:
        """True when both frames show the same screen."""
        # Phones encode identical screens to identical PNGs, so equal bytes need no decoding.
        return self.screenshot.png == other.screenshot.png or same_screen(self.thumbnail(), other.thumbnail())
