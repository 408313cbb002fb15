"""The display's power and the lock screen: whether a touch or a key reaches the apps at all."""

from __future__ import annotations

from phone_agent.sim.ui.keys import Key

UNLOCK_SWIPE_FRACTION = 5  # an upward swipe of a fifth of the screen height unlocks


class ScreenPower:
    """Display on or off, lock screen up or down; only an awake, unlocked phone passes input to its apps."""

    def __init__(self, *, locked: bool) -> None:
        """A screen that is on, showing the lock screen when `locked` (as after a reboot)."""
        self.on = True
        self.locked = locked

    @property
    def interactive(self) -> bool:
        """Whether the apps receive input: the screen is on and unlocked."""
        return self.on and not self.locked

    def set(self, on: bool) -> None:
        """Turn the display on or off; turning it off engages the lock screen."""
        self.on = on
        self.locked = self.locked or not on

    def key(self, keycode: int) -> bool:
        """Take a power key, or any key while not interactive (MENU dismisses the lock screen); False passes it on."""
        if keycode in (Key.POWER, Key.SLEEP, Key.WAKEUP):
            self.set(not self.on if keycode == Key.POWER else keycode == Key.WAKEUP)
            return True
        if self.interactive:
            return False
        if keycode == Key.MENU and self.on:
            self.locked = False
        return True

    def swipe_on_lock_screen(self, rise: int, screen_height: int) -> None:
        """A swipe on the lock screen: one `rise` pixels upward, a fifth of the screen or more, unlocks."""
        if rise >= screen_height // UNLOCK_SWIPE_FRACTION:
            self.locked = False
