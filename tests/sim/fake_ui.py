"""A tiny stand-in with PhoneUI's interface, for testing the ADB side on its own."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PIL import Image, ImageDraw

APPS = {
    "com.android.launcher3": "com.android.launcher3.Launcher",
    "com.ebay.mobile": "com.ebay.mobile.MainActivity",
    "com.android.settings": "com.android.settings.Settings",
}


class FakeUI:
    """Records every call; one text field that has focus after a tap in the top half."""

    def __init__(self, width: int = 1080, height: int = 2400, *, clock: Callable[[], float] = time.monotonic,
                 latency_ms: int = 0) -> None:
        """Start on the launcher."""
        self.width, self.height, self.clock, self.latency_ms = width, height, clock, latency_ms
        self.reset()

    def reset(self) -> None:
        """Back to the launcher with nothing typed."""
        self.calls: list[tuple[Any, ...]] = []
        self.stack: list[tuple[str, str]] = [("com.android.launcher3", APPS["com.android.launcher3"])]
        self.text = ""
        self.focused = False
        self.frame = 1
        self.secure = False
        self.signed_in = False
        self.popup: tuple[str, str, list[str]] | None = None

    def _changed(self) -> None:
        self.frame += 1

    def tap(self, x: int, y: int) -> None:
        """A tap in the top half focuses the field."""
        self.calls.append(("tap", x, y))
        if 0 <= y < self.height // 2:
            self.focused = True
        self._changed()

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int) -> None:
        """Recorded only."""
        self.calls.append(("swipe", x1, y1, x2, y2, duration_ms))
        self._changed()

    def key(self, keycode: int) -> None:
        """HOME, BACK and DEL do what Android does."""
        self.calls.append(("key", keycode))
        if keycode == 3:
            self.stack = self.stack[:1]
        elif keycode == 4 and len(self.stack) > 1:
            self.stack.pop()
        elif keycode == 67:
            self.text = self.text[:-1]
        self._changed()

    def insert_text(self, text: str) -> bool:
        """Append to the field when it has focus."""
        self.calls.append(("insert_text", text))
        if not self.focused:
            return False
        self.text += text
        self._changed()
        return True

    def clear_text(self) -> bool:
        """Empty the field when it has focus."""
        if not self.focused:
            return False
        self.text = ""
        self._changed()
        return True

    def apps(self) -> dict[str, str]:
        """Installed packages."""
        return dict(APPS)

    def activities(self, package: str) -> list[str]:
        """One activity per package."""
        return [APPS[package]] if package in APPS else []

    def start(self, package: str, activity: str | None = None) -> bool:
        """Push the package on the stack."""
        if package not in APPS or (activity is not None and activity != APPS[package]):
            return False
        self.stack.append((package, APPS[package]))
        self._changed()
        return True

    def force_stop(self, package: str) -> None:
        """Remove the package from the stack."""
        self.stack = [entry for entry in self.stack if entry[0] != package] or self.stack[:1]
        self._changed()

    def foreground(self) -> tuple[str, str]:
        """Top of the stack."""
        return self.stack[-1]

    def back_stack(self) -> list[tuple[str, str]]:
        """The whole stack, bottom first."""
        return list(self.stack)

    def render(self, *, keyboard_label: str | None = None) -> Image.Image:
        """A colour per frame plus the typed text, so screens differ."""
        image = Image.new("RGB", (self.width, self.height), (20, 40 + self.frame % 200, 90))
        draw = ImageDraw.Draw(image)
        draw.text((10, 10), f"{self.foreground()[0]} {self.text}", fill=(255, 255, 255))
        if keyboard_label and self.focused:
            draw.text((10, self.height - 40), keyboard_label, fill=(255, 255, 0))
        return image

    def is_secure(self) -> bool:
        """The payment screen flag."""
        return self.secure

    def hierarchy_xml(self) -> str:
        """A one-node dump."""
        return ("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation=\"0\">"
                f"<node text=\"{self.text}\" resource-id=\"search\" class=\"android.widget.EditText\" "
                f"clickable=\"true\" bounds=\"[0,0][{self.width},200]\" /></hierarchy>")

    def frame_id(self) -> int:
        """Changes with every input."""
        return self.frame

    def settled(self) -> bool:
        """Never mid-transition."""
        return True

    def state(self) -> dict[str, Any]:
        """What tests read."""
        package, activity = self.foreground()
        return {"foreground": {"package": package, "activity": activity}, "text_fields": {"search": self.text},
                "focused_field": "search" if self.focused else None, "popup": self.popup}

    def set_signed_in(self, value: bool) -> None:
        """Recorded."""
        self.signed_in = value

    def show_popup(self, title: str, message: str, buttons: list[str]) -> None:
        """Recorded."""
        self.popup = (title, message, buttons)
        self._changed()
