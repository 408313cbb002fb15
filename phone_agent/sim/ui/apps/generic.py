"""The screen of an app installed from an APK: its label, an editable field and a button, so tests can drive it."""

from __future__ import annotations

from phone_agent.sim.ui.apps.base import App, Page, Screen, button, label, text_field, title_bar
from phone_agent.sim.ui.widgets import Widget


class GenericPage(Page):
    """The launcher activity of an installed app: its label, a text field, and a button that echoes the field."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.taps = 0

    def build(self, screen: Screen) -> list[Widget]:
        """Title, field, button and what the button last said."""
        package = self.app.package
        column = screen.column()
        field_id = f"{package}:id/input"
        widgets = [
            title_bar(screen, column, self.app.label, package),
            text_field(self, column.take(56, gap=16), field_id, "Type here"),
            button(column.take(52, gap=16), "OK", f"{package}:id/button", self._press),
        ]
        if self.taps:
            said = self.fields.get(field_id, "")
            widgets.append(label(column.take(40), f"OK pressed {self.taps}x: {said}", f"{package}:id/result"))
        return widgets

    def _press(self) -> None:
        self.taps += 1


def installed_app(package: str, app_label: str, activity: str) -> type[App]:
    """An App type for an installed APK, whose one activity is its launcher activity."""
    page = type("InstalledActivity", (GenericPage,), {"activity": activity})
    return type("InstalledApp", (App,), {"package": package, "label": app_label, "launcher": activity,
                                         "pages": {activity: page}})
