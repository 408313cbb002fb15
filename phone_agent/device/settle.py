"""Waiting until the screen stops changing, instead of sleeping a fixed time after each action.

``auto`` captures frames until two in a row match. The first frames after an action may still show
the old screen (the app has not reacted yet), so a frame identical to the one before the action only
counts as settled after a short grace period. The settled frame is returned so that it serves as the
next observation: no extra capture. A device that streams its screen (``LiveScreen``) is not captured
at all: it counts content changes itself, and the screen is settled once none came for a quiet window.
A device that can tell whether its screen stayed exactly the same for a quiet window after a capture
(``HeldScreen``) settles with one capture when it did.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from actions.device import Device, Screenshot
from phone_agent.device.frames import Frame, frame_of


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


@runtime_checkable
class LiveScreen(Protocol):
    """A device whose screen arrives as a live stream, so settling watches it instead of capturing frames."""

    def screen_changes(self) -> int:
        """How many times the screen's content has changed since this device's last input."""
        ...

    def screenshot(self) -> Screenshot:
        """The newest frame of the stream."""
        ...


@runtime_checkable
class HeldScreen(Protocol):
    """A device that can tell, with a capture, whether the screen stayed the same for a while after it."""

    def screenshot_held(self, hold: float) -> tuple[Screenshot, bool]:
        """A capture, and True when the screen was exactly the same ``hold`` seconds after it began."""
        ...

    def screenshot(self) -> Screenshot:
        """The screen now."""
        ...


@dataclass(frozen=True)
class Settled:
    """The frame to observe next (None with ``off``: capture afresh), the wait, and whether it really settled."""

    frame: Frame | None
    seconds: float
    settled: bool
    frames: int


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
    # A live stream is still once no changed frame came for `quiet` seconds; it is looked at every `poll`.
    # A held screen is still once it showed exactly the same `quiet` seconds after a capture.
    quiet: float = 0.15
    poll: float = 0.02

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
        if isinstance(device, LiveScreen):
            return self._until_quiet(device, start)
        return self._until_still(device, frame_of(before) if before is not None else None, start)

    def _until_quiet(self, device: LiveScreen, start: float) -> Settled:
        """Watch a live stream until no changed frame came for ``quiet`` seconds; the frame then is the result."""
        seen = device.screen_changes()
        changed_at = start
        while True:
            now = self.clock()
            changes = device.screen_changes()
            if changes != seen:
                seen, changed_at = changes, now
            waited = now - start
            # No change at all yet: the app may not have reacted, so the old screen counts only after the grace.
            still = now - changed_at >= self.quiet and (seen > 0 or waited >= self.reaction_grace)
            if still or waited >= self.max_wait:
                return Settled(frame_of(device.screenshot()), self.clock() - start, still, seen)
            self.sleep(self.poll)

    def _until_still(self, device: Device, before: Frame | None, start: float) -> Settled:
        """Capture until a frame is still: held for ``quiet`` seconds on the phone, or the same as the last one."""
        previous: Frame | None = None
        frames = 0
        while True:
            captured_at, frames = self.clock(), frames + 1
            shot, held = self._capture(device)
            current = frame_of(shot)
            if held or (previous is not None and previous.same(current)):
                # Still, but perhaps still the old screen: give the app a moment to react first. The
                # moment looked at last must be that late: a capture shows when it began, not when it ended.
                looked = captured_at + (self.quiet if held else 0.0)
                unchanged = before is not None and before.same(current)
                if not unchanged or looked - start >= self.reaction_grace:
                    return Settled(current, self.clock() - start, True, frames)
            elapsed = self.clock() - start
            if elapsed >= self.max_wait:
                return Settled(current, elapsed, False, frames)
            previous = current
            # Space capture starts by `interval`: a slow capture already waited that long.
            self.sleep(max(0.0, self.interval - (self.clock() - captured_at)))

    def _capture(self, device: Device) -> tuple[Screenshot, bool]:
        """A frame, and whether the device saw the screen hold still for ``quiet`` seconds after it."""
        if isinstance(device, HeldScreen):
            return device.screenshot_held(self.quiet)
        return device.screenshot(), False
