"""Clock (com.android.deskclock): alarms with a long-press Delete menu, and a page to add one."""

from __future__ import annotations

import re
from typing import Any

from phone_agent.sim.ui.apps.base import App, Page, Screen, button, label, text_field, title_bar
from phone_agent.sim.ui.widgets import Action, Kind, Rect, Widget, list_view

DESKCLOCK = "com.android.deskclock"
TIME_FIELD = f"{DESKCLOCK}:id/alarm_time"
LABEL_FIELD = f"{DESKCLOCK}:id/alarm_label"
_TIME = re.compile(r"^\s*(\d{1,2})\s*:\s*(\d{2})\s*$")


class AlarmsPage(Page):
    """The alarm list: a switch per alarm, long press for Delete, "+" to add."""

    activity = f"{DESKCLOCK}.DeskClock"

    def build(self, screen: Screen) -> list[Widget]:
        """Title, alarm rows and the add button."""
        column = screen.column()
        alarms = self.host.data.alarms
        header = title_bar(screen, column, "Alarms", DESKCLOCK)
        add_top = screen.bottom - screen.dp(88)
        rows = list_view((screen.left, column.y, screen.right, add_top), f"{DESKCLOCK}:id/alarm_recycler_view",
                         len(alarms), screen.dp(80), self.scroll.get(f"{DESKCLOCK}:id/alarm_recycler_view", 0),
                         lambda i, rect: self._row(alarms[i], rect, screen))
        side = screen.dp(64)
        left, top = (screen.left + screen.right - side) // 2, add_top + screen.dp(12)
        add = button((left, top, left + side, top + side), "+", f"{DESKCLOCK}:id/fab",
                     lambda: self.host.push(AlarmEditPage(self.app)), desc="Add alarm")
        add.size = 28
        return [header, rows, add]

    def _row(self, alarm: dict[str, Any], rect: Rect, screen: Screen) -> Widget:
        """One alarm: time, label and its on/off switch."""
        row = Widget(Kind.ROW, rect, rid=f"{DESKCLOCK}:id/alarm_item", fill="surface", on_long=self._menu(alarm))
        inset = screen.dp(16)
        row.children += [
            label((rect[0] + inset, rect[1], rect[0] + screen.dp(140), rect[3]), alarm["time"],
                  f"{DESKCLOCK}:id/digital_clock", size=30),
            label((rect[0] + screen.dp(150), rect[1], rect[2] - screen.dp(88), rect[3]), alarm["label"],
                  f"{DESKCLOCK}:id/edit_label", color="muted"),
            Widget(Kind.SWITCH, (rect[2] - screen.dp(80), rect[1], rect[2] - inset, rect[3]),
                   rid=f"{DESKCLOCK}:id/onoff", checked=bool(alarm["on"]), on_tap=self._flipper(alarm)),
        ]
        return row

    def _flipper(self, alarm: dict[str, Any]) -> Action:
        """An action that turns an alarm on or off."""

        def act() -> None:
            alarm["on"] = not alarm["on"]

        return act

    def _menu(self, alarm: dict[str, Any]) -> Action:
        """An action that shows the alarm's context menu."""

        def delete() -> None:
            if alarm in self.host.data.alarms:
                self.host.data.alarms.remove(alarm)

        def act() -> None:
            self.host.menu(DESKCLOCK, f"Alarm {alarm['time']}", [("Delete", delete)])

        return act


class AlarmEditPage(Page):
    """A new alarm: time as HH:MM, an optional label, Save."""

    activity = f"{DESKCLOCK}.alarms.AlarmEditActivity"
    error = ""  # what is wrong with the last time saved, shown under the form

    def build(self, screen: Screen) -> list[Widget]:
        """The two fields, Save, and any error."""
        column = screen.column()
        widgets = [
            title_bar(screen, column, "New alarm", DESKCLOCK),
            label(column.take(24, gap=4), "Time", color="muted", size=14),
            text_field(self, column.take(56), TIME_FIELD, "HH:MM"),
            label(column.take(24, gap=4), "Label", color="muted", size=14),
            text_field(self, column.take(56, gap=16), LABEL_FIELD, "Label (optional)"),
            button(column.take(52), "Save", f"{DESKCLOCK}:id/save", self.save),
        ]
        if self.error:
            widgets.append(label(column.take(32), self.error, f"{DESKCLOCK}:id/error", color="danger"))
        return widgets

    def submit(self, rid: str) -> None:
        """ENTER saves."""
        self.save()

    def save(self) -> None:
        """Add the alarm (kept in time order) and close, or explain what is wrong with the time."""
        match = _TIME.match(self.fields.get(TIME_FIELD, ""))
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            self.error = "Enter the time as HH:MM, e.g. 07:30"
            return
        alarms = self.host.data.alarms
        alarms.append({"time": f"{int(match[1]):02d}:{match[2]}", "label": self.fields.get(LABEL_FIELD, "").strip(),
                       "on": True})
        alarms.sort(key=lambda a: str(a["time"]))
        self.host.finish(self)


class Clock(App):
    """The clock app's alarm tab."""

    package = DESKCLOCK
    label = "Clock"
    launcher = AlarmsPage.activity
    pages = {AlarmsPage.activity: AlarmsPage, AlarmEditPage.activity: AlarmEditPage}
