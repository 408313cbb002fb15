"""Waiting until the screen stops changing, instead of sleeping a fixed time after each action."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from actions.device import Device, Screenshot

# Frames are compared as grayscale thumbnails at 1/8 scale, without the status bar (top 4 %), so
# the clock ticking or a notification icon does not count as the app changing.
_STATUS_BAR_FRACTION = 0.04
# A pixel differs when its gray level moves by more than this; a frame differs when more than
# _CHANGED_FRACTION of its pixels do. A blinking text cursor is far below that fraction.
_PIXEL_DELTA = 12
_CHANGED_FRACTION = 0.002


@dataclass(frozen=True)
class Settled:
    """The frame the screen settled on, how long that took, and whether it really settled."""

    screenshot: Screenshot
    seconds: float
    settled: bool
    frames: int


def thumbnail(png: bytes) -> np.ndarray | None:
    """A small grayscale version of a PNG without its status bar (None when it does not decode)."""
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_8)
    if image is None:
        return None
    return image[int(image.shape[0] * _STATUS_BAR_FRACTION) :]


def same_screen(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    """True when two thumbnails show the same screen, ignoring tiny changes."""
    if a is None or b is None or a.shape != b.shape:
        return False
    changed = np.count_nonzero(cv2.absdiff(a, b) > _PIXEL_DELTA)
    return bool(changed <= _CHANGED_FRACTION * a.size)


def wait_until_settled(
    device: Device,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    max_wait: float = 3.0,
    min_wait: float = 0.0,
    interval: float = 0.05,
) -> Settled:
    """Capture frames until two in a row match, or ``max_wait`` seconds have passed.

    The last frame captured is returned so that it can serve as the next observation.
    """
    start = clock()
    if min_wait > 0:
        sleep(min_wait)
    previous = device.screenshot()
    previous_thumb = thumbnail(previous.png)
    frames = 1
    while True:
        if clock() - start >= max_wait:
            return Settled(previous, clock() - start, False, frames)
        sleep(interval)
        current = device.screenshot()
        current_thumb = thumbnail(current.png)
        frames += 1
        if same_screen(previous_thumb, current_thumb):
            return Settled(current, clock() - start, True, frames)
        previous, previous_thumb = current, current_thumb
