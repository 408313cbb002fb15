"""Dialog windows drawn over the screen: alert pop-ups and long-press context menus."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phone_agent.sim.ui.draw import Fonts, printable, wrap_lines
from phone_agent.sim.ui.widgets import Action, Kind, Widget


@dataclass(eq=False)
class Dialog:
    """A modal window; a context menu (`menu`) closes when tapped outside, an alert does not."""

    package: str
    title: str
    message: str
    options: list[tuple[str, Action | None]]
    menu: bool = False

    def state(self) -> dict[str, Any]:
        """A JSON-able description: title, message, button labels and whether it is a menu."""
        return {"title": self.title, "message": self.message, "buttons": [name for name, _ in self.options],
                "menu": self.menu}


def dialog_widget(dialog: Dialog, width: int, height: int, scale: float, fonts: Fonts,
                  choose: dict[str, Action]) -> Widget:
    """Lay out a dialog centred on the screen; `choose` maps each option label to its tap action."""

    def dp(value: float) -> int:
        return round(value * scale)

    box_w = min(width - dp(48), dp(320))
    left = (width - box_w) // 2
    inner_w = box_w - dp(48)
    message_lines = wrap_lines(fonts.get(dp(16)), printable(dialog.message, True), inner_w) if dialog.message else []
    message_h = min(len(message_lines), 8) * round(dp(16) * 1.3)
    buttons_h = dp(52) * len(dialog.options) if dialog.menu else dp(52)
    total = dp(24) + dp(32) + (message_h + dp(12) if message_h else 0) + dp(8) + buttons_h + dp(16)
    top = (height - total) // 2
    root = Widget(Kind.DIALOG, (left, top, left + box_w, top + total), package=dialog.package,
                  rid="android:id/parentPanel")
    y = top + dp(24)
    root.children.append(Widget(Kind.TEXT, (left + dp(24), y, left + box_w - dp(24), y + dp(32)),
                                rid="android:id/alertTitle", text=dialog.title, size=20, bold=True))
    y += dp(32)
    if message_h:
        y += dp(12)
        root.children.append(Widget(Kind.TEXT, (left + dp(24), y, left + box_w - dp(24), y + message_h),
                                    rid="android:id/message", text=dialog.message, wrap=True))
        y += message_h
    y += dp(8)
    count = max(1, len(dialog.options))
    for index, (name, _) in enumerate(dialog.options):
        if dialog.menu:
            rect = (left, y + index * dp(52), left + box_w, y + (index + 1) * dp(52))
            row = Widget(Kind.ROW, rect, rid="android:id/title", text=name, on_tap=choose[name])
            row.children.append(Widget(Kind.TEXT, (rect[0] + dp(24), rect[1], rect[2], rect[3]), text=name, size=18))
            root.children.append(row)
        else:
            cell = (box_w - dp(16)) // count
            bx = left + dp(8) + index * cell
            rect = (bx + dp(4), y + dp(4), bx + cell - dp(4), y + dp(48))
            root.children.append(Widget(Kind.BUTTON, rect, rid=f"android:id/button{index + 1}", text=name,
                                        on_tap=choose[name], size=16, bold=True, fill="bar", color="accent"))
    return root
