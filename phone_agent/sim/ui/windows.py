"""The window stack of the screen: status bar, front page, navigation bar and dialogs, or the lock screen."""

from __future__ import annotations

from phone_agent.sim.ui.apps.base import Screen
from phone_agent.sim.ui.chrome import keyguard, nav_bar, status_bar
from phone_agent.sim.ui.dialogs import Dialog, dialog_widget
from phone_agent.sim.ui.draw import Fonts
from phone_agent.sim.ui.session import Session
from phone_agent.sim.ui.widgets import Action, Kind, Rect, Widget

STATUS_BAR_DP = 24
NAV_BAR_DP = 48
KEYBOARD_DP = 48  # the on-screen keyboard takes this from the page while a field has focus
PROGRESS_DP = 4


def nav_bar_height(scale: float) -> int:
    """Height of the navigation bar in pixels."""
    return round(NAV_BAR_DP * scale)


def progress_rect(width: int, scale: float) -> Rect:
    """Where the animated progress bar sits: just under the status bar."""
    top = round(STATUS_BAR_DP * scale)
    return (0, top, width, top + round(PROGRESS_DP * scale))


def screen_windows(session: Session, width: int, height: int, scale: float, fonts: Fonts, *, locked: bool,
                   keyboard: bool, animating: bool, minutes: int) -> list[Widget]:
    """The window roots, bottom first; `keyboard` shrinks the page, `minutes` is the clock's time of day."""
    status_h, nav_h = round(STATUS_BAR_DP * scale), nav_bar_height(scale)
    status = status_bar(width, status_h, scale, minutes, session.data.toggles)
    if locked:
        return [status, keyguard(width, status_h, height, scale, minutes)]
    bottom = height - nav_h - (round(KEYBOARD_DP * scale) if keyboard else 0)
    page = session.front()
    content = Widget(Kind.FRAME, (0, status_h, width, bottom), fill="bg", package=page.app.package,
                     rid="android:id/content", children=page.build(Screen(0, status_h, width, bottom, scale)))
    if animating:
        content.children.append(Widget(Kind.PROGRESS, progress_rect(width, scale), rid="android:id/progress"))
    windows = [status, content, nav_bar(width, height, nav_h, session.back, session.home, session.overview)]
    for dialog in session.dialogs:
        choose = {name: _chooser(session, dialog, name, action) for name, action in dialog.options}
        windows.append(dialog_widget(dialog, width, height, scale, fonts, choose))
    return windows


def _chooser(session: Session, dialog: Dialog, name: str, action: Action | None) -> Action:
    """The tap action of a dialog button: close the dialog, then run the option."""

    def act() -> None:
        session.dismiss(dialog, name)
        if action is not None:
            action()

    return act
