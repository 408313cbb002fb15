"""The frame the loop passes between its phases, and comparing screens the way a person would.

A ``Frame`` is a ``Screenshot`` that keeps its grayscale thumbnail: the black check, settling, the stuck
guard and the recorder share it, so a captured image is decoded at most once. Screens are compared
ignoring the status bar and a blinking cursor.
"""

from __future__ import annotations

from collections.abc import Callable

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
_THUMBNAIL_SCALE = 4
_BLACK_LEVEL = 8
# The SUB filter instead of libpng's adaptive choice: measured on a 1080x2400 screen, 3-4x faster for about 5 %
# more bytes on app screens, and about 10 % more where a photo fills half the screen.
_PNG_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 3, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_SUB]


def shrink(gray: np.ndarray) -> Thumbnail:
    """A grayscale (or luma) image at 1/4 scale without its status bar: what screens are compared by."""
    height, width = gray.shape[:2]
    small = cv2.resize(gray, (max(1, width // _THUMBNAIL_SCALE), max(1, height // _THUMBNAIL_SCALE)),
                       interpolation=cv2.INTER_AREA)
    return small[int(small.shape[0] * STATUS_BAR_FRACTION) :]


def thumbnail(png: bytes) -> Thumbnail | None:
    """The thumbnail of a PNG (None when it does not decode)."""
    # Decoded in full and shrunk like raw and video frames: OpenCV's reduced PNG decoding samples differently.
    gray = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    return None if gray is None else shrink(gray)


def encode_png(bgr: np.ndarray) -> bytes:
    """A BGR image as PNG, fast.

    Raises:
        ValueError: OpenCV cannot encode it.
    """
    ok, png = cv2.imencode(".png", bgr, _PNG_PARAMS)
    if not ok:
        raise ValueError("cannot encode the frame as PNG")
    return png.tobytes()


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


class Frame(Screenshot):
    """A screenshot with its thumbnail, and its pixels while it has no PNG yet: each made at most once."""

    def __init__(
        self,
        png: bytes | Callable[[], bytes],
        width: int,
        height: int,
        thumbnail: Thumbnail | None,
        *,
        secure: bool = False,
        failure: str | None = None,
        pixels: Callable[[], np.ndarray] | None = None,
        digest: str | Callable[[], str] | None = None,
    ) -> None:
        super().__init__(png, width, height, secure, failure)
        self.thumbnail = thumbnail
        self._digest = digest
        self._pixels = pixels

    @classmethod
    def from_png(cls, png: bytes, width: int, height: int, *, failure: str | None = None) -> Frame:
        """A frame the phone sent as PNG: decoded once, for its thumbnail; all black means secure."""
        small = thumbnail(png)
        black = small is None or int(small.max()) < _BLACK_LEVEL
        return cls(png, width, height, small, secure=black or failure is not None, failure=failure)

    @classmethod
    def from_pixels(cls, pixels: Callable[[], np.ndarray], width: int, height: int, small: Thumbnail,
                    *, black_level: int = _BLACK_LEVEL, digest: Callable[[], str] | None = None) -> Frame:
        """A frame that reached the host as pixels (``pixels()`` gives them as BGR): PNG-encoded when first asked."""
        frame = cls(lambda: encode_png(frame.pixels()), width, height, small,
                    secure=int(small.max()) < black_level, pixels=pixels, digest=digest)
        return frame

    @property
    def digest(self) -> str | None:
        """The MD5 of the bytes the phone sent, for matching a later capture against (None when unknown).

        Hashing 10 MB takes ~20 ms, so it happens when first asked; a digest not asked for before the PNG
        exists is let go with the raw bytes (a frame already encoded for the model is not matched again).
        """
        if callable(self._digest):
            self._digest = self._digest()
        return self._digest

    @property
    def png(self) -> bytes:
        """The frame as PNG; once it exists, the pixels it was made from are let go (frames are kept per step)."""
        png = super().png
        self._pixels = None
        if callable(self._digest):
            self._digest = None
        return png

    def pixels(self) -> np.ndarray:
        """The frame as a BGR image, without a PNG round trip when it came as pixels.

        Raises:
            ValueError: the PNG does not decode.
        """
        if self._pixels is not None:
            return self._pixels()
        image = cv2.imdecode(np.frombuffer(self.png, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError("the screenshot is not a decodable image")
        return image

    def same(self, other: Frame) -> bool:
        """True when both frames show the same screen."""
        return same_screen(self.thumbnail, other.thumbnail)


def frame_of(shot: Screenshot) -> Frame:
    """``shot`` as a Frame (a device's own frames already are one)."""
    if isinstance(shot, Frame):
        return shot
    return Frame(shot.png, shot.width, shot.height, thumbnail(shot.png), secure=shot.secure, failure=shot.failure)
