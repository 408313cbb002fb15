"""The system bars around every app: the status bar on top and the navigation bar at the bottom."""

from __future__ import annotations

from phone_agent.sim.ui.widgets import Action, Kind, Widget


def status_bar(width: int, height: int, scale: float, minutes: int, toggles: dict[str, bool]) -> Widget:
    """Clock on the left; airplane, Wi-Fi and battery on the right."""
    icons = ("\u2708 " if toggles.get("airplane_mode") else "") + ("Wi-Fi " if toggles.get("wifi") else "")
    pad = round(16 * scale)
    bar = Widget(Kind.FRAME, (0, 0, width, height), fill="bar", system=True)
    bar.children += [
        Widget(Kind.TEXT, (pad, 0, width // 2, height), text=f"{minutes // 60 % 24}:{minutes % 60:02d}", size=13,
               bold=True),
        Widget(Kind.TEXT, (width // 2, 0, width - pad, height), text=f"{icons}\u25ae 87%", size=13, center=True),
    ]
    return bar


def nav_bar(width: int, screen_height: int, height: int, back: Action, home: Action, overview: Action) -> Widget:
    """Back, home and overview buttons, each a third of the width."""
    top = screen_height - height
    bar = Widget(Kind.FRAME, (0, top, width, screen_height), fill="bar", system=True)
    third = width // 3
    for index, (glyph, action) in enumerate((("\u25c1", back), ("\u25cb", home), ("\u25a1", overview))):
        bar.children.append(Widget(Kind.TEXT, (index * third, top, (index + 1) * third, screen_height), text=glyph,
                                   size=22, center=True, on_tap=action))
    return bar


KEYGUARD = "com.android.systemui"


def keyguard(width: int, top: int, height: int, scale: float, minutes: int) -> Widget:
    """The lock screen: a large clock and the swipe-up hint, over the whole screen below the status bar."""
    frame = Widget(Kind.FRAME, (0, top, width, height), fill="bg", package=KEYGUARD,
                   rid=f"{KEYGUARD}:id/keyguard_root_view")
    clock_top = top + round(120 * scale)
    frame.children += [
        Widget(Kind.TEXT, (0, clock_top, width, clock_top + round(96 * scale)), rid=f"{KEYGUARD}:id/lockscreen_clock",
               text=f"{minutes // 60 % 24}:{minutes % 60:02d}", size=64, bold=True, center=True),
        Widget(Kind.TEXT, (0, height - round(120 * scale), width, height - round(72 * scale)),
               rid=f"{KEYGUARD}:id/keyguard_indication_text", text="Swipe up to unlock", size=16, center=True),
    ]
    return frame
