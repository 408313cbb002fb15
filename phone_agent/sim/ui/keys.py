"""The Android keycodes the virtual phone reacts to."""

from enum import IntEnum


class Key(IntEnum):
    """Keycodes as `input keyevent` sends them."""

    HOME = 3
    BACK = 4
    POWER = 26
    ENTER = 66
    DEL = 67
    MENU = 82  # dismisses a swipe-only lock screen, as on Android
    APP_SWITCH = 187
    SLEEP = 223
    WAKEUP = 224
