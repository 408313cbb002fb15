"""The one mapping from 0-999 model space to screen pixels."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from actions import to_grid, to_pixels


def test_corners_and_centre_on_a_1080x2400_screen() -> None:
    assert to_pixels((0, 0), 1080, 2400) == (0, 1)
    assert to_pixels((999, 999), 1080, 2400) == (1079, 2398)
    assert to_pixels((500, 500), 1080, 2400) == (540, 1201)


def test_y_uses_the_height_not_the_width() -> None:
    # The classic bug: scaling y by the width lands taps far too high on tall screens.
    assert to_pixels((0, 750), 1080, 2400)[1] == 1801


def test_landscape_screens_swap_the_scale() -> None:
    assert to_pixels((500, 500), 2400, 1080) == (1201, 540)


def test_out_of_range_input_is_clamped_to_the_screen() -> None:
    assert to_pixels((5000, -20), 720, 1280) == (719, 0)


@given(st.integers(0, 999), st.integers(0, 999), st.integers(1, 5000), st.integers(1, 5000))
def test_every_point_lands_on_the_screen_and_order_is_kept(x: int, y: int, w: int, h: int) -> None:
    px, py = to_pixels((x, y), w, h)
    assert 0 <= px < w and 0 <= py < h
    if x < 999:
        assert to_pixels((x + 1, y), w, h)[0] >= px


@given(st.integers(0, 999), st.integers(1000, 5000))
def test_a_cell_comes_back_from_its_pixel_on_screens_of_1000_pixels_or_more(cell: int, size: int) -> None:
    assert to_grid(to_pixels((cell, cell), size, size), size, size) == (cell, cell)


@given(st.integers(0, 999), st.integers(1, 1000))
def test_a_pixel_comes_back_from_its_cell_on_smaller_screens(pixel: int, size: int) -> None:
    pixel = min(pixel, size - 1)
    assert to_pixels(to_grid((pixel, pixel), size, size), size, size) == (pixel, pixel)


def test_grid_of_pixels_on_a_1080x2400_screen() -> None:
    assert to_grid((0, 0), 1080, 2400) == (0, 0)
    assert to_grid((1079, 2399), 1080, 2400) == (999, 999)
    assert to_grid((540, 1200), 1080, 2400) == (500, 500)
    assert to_grid((5000, -3), 1080, 2400) == (999, 0)
