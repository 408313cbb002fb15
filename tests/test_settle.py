"""Settling: wait until the screen is still, on an injected clock."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from actions import Screenshot
from phone_agent.device.frames import same_screen, thumbnail
from phone_agent.device.settle import SettleMode, Settler
from tests.support import FakeClock, png

OLD, LOADING_1, LOADING_2, NEW = 40, 120, 160, 220


class TimedScreen:
    """A phone whose screen is a function of the clock: ``frames`` is a list of (until_seconds, shade)."""

    serial = "timed"

    def __init__(self, clock: FakeClock, frames: list[tuple[float, int]]) -> None:
        self.clock, self.frames, self.captures = clock, frames, 0

    def screenshot(self) -> Screenshot:
        self.captures += 1
        shade = next((s for until, s in self.frames if self.clock() < until), self.frames[-1][1])
        return Screenshot(png(shade=shade), 108, 240)


def settler(clock: FakeClock, mode: str = "auto", **kwargs: float) -> Settler:
    return Settler(SettleMode.parse(mode), clock, clock.sleep, **kwargs)


def shade_of(shot: Screenshot | None) -> int:
    assert shot is not None
    return int(Image.open(io.BytesIO(shot.png)).getpixel((50, 120))[0])


def before() -> Screenshot:
    return Screenshot(png(shade=OLD), 108, 240)


def test_waits_through_a_changing_transition_for_the_new_screen() -> None:
    clock = FakeClock()
    # A spinner turns between any two captures (every 50 ms) for half a second.
    spinner = [(0.05 * i + 0.025, LOADING_1 if i % 2 else LOADING_2) for i in range(10)]
    result = settler(clock).wait(TimedScreen(clock, [*spinner, (99, NEW)]), before())
    assert result.settled and shade_of(result.frame) == NEW
    assert 0.5 <= result.seconds <= 0.6


def test_a_late_reaction_is_not_mistaken_for_a_still_screen() -> None:
    clock = FakeClock()
    result = settler(clock).wait(TimedScreen(clock, [(0.2, OLD), (99, NEW)]), before())
    assert shade_of(result.frame) == NEW


def test_an_action_with_no_visible_effect_settles_after_the_grace_period() -> None:
    clock = FakeClock()
    result = settler(clock, reaction_grace=0.4).wait(TimedScreen(clock, [(99, OLD)]), before())
    assert result.settled and shade_of(result.frame) == OLD
    assert 0.4 <= result.seconds < 0.5


def test_a_screen_that_never_settles_returns_after_the_maximum_wait_flagged() -> None:
    clock = FakeClock()
    blinking = [(0.05 * i + 0.025, LOADING_1 if i % 2 else LOADING_2) for i in range(1000)]
    result = settler(clock, max_wait=2.0).wait(TimedScreen(clock, blinking), before())
    assert not result.settled and 2.0 <= result.seconds < 2.1


def test_an_immediate_change_costs_two_captures() -> None:
    clock = FakeClock()
    screen = TimedScreen(clock, [(99, NEW)])
    result = settler(clock).wait(screen, before())
    assert result.settled and screen.captures == 2 and result.seconds == pytest.approx(0.05)


def test_fixed_sleeps_and_off_does_nothing() -> None:
    clock = FakeClock()
    screen = TimedScreen(clock, [(99, NEW)])
    fixed = settler(clock, "fixed:1.5").wait(screen, before())
    assert fixed.frame is None and clock.sleeps == [1.5] and screen.captures == 0
    off = settler(clock, "off").wait(screen, before())
    assert off.frame is None and off.seconds == 0 and clock.sleeps == [1.5]


@pytest.mark.parametrize("text", ["auto", "off", "fixed:1", "fixed:0.25", " AUTO "])
def test_modes_parse(text: str) -> None:
    assert str(SettleMode.parse(text)) == text.strip().lower().replace("fixed:1", "fixed:1")


@pytest.mark.parametrize("text", ["", "fast", "fixed", "fixed:-1", "fixed:abc"])
def test_bad_modes_are_explained(text: str) -> None:
    with pytest.raises(ValueError, match="auto, off or fixed:SECONDS"):
        SettleMode.parse(text)


def screen(draw: callable) -> bytes:  # type: ignore[valid-type]
    image = Image.new("RGB", (1080, 2400), "white")
    ImageDraw.Draw(image).text((40, 400), "Search results for earbuds", fill="black")
    draw(ImageDraw.Draw(image))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_the_clock_and_a_blinking_cursor_are_not_changes_but_a_typed_word_is() -> None:
    base = thumbnail(screen(lambda d: None))
    clock = thumbnail(screen(lambda d: d.rectangle((900, 10, 1060, 70), fill="black")))  # status bar
    cursor = thumbnail(screen(lambda d: d.rectangle((500, 600, 503, 660), fill="black")))
    # A 2 dp cursor on a 3x screen, not aligned to the thumbnail grid, next to a typed word.
    wide_cursor = thumbnail(screen(lambda d: d.rectangle((501, 590, 507, 680), fill="black")))
    word = thumbnail(screen(lambda d: d.rectangle((100, 600, 400, 660), fill="black")))
    spinner = thumbnail(screen(lambda d: d.arc((480, 1140, 600, 1260), 0, 60, fill="blue", width=12)))
    assert same_screen(base, clock) and same_screen(base, cursor) and same_screen(base, wide_cursor)
    assert not same_screen(base, word) and not same_screen(base, spinner)
    assert not same_screen(base, None) and isinstance(base, np.ndarray)


def test_a_minimum_wait_comes_before_the_first_capture() -> None:
    clock = FakeClock()
    screen = TimedScreen(clock, [(0.3, OLD), (99, NEW)])
    result = Settler(SettleMode.parse("auto"), clock, clock.sleep, min_wait=0.3).wait(screen, before())
    assert clock.sleeps[0] == 0.3 and shade_of(result.frame) == NEW and screen.captures == 2


class LiveScreen:
    """A streaming phone: the screen changed at each of ``changes`` (seconds on the clock since the action)."""

    serial = "live"

    def __init__(self, clock: FakeClock, changes: list[float]) -> None:
        self.clock, self.changes, self.captures = clock, changes, 0

    def screen_changes(self) -> int:
        return sum(1 for at in self.changes if at <= self.clock())

    def screenshot(self) -> Screenshot:
        self.captures += 1
        return Screenshot(png(shade=NEW if self.screen_changes() else OLD), 108, 240)


def test_a_live_screen_settles_a_quiet_window_after_its_last_change_with_one_frame_taken() -> None:
    clock = FakeClock()
    phone = LiveScreen(clock, [0.04, 0.1, 0.3])
    result = settler(clock, quiet=0.2, poll=0.02).wait(phone, before())
    assert result.settled and shade_of(result.frame) == NEW
    assert 0.5 <= result.seconds <= 0.52
    assert phone.captures == 1 and result.frames == 3


def test_a_live_screen_that_does_not_react_is_trusted_only_after_the_grace() -> None:
    clock = FakeClock()
    result = settler(clock, quiet=0.2, reaction_grace=0.4).wait(LiveScreen(clock, []), before())
    assert result.settled and shade_of(result.frame) == OLD
    assert 0.4 <= result.seconds <= 0.42


def test_a_live_screen_that_keeps_changing_stops_at_the_max_wait() -> None:
    clock = FakeClock()
    animation = [0.05 * i for i in range(1, 200)]
    result = settler(clock, max_wait=1.0).wait(LiveScreen(clock, animation), before())
    assert not result.settled and 1.0 <= result.seconds <= 1.02


class HeldScreen(TimedScreen):
    """A phone whose captures take ``capture`` seconds and tell whether the screen was the same ``hold`` later."""

    def __init__(self, clock: FakeClock, frames: list[tuple[float, int]], capture: float = 0.5,
                 tells: bool = True) -> None:
        super().__init__(clock, frames)
        self.capture, self.tells = capture, tells

    def shade(self, at: float) -> int:
        return next((s for until, s in self.frames if at < until), self.frames[-1][1])

    def screenshot_held(self, hold: float) -> tuple[Screenshot, bool]:
        began = self.clock()
        shot = self.screenshot()
        self.clock.advance(self.capture)
        return shot, self.tells and self.shade(began + hold) == self.shade(began)


def test_a_screen_that_holds_still_settles_with_one_capture() -> None:
    clock = FakeClock()
    screen = HeldScreen(clock, [(99, NEW)])
    result = settler(clock).wait(screen, before())
    assert result.settled and shade_of(result.frame) == NEW and screen.captures == 1 and result.seconds == 0.5


def test_a_held_old_screen_is_not_taken_before_the_app_had_time_to_react() -> None:
    clock = FakeClock()
    # The old screen holds through the first capture's look, then the app reacts (0.2 s < the 0.4 s grace).
    screen = HeldScreen(clock, [(0.2, OLD), (99, NEW)])
    result = settler(clock, reaction_grace=0.4, quiet=0.15).wait(screen, before())
    assert result.settled and shade_of(result.frame) == NEW and screen.captures == 2


def test_a_held_action_with_no_visible_effect_settles_once_the_looks_span_the_grace() -> None:
    clock = FakeClock()
    screen = HeldScreen(clock, [(99, OLD)])
    result = settler(clock, reaction_grace=0.4, quiet=0.15).wait(screen, before())
    assert result.settled and shade_of(result.frame) == OLD and screen.captures == 2


def test_when_the_phone_cannot_tell_two_matching_captures_settle_as_before() -> None:
    clock = FakeClock()
    screen = HeldScreen(clock, [(99, NEW)], tells=False)
    result = settler(clock).wait(screen, before())
    assert result.settled and shade_of(result.frame) == NEW and screen.captures == 2 and result.seconds == 1.0


def test_a_held_screen_that_keeps_moving_returns_after_the_maximum_wait_flagged() -> None:
    clock = FakeClock()
    moving = [(0.05 * i + 0.025, 60 + 20 * (i % 8)) for i in range(1000)]  # a new picture every 50 ms
    result = settler(clock, max_wait=2.0).wait(HeldScreen(clock, moving, capture=0.3), before())
    assert not result.settled and 2.0 <= result.seconds < 2.4
