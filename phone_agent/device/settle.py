"""Waiting until the screen stops changing, instead of sleeping a fixed time after each action.

``auto`` captures frames until two in a row match. The first frames after an action may still show
the old screen (the app has not reacted yet), so a frame identical to the one before the action only
counts as settled after a short grace period. The settled frame is returned so that it serves as the
next observation: no extra capture.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from actions.device import Device, Screenshot

# Frames are compared as grayscale thumbnails at 1/4 scale without the status bar (top 3 %), so the
# clock ticking or a notification icon does not count as the app changing (24 dp on a 1080x2400 screen).
_STATUS_BAR_FRACTION = 0.03
# A pixel differs when its gray level moves by more than _PIXEL_DELTA; a frame differs when more than
# _CHANGED_FRACTION of its pixels do. That is above a blinking text cursor (a few thumbnail pixels)
# and below a turning loading spinner or a typed character.
_PIXEL_DELTA = 12
_CHANGED_FRACTION = 0.00015

Thumbnail = np.ndarray


@dataclass(frozen=True)
class SettleMode:
    """How to wait after an action: ``auto`` (until the screen is still), ``fixed`` seconds, or ``off``."""

    kind: str
    seconds: float = 0.0

    @classmethod
    def parse(cls, text: str) -> SettleMode:
        """Read ``auto``, ``off`` or ``fixed:SECONDS``.

        Raises:
            ValueError: anything else.
        """
        value = text.strip().lower()
        if value in ("auto", "off"):
            return cls(value)
        match = re.fullmatch(r"fixed:(\d+(?:\.\d+)?)", value)
        if match is None:
            raise ValueError(f"--settle must be auto, off or fixed:SECONDS (e.g. fixed:1.0), not {text!r}")
        return cls("fixed", float(match.group(1)))

    def __str__(self) -> str:
        return f"fixed:{self.seconds:g}" if self.kind == "fixed" else self.kind


@dataclass(frozen=True)
class Settled:
    """The frame to observe next (None with ``off``: capture afresh), the wait, and whether it really settled."""

    screenshot: Screenshot | None
    seconds: float
    settled: bool
    frames: int


def thumbnail(png: bytes) -> Thumbnail | None:
    """A small grayscale version of a PNG without its status bar (None when it does not decode)."""
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_4)
    if image is None:
        return None
    return image[int(image.shape[0] * _STATUS_BAR_FRACTION) :]


def same_screen(a: Thumbnail | None, b: Thumbnail | None) -> bool:
    """True when two thumbnails show the same screen, ignoring tiny changes."""
    if a is None or b is None or a.shape != b.shape:
        return False
    changed = np.count_nonzero(cv2.absdiff(a, b) > _PIXEL_DELTA)
    return bool(changed <= _CHANGED_FRACTION * a.size)


@dataclass(frozen=True)
class Settler:
    """Waits after actions according to a mode, on an injected clock."""

    mode: SettleMode
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    max_wait: float = 3.0
    min_wait: float = 0.0
    interval: float = 0.05
    reaction_grace: float = 0.4

    def wait(self, device: Device, before: Screenshot | None) -> Settled:
        """Wait after an action on ``device``; ``before`` is the frame the action was decided on."""
        start = self.clock()
        if self.mode.kind == "off":
            return Settled(None, 0.0, True, 0)
        if self.mode.kind == "fixed":
            self.sleep(self.mode.seconds)
            return Settled(None, self.clock() - start, True, 0)
        if self.min_wait > 0:
            self.sleep(self.min_wait)
        return self._until_still(device, before, start)

    def _until_still(self, device: Device, before: Screenshot | None, start: float) -> Settled:
        reference = _Frame(before) if before is not None else None
        captured_at, frames = self.clock(), 1
        previous = _Frame(device.screenshot())
        while True:
            elapsed = self.clock() - start
            if elapsed >= self.max_wait:
                return Settled(previous.screenshot, elapsed, False, frames)
            # Space capture starts by `interval`: a slow capture already waited that long.
            self.sleep(max(0.0, self.interval - (self.clock() - captured_at)))
            captured_at, frames = self.clock(), frames + 1
            current = _Frame(device.screenshot())
            if previous.same(current):
                # Still, but perhaps still the old screen: give the app a moment to react first.
                unchanged = reference is not None and reference.same(current)
                if not unchanged or self.clock() - start >= self.reaction_grace:
                    return Settled(current.screenshot, self.clock() - start, True, frames)
            previous = current


class _Frame:
    """A captured frame whose thumbnail is decoded only when byte equality cannot decide."""

    def __init__(self, screenshot: Screenshot) -> None:
        self.screenshot = screenshot
        self._thumbnail: Thumbnail | None = None
        self._decoded = False

    def thumbnail(self) -> Thumbnail | None:
        if not self._decoded:
            self._thumbnail, self._decoded = thumbnail(self.screenshot.png), True
        return self._thumbnail

    def same(self, other: _Frame) -> bool:
        # Phones encode identical screens to identical PNGs, so equal bytes need no decoding.
        return self.screenshot.png == other.screenshot.png or same_screen(self.thumbnail(), other.thumbnail())
