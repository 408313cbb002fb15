"""Photos (com.google.android.apps.photos): one camera photo, full screen, as a gallery or a feed shows it."""

from __future__ import annotations

from phone_agent.sim.ui.apps.base import App, Page, Screen
from phone_agent.sim.ui.widgets import Kind, Widget

PHOTOS = "com.google.android.apps.photos"


class PhotoPage(Page):
    """The photo viewer: the picture fills the content area."""

    activity = f"{PHOTOS}.home.HomeActivity"

    def build(self, screen: Screen) -> list[Widget]:
        """The photo, edge to edge."""
        bounds = (screen.left, screen.top, screen.right, screen.bottom)
        return [Widget(Kind.PHOTO, bounds, rid=f"{PHOTOS}:id/photo", desc="Photo")]


class Photos(App):
    """A gallery with one photo: the screen that deflates worst, unlike every other app here."""

    package = PHOTOS
    label = "Photos"
    launcher = PhotoPage.activity
    pages = {PhotoPage.activity: PhotoPage}
