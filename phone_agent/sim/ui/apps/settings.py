"""Settings (com.android.settings): quick toggles for Wi-Fi, Bluetooth, Airplane mode and Dark theme."""

from __future__ import annotations

from phone_agent.sim.ui.apps.base import App, Page, Screen, label, switch_row, title_bar
from phone_agent.sim.ui.widgets import Action, Widget

SETTINGS = "com.android.settings"
TOGGLES = (("wifi", "Wi-Fi"), ("bluetooth", "Bluetooth"), ("airplane_mode", "Airplane mode"),
           ("dark_theme", "Dark theme"))


class SettingsPage(Page):
    """One row per toggle; tapping the row or its switch flips it."""

    activity = f"{SETTINGS}.Settings"

    def build(self, screen: Screen) -> list[Widget]:
        """Title, the toggle rows, and a line about the phone."""
        column = screen.column()
        toggles = self.host.data.toggles
        widgets = [title_bar(screen, column, "Settings", SETTINGS)]
        for name, text in TOGGLES:
            widgets.append(switch_row(column.take(64, gap=0, inset=0), text, f"{SETTINGS}:id/switch_{name}",
                                      toggles.get(name, False), self._flipper(name), screen))
        column.take(16, gap=0)
        widgets.append(label(column.take(28), "About phone: Virtual Pixel, Android 14", f"{SETTINGS}:id/about",
                             color="muted", size=14))
        return widgets

    def _flipper(self, name: str) -> Action:
        """An action that flips one toggle."""

        def act() -> None:
            toggles = self.host.data.toggles
            toggles[name] = not toggles.get(name, False)

        return act


class Settings(App):
    """The system settings."""

    package = SETTINGS
    label = "Settings"
    launcher = SettingsPage.activity
    pages = {SettingsPage.activity: SettingsPage}
