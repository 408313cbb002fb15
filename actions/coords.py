"""Mapping between the model's 0-999 coordinate space and screen pixels."""

from __future__ import annotations

MODEL_SPACE = 1000


def to_pixels(point: tuple[int, int], width: int, height: int) -> tuple[int, int]:
    """Map a 0-999 model point to a pixel of a ``width`` x ``height`` screenshot.

    The model divides each axis into 1000 equal cells; cell ``i`` covers pixels
    ``[i * size / 1000, (i + 1) * size / 1000)``. We return the pixel at the cell's centre, rounded
    down, so 0 maps near the left/top edge, 999 near the right/bottom edge, and every result lies on
    the screen. Out-of-range input is clamped to the screen rather than trusted.
    """
    x, y = point
    return _axis(x, width), _axis(y, height)


def _axis(value: int, size: int) -> int:
    pixel = int((value + 0.5) * size / MODEL_SPACE)
    return min(max(pixel, 0), size - 1)


def to_grid(pixel: tuple[int, int], width: int, height: int) -> tuple[int, int]:
    """The 0-999 cell holding a pixel of a ``width`` x ``height`` screen: ``to_pixels`` maps it back into that cell."""
    x, y = pixel
    return _cell(x, width), _cell(y, height)


def _cell(pixel: int, size: int) -> int:
    # The cell holding the pixel's centre (pixel + 0.5), which is where ``to_pixels`` looks from the other side.
    return min(max((2 * pixel + 1) * MODEL_SPACE // (2 * size), 0), MODEL_SPACE - 1)
