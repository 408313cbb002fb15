"""PhoneUI: the screen of one virtual phone, driven by taps, swipes, keys and text, observed as pixels and XML."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from PIL import Image, ImageDraw

from phone_agent.sim.ui import widgets
from phone_agent.sim.ui.apps.base import Page
from phone_agent.sim.ui.apps.generic import installed_app
from phone_agent.sim.ui.apps.shop import SHOP, Shop, search_results
from phone_agent.sim.ui.chrome import KEYGUARD
from phone_agent.sim.ui.dialogs import Dialog
from phone_agent.sim.ui.draw import DARK, LIGHT, Painter, Palette
from phone_agent.sim.ui.keys import Key
from phone_agent.sim.ui.power import ScreenPower
from phone_agent.sim.ui.session import Session
from phone_agent.sim.ui.widgets import Kind, Widget, contains, hit_path, max_scroll, walk
from phone_agent.sim.ui.windows import nav_bar_height, progress_rect, screen_windows

DOUBLE_TAP_S = 0.3
LONG_PRESS_MS = 500
TOUCH_SLOP_PX = 10
FLING_MS = 200
CLOCK_START_MINUTES = 9 * 60 + 41  # the status bar shows 9:41 at boot


class PhoneUI:
    """Screens, widgets and apps of one virtual phone; the clock is injected so nothing sleeps."""

    def __init__(self, width: int = 1080, height: int = 2400, *, clock: Callable[[], float] = time.monotonic,
                 latency_ms: int = 0) -> None:
        self.width = width
        self.height = height
        self.latency_ms = latency_ms
        self.rotation = 0  # what the hierarchy reports; the phone lays the screen out for it
        self._clock = clock
        # Hears app starts and force-stops: (kind, package, activity, cold); the phone logs them.
        self.listener: Callable[[str, str, str, bool], None] = lambda kind, package, activity, cold: None
        self.resize(width, height)
        self.reset()

    # --- control knobs ---
    def reset(self) -> None:
        """Back to a freshly booted phone: home screen, default data, no pop-ups, no transition."""
        self._session = Session(self._clock, lambda *event: self.listener(*event))
        self._boot_display(locked=False)

    def reboot(self) -> None:
        """A restart: every app closed, dialogs gone, the lock screen up; installed apps and their data kept."""
        with self._input():
            self._session.reboot()
            self._boot_display(locked=True)

    def _boot_display(self, locked: bool) -> None:
        self.power = ScreenPower(locked=locked)
        self._boot = self._clock()
        self._transition_end = -math.inf
        self._animating = False
        self._last_tap: tuple[float, object] | None = None
        self._frame = 0
        self._fingerprint: object = None
        self._image: tuple[int, Image.Image] | None = None

    def set_signed_in(self, value: bool) -> None:
        """Sign the shop's user in or out, as a person would; a waiting sign-in wall moves on to payment."""
        with self._input():
            self._session.data.shop.signed_in = value
            shop = self._session.apps[SHOP]
            assert isinstance(shop, Shop)
            shop.signed_in_changed()

    def show_popup(self, title: str, message: str, buttons: list[str]) -> None:
        """Show a modal alert over whatever is on screen; any of its buttons closes it."""
        with self._input():
            self._session.dialogs.append(Dialog("android", title, message, [(b, None) for b in buttons or ["OK"]]))

    def set_animation(self, value: bool) -> None:
        """Show an ever-moving progress bar, so the screen never settles (for wait-until-settled tests)."""
        with self._input():
            self._animating = value

    def set_toggle(self, name: str, value: bool) -> None:
        """Set a quick setting such as "wifi" or "dark_theme" from outside (e.g. `settings put`)."""
        with self._input():
            self._session.data.toggles[name] = value

    def resize(self, width: int, height: int, density_factor: float = 1.0) -> None:
        """Lay out for a new logical size (`wm size`, a rotation) and density factor (`wm density`)."""
        self.width, self.height = width, height
        self._scale = min(width, height) / 360 * density_factor
        self._painter = Painter(self._scale)
        self._image = None

    def set_screen(self, on: bool) -> None:
        """Turn the display on or off; turning it off engages the lock screen."""
        with self._input():
            self.power.set(on)

    @property
    def screen_on(self) -> bool:
        """Whether the display is on."""
        return self.power.on

    @property
    def locked(self) -> bool:
        """Whether the lock screen is up."""
        return self.power.locked

    # --- input ---
    def tap(self, x: int, y: int) -> None:
        """A finger tap at a pixel; two taps on the same target within 300 ms are a double tap."""
        if not self._on_screen(x, y) or not self.power.interactive:
            return
        with self._input():
            path = self._touch(x, y)
            double = next((w for w in reversed(path) if w.on_double), None)
            now, last = self._clock(), self._last_tap
            self._last_tap = None
            if double is not None and double.on_double is not None:
                key = (double.rid, double.bounds)
                if last and last[1] == key and now - last[0] <= DOUBLE_TAP_S:
                    double.on_double()
                    return
                self._last_tap = (now, key)
            target = next((w.on_tap for w in reversed(path) if w.on_tap), None)
            if target is not None:
                target()

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int) -> None:
        """A long press when the finger stays put for 500 ms or more, a tap when brief, else a scroll.

        On the lock screen, an upward swipe of a fifth of the screen or more unlocks.
        """
        if not self._on_screen(x1, y1) or not self.screen_on:
            return
        if self.locked:
            with self._input():
                self.power.swipe_on_lock_screen(y1 - y2, self.height)
            return
        if abs(x2 - x1) <= TOUCH_SLOP_PX and abs(y2 - y1) <= TOUCH_SLOP_PX:
            if duration_ms < LONG_PRESS_MS:
                self.tap(x1, y1)
                return
            with self._input():
                action = next((w.on_long for w in reversed(self._touch(x1, y1)) if w.on_long), None)
                if action is not None:
                    action()
            return
        with self._input():
            if self._session.dialogs:
                return
            lists = [w for w in self._touch(x1, y1) if w.kind is Kind.LIST]
            if lists and abs(y2 - y1) >= abs(x2 - x1):
                view = lists[-1]
                page = self._session.front()
                distance = (y1 - y2) * (2 if duration_ms < FLING_MS else 1)
                offset = page.scroll.get(view.rid, 0) + distance
                page.scroll[view.rid] = max(0, min(offset, max_scroll(view)))

    def key(self, keycode: int) -> None:
        """An Android key event: power keys, HOME, BACK, ENTER (submits), DEL, APP_SWITCH; others are ignored."""
        with self._input():
            if self.power.key(keycode):
                return
            page = self._session.front()
            match keycode:
                case Key.HOME:
                    self._session.home()
                case Key.BACK:
                    self._session.back()
                case Key.ENTER if page.focus and not self._session.dialogs:
                    page.submit(page.focus)
                case Key.DEL if page.focus and not self._session.dialogs:
                    page.fields[page.focus] = page.fields.get(page.focus, "")[:-1]
                case Key.APP_SWITCH:
                    self._session.overview()
                case _:
                    pass

    def insert_text(self, text: str) -> bool:
        """Type text at the end of the focused field; False when no field has focus."""
        page = self._focused_page()
        if page is None or page.focus is None:
            return False
        with self._input():
            page.fields[page.focus] = page.fields.get(page.focus, "") + text
        return True

    def clear_text(self) -> bool:
        """Empty the focused field; False when no field has focus."""
        page = self._focused_page()
        if page is None or page.focus is None:
            return False
        with self._input():
            page.fields[page.focus] = ""
        return True

    # --- apps ---
    def apps(self) -> dict[str, str]:
        """Installed package -> its launcher activity."""
        return {package: app.launcher for package, app in self._session.apps.items()}

    def launchable(self) -> list[tuple[str, str]]:
        """(label, package) of every app with a launcher icon."""
        return self._session.launchable()

    def activities(self, package: str) -> list[str]:
        """Every activity class of a package ([] for an unknown package)."""
        app = self._session.apps.get(package)
        return list(app.pages) if app else []

    def install(self, package: str, app_label: str, activity: str) -> None:
        """Put an app from an APK on the phone, with a launcher icon and a generic screen."""
        with self._input():
            self._session.install(installed_app(package, app_label, activity))

    def uninstall(self, package: str) -> None:
        """Remove an installed app (it stops first)."""
        with self._input():
            self._session.uninstall(package)

    def start(self, package: str, activity: str | None = None) -> bool:
        """Bring an app to the front (opening `activity` when given); False for an unknown package or activity."""
        if activity is not None and activity.startswith("."):
            activity = package + activity
        with self._input():
            return self._session.start(package, activity)

    def force_stop(self, package: str) -> None:
        """Kill an app; its task disappears and the task below shows."""
        with self._input():
            self._session.force_stop(package)

    def clear_data(self, package: str) -> None:
        """Kill an app and erase what it stored (``pm clear``); system settings such as toggles stay."""
        with self._input():
            self._session.clear_data(package)

    def foreground(self) -> tuple[str, str]:
        """(package, activity) of the page in front."""
        page = self._session.front()
        return page.app.package, page.activity

    def back_stack(self) -> list[tuple[str, str]]:
        """(package, activity) of every open page, the bottom one first and the front one last."""
        return self._session.back_stack()

    # --- observation ---
    def render(self, *, keyboard_label: str | None = None) -> Image.Image:
        """What the screen shows now: the settled frame, or a loading frame during a transition; black when off."""
        if not self.screen_on:
            return Image.new("RGB", (self.width, self.height), (0, 0, 0))
        self._sync_frame()
        if self._image is None or self._image[0] != self._frame:
            image = Image.new("RGB", (self.width, self.height), self._palette().bg)
            self._painter.paint(image, self._windows(), self._palette())
            self._image = (self._frame, image)
        now, palette = self._clock(), self._palette()
        if now < self._transition_end:
            shown = self._painter.loading(self._image[1], now - self._boot, palette)
        else:
            shown = self._image[1].copy()
        if self._animating:
            value = self._painter.progress_value(now - self._boot)
            self._painter.progress(ImageDraw.Draw(shown), progress_rect(self.width, self._scale), value, palette)
        if keyboard_label and self._focused_page() is not None:
            self._painter.keyboard_bar(shown, keyboard_label, self.height - nav_bar_height(self._scale), palette)
        return shown

    def is_secure(self) -> bool:
        """Whether the front page is FLAG_SECURE (a real screencap of it comes out black)."""
        return self._session.front().secure

    def hierarchy_xml(self) -> str:
        """A uiautomator dump of the current screen, with the visible bounds of every node."""
        package = KEYGUARD if self.locked else self.foreground()[0]
        return widgets.hierarchy_xml(self._windows(), package, rotation=self.rotation)

    def frame_id(self) -> int:
        """A number that grows each time the settled screen content changes."""
        self._sync_frame()
        return self._frame

    def settled(self) -> bool:
        """False while a transition frame shows or the progress animation runs."""
        return not self._animating and self._clock() >= self._transition_end

    def state(self) -> dict[str, Any]:
        """A JSON-able snapshot of what the phone shows and what the apps have recorded."""
        session, data = self._session, self._session.data
        page = session.front()
        fields = {w.rid: w.text for root in self._windows() for w, _ in walk(root) if w.kind is Kind.FIELD}
        results = search_results(data.shop.query) if data.shop.query else []
        return {
            "foreground": {"package": page.app.package, "activity": page.activity},
            "back_stack": [{"package": p, "activity": a} for p, a in session.back_stack()],
            "text_fields": fields,
            "focused_field": page.focus if self._focused_page() else None,
            "screen_texts": [w.text for root in self._windows() for w, _ in walk(root) if w.text and not w.password],
            "toggles": dict(data.toggles),
            "sent_messages": [dict(m) for m in data.sent_messages],
            "alarms": [dict(a) for a in data.alarms],
            "shop": {"query": data.shop.query, "results": results, "item": data.shop.item,
                     "signed_in": data.shop.signed_in, "purchased": [dict(p) for p in data.shop.purchased],
                     "watchlist": list(data.shop.watchlist)},
            "popup": self._session.dialogs[-1].state() if self._session.dialogs else None,
            "popup_log": [dict(entry) for entry in data.popup_log],
            "secure": page.secure,
            "settled": self.settled(),
            "frame_id": self.frame_id(),
            "animating": self._animating,
        }

    # --- internals ---
    @contextmanager
    def _input(self) -> Iterator[None]:
        """Wrap one input: if it changed the front page, a transition starts; the frame number catches up."""
        before = self._session.front()
        try:
            yield
        finally:
            if self._session.front() is not before and self.latency_ms > 0:
                self._transition_end = self._clock() + self.latency_ms / 1000
            self._sync_frame()

    def _on_screen(self, x: int, y: int) -> bool:
        """Whether a point lies on the display."""
        return 0 <= x < self.width and 0 <= y < self.height

    def _focused_page(self) -> Page | None:
        """The front page when it has a focused field and no dialog or lock screen covers it."""
        if not self.power.interactive:
            return None
        page = self._session.front()
        return page if page.focus and not self._session.dialogs else None

    def _touch(self, x: int, y: int) -> list[Widget]:
        """The widgets under a finger; an open dialog takes every touch, and a menu closes on an outside one."""
        roots = self._windows()
        if self._session.dialogs:
            dialog, box = self._session.dialogs[-1], roots[-1]
            if contains(box.bounds, x, y):
                return hit_path(box, x, y)
            if dialog.menu:
                self._session.dismiss(dialog, "")
            return []
        for root in reversed(roots):
            path = hit_path(root, x, y)
            if path:
                return path
        return []

    def _palette(self) -> Palette:
        """The colours of the current theme."""
        return DARK if self._session.data.toggles.get("dark_theme") else LIGHT

    def _windows(self) -> list[Widget]:
        """The window roots of the current screen, bottom first."""
        minutes = CLOCK_START_MINUTES + int(max(0.0, self._clock() - self._boot) // 60)
        return screen_windows(self._session, self.width, self.height, self._scale, self._painter.fonts,
                              locked=self.locked, keyboard=self._focused_page() is not None,
                              animating=self._animating, minutes=minutes)

    def _sync_frame(self) -> None:
        """Advance the frame number when the settled content differs from the last one seen."""
        fingerprint = (tuple(root.fingerprint() for root in self._windows()), self._palette())
        if fingerprint != self._fingerprint:
            self._fingerprint = fingerprint
            self._frame += 1
