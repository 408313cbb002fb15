"""The home screen: a grid of labelled icons, and the recent-apps overview."""

from __future__ import annotations

from phone_agent.sim.ui.apps.base import App, Page, Screen, label
from phone_agent.sim.ui.widgets import Action, Kind, Widget

LAUNCHER = "com.android.launcher3"
COLUMNS = 4


class HomePage(Page):
    """Every launchable app as an icon; tapping one starts it."""

    activity = "com.android.launcher3.Launcher"

    def build(self, screen: Screen) -> list[Widget]:
        """A large clock above a four-column icon grid."""
        column = screen.column()
        widgets = [label(column.take(96, gap=24), "Home", f"{LAUNCHER}:id/workspace_title", size=28, bold=True,
                         center=True)]
        cell_w = (screen.right - screen.left) // COLUMNS
        cell_h = screen.dp(112)
        for index, (name, package) in enumerate(self.host.launchable()):
            row, col = divmod(index, COLUMNS)
            left = screen.left + col * cell_w
            top = column.y + row * cell_h
            widgets.append(Widget(Kind.ICON, (left, top, left + cell_w, top + cell_h), rid=f"{LAUNCHER}:id/icon",
                                  text=name, desc=name, size=14, on_tap=self._opener(package)))
        return widgets

    def _opener(self, package: str) -> Action:
        """An action that starts an app from its icon."""

        def act() -> None:
            self.host.start(package)

        return act


class RecentsPage(Page):
    """The overview of running apps: tap a card to switch to it."""

    activity = "com.android.quickstep.RecentsActivity"

    def build(self, screen: Screen) -> list[Widget]:
        """One card per running app, most recent first."""
        column = screen.column()
        widgets = [label(column.take(72), "Recent apps", f"{LAUNCHER}:id/overview_title", size=24, bold=True)]
        running = self.host.recent()
        if not running:
            widgets.append(label(column.take(48), "No recent items", f"{LAUNCHER}:id/empty", color="muted",
                                 center=True))
        for name, package in running:
            card = Widget(Kind.ROW, column.take(96, gap=12), rid=f"{LAUNCHER}:id/snapshot", fill="surface",
                          desc=name, on_tap=self._switcher(package))
            inner = (card.bounds[0] + screen.dp(16), *card.bounds[1:])
            card.children.append(label(inner, name, f"{LAUNCHER}:id/title", size=20, bold=True))
            widgets.append(card)
        return widgets

    def _switcher(self, package: str) -> Action:
        """An action that leaves the overview for a running app."""

        def act() -> None:
            self.host.finish(self)
            self.host.start(package)

        return act


class Launcher(App):
    """The home app; it is always running, under every other task."""

    package = LAUNCHER
    label = "Launcher"
    launcher = HomePage.activity
    pages = {HomePage.activity: HomePage, RecentsPage.activity: RecentsPage}
