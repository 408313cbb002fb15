"""What every app of the virtual phone is made of: pages (activities), the shared data and the host."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from phone_agent.sim.ui.widgets import Action, Column, Kind, Rect, Widget


@dataclass(frozen=True)
class Contact:
    """An entry of the address book."""

    name: str
    phone: str


CONTACTS = (
    Contact("Alice Chen", "+1 555 0101"),
    Contact("Bob Müller", "+49 30 1234567"),
    Contact("Dana O'Brien", "+353 1 555 0142"),
    Contact("李雷", "+86 10 5555 0199"),
)


@dataclass
class ShopData:
    """What the shop remembers across its pages."""

    signed_in: bool = False
    query: str = ""
    item: str | None = None
    purchased: list[dict[str, str]] = field(default_factory=list)
    watchlist: list[str] = field(default_factory=list)


def default_toggles() -> dict[str, bool]:
    """The quick settings of a fresh phone."""
    return {"wifi": True, "bluetooth": False, "airplane_mode": False, "dark_theme": False}


@dataclass
class PhoneData:
    """Everything the apps store: it outlives pages, tasks and force-stops, and resets with the phone."""

    toggles: dict[str, bool] = field(default_factory=default_toggles)
    sent_messages: list[dict[str, str]] = field(default_factory=list)
    conversations: dict[str, list[tuple[bool, str]]] = field(
        default_factory=lambda: {"Alice Chen": [(False, "Are we still on for lunch tomorrow?")]})
    alarms: list[dict[str, Any]] = field(default_factory=lambda: [{"time": "06:30", "label": "Gym", "on": True}])
    shop: ShopData = field(default_factory=ShopData)
    popup_log: list[dict[str, str]] = field(default_factory=list)


class Host(Protocol):
    """What pages may ask of the phone: navigation, menus, the clock and the shared data."""

    data: PhoneData

    def now(self) -> float:
        """Seconds on the injected clock."""
        ...

    def push(self, page: Page) -> None:
        """Open a page on top of its app's task and bring that task to the front."""
        ...

    def replace(self, page: Page) -> None:
        """Swap the top page of the page's app task for this one."""
        ...

    def finish(self, page: Page) -> None:
        """Close a page (like Activity.finish)."""
        ...

    def menu(self, package: str, title: str, options: list[tuple[str, Action]]) -> None:
        """Show a context menu dialog; picking an option runs it and closes the menu."""
        ...

    def start(self, package: str, activity: str | None = None) -> bool:
        """Bring an app to the front (like a launcher intent)."""
        ...

    def launchable(self) -> list[tuple[str, str]]:
        """(label, package) of every app with a launcher icon, in install order."""
        ...

    def app(self, package: str) -> App:
        """The installed app of a package."""
        ...

    def top(self, package: str) -> Page | None:
        """The page on top of an app's task, or None when the app is not running."""
        ...

    def recent(self) -> list[tuple[str, str]]:
        """(label, package) of the running apps other than the launcher, most recent first."""
        ...


@dataclass(frozen=True)
class Screen:
    """The content area a page lays itself out in (below the status bar, above the navigation bar)."""

    left: int
    top: int
    right: int
    bottom: int
    scale: float

    def dp(self, value: float) -> int:
        """Density-independent pixels to pixels."""
        return round(value * self.scale)

    def column(self) -> Column:
        """A top-to-bottom layout over the whole content width."""
        return Column(self.left, self.top, self.right, self.scale)


class Page:
    """One activity instance: its own text fields, focus and scroll positions."""

    activity: ClassVar[str] = ""
    secure: ClassVar[bool] = False

    def __init__(self, app: App) -> None:
        self.app = app
        self.fields: dict[str, str] = {}
        self.focus: str | None = None
        self.scroll: dict[str, int] = {}

    @property
    def host(self) -> Host:
        """The phone this page runs on."""
        return self.app.host

    def build(self, screen: Screen) -> list[Widget]:
        """The widgets of the page, laid out in the content area."""
        raise NotImplementedError

    def submit(self, rid: str) -> None:
        """ENTER was pressed in the text field `rid`; most pages ignore it."""

    def focus_on(self, rid: str) -> Action:
        """An action that moves the keyboard focus to a text field."""

        def act() -> None:
            self.focus = rid

        return act


class App:
    """An installed app: its package, launcher label and activities."""

    package: ClassVar[str] = ""
    label: ClassVar[str] = ""
    launcher: ClassVar[str] = ""
    pages: ClassVar[dict[str, Callable[[App], Page]]] = {}

    def __init__(self, host: Host) -> None:
        self.host = host

    def make(self, activity: str) -> Page:
        """A fresh page for one of the app's activities."""
        return self.pages[activity](self)


def title_bar(screen: Screen, column: Column, text: str, package: str) -> Widget:
    """The bold title strip at the top of a page."""
    rect = column.take(56, gap=8, inset=0)
    bar = Widget(Kind.FRAME, rect, rid=f"{package}:id/toolbar", fill="bar")
    inner = (rect[0] + screen.dp(12), rect[1], rect[2] - screen.dp(12), rect[3])
    bar.children.append(Widget(Kind.TEXT, inner, rid=f"{package}:id/toolbar_title", text=text, size=20, bold=True))
    return bar


def label(rect: Rect, text: str, rid: str = "", *, size: int = 16, bold: bool = False, color: str = "fg",
          wrap: bool = False, center: bool = False) -> Widget:
    """A piece of text."""
    return Widget(Kind.TEXT, rect, rid=rid, text=text, size=size, bold=bold, color=color, wrap=wrap, center=center)


def button(rect: Rect, text: str, rid: str, action: Action | None, *, flat: bool = False, desc: str = "") -> Widget:
    """A pill button; flat buttons have no accent fill."""
    return Widget(Kind.BUTTON, rect, rid=rid, text=text, desc=desc, on_tap=action, size=16, bold=True,
                  fill="bar" if flat else None, color="accent")


def text_field(page: Page, rect: Rect, rid: str, hint: str, *, password: bool = False) -> Widget:
    """An editable field bound to `page.fields[rid]`; tapping it takes the focus."""
    return Widget(Kind.FIELD, rect, rid=rid, text=page.fields.get(rid, ""), hint=hint, password=password,
                  focused=page.focus == rid, on_tap=page.focus_on(rid))


def switch_row(rect: Rect, text: str, rid: str, checked: bool, action: Action, screen: Screen) -> Widget:
    """A settings row with a label and a switch; tapping either flips it."""
    row = Widget(Kind.ROW, rect, rid=f"{rid}_row", on_tap=action, fill="surface")
    text_rect = (rect[0] + screen.dp(16), rect[1], rect[2] - screen.dp(88), rect[3])
    switch_rect = (rect[2] - screen.dp(80), rect[1], rect[2] - screen.dp(16), rect[3])
    row.children.append(label(text_rect, text, "android:id/title", size=18))
    row.children.append(Widget(Kind.SWITCH, switch_rect, rid=rid, checked=checked, on_tap=action,
                               text="ON" if checked else "OFF"))
    return row
