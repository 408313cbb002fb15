"""Running apps: tasks in z-order with their page stacks, dialogs on top, and the shared data."""

from __future__ import annotations

from collections.abc import Callable

from phone_agent.sim.ui.apps.base import App, Page, PhoneData
from phone_agent.sim.ui.apps.clock import Clock
from phone_agent.sim.ui.apps.contacts import Contacts
from phone_agent.sim.ui.apps.launcher import LAUNCHER, HomePage, Launcher, RecentsPage
from phone_agent.sim.ui.apps.messages import Messages
from phone_agent.sim.ui.apps.photos import Photos
from phone_agent.sim.ui.apps.settings import Settings
from phone_agent.sim.ui.apps.shop import Shop
from phone_agent.sim.ui.dialogs import Dialog
from phone_agent.sim.ui.widgets import Action

APP_TYPES: tuple[type[App], ...] = (Launcher, Shop, Settings, Contacts, Messages, Clock, Photos)


class Session:
    """The activity manager of one phone: which pages exist, which is in front, what BACK and HOME do."""

    def __init__(self, clock: Callable[[], float],
                 on_event: Callable[[str, str, str, bool], None] = lambda kind, package, activity, cold: None) -> None:
        """`on_event(kind, package, activity, cold)` hears each "start" that shows a page and each "force_stop"."""
        self._clock = clock
        self._on_event = on_event
        self.data = PhoneData()
        self.apps: dict[str, App] = {kind.package: kind(self) for kind in APP_TYPES}
        self.stacks: dict[str, list[Page]] = {LAUNCHER: [HomePage(self.apps[LAUNCHER])]}
        self.order: list[str] = [LAUNCHER]
        self.dialogs: list[Dialog] = []

    # --- the Host protocol, used by pages ---
    def now(self) -> float:
        """Seconds on the injected clock."""
        return self._clock()

    def push(self, page: Page) -> None:
        """Open a page on its app's task (starting the task if needed) and bring it to the front."""
        package = page.app.package
        if package not in self.stacks:
            self.stacks[package] = [page.app.make(page.app.launcher)]
        self.stacks[package].append(page)
        self._to_front(package)

    def replace(self, page: Page) -> None:
        """Swap the top page of the app's task for this one."""
        stack = self.stacks.get(page.app.package)
        if stack:
            stack.pop()
        self.push(page)

    def finish(self, page: Page) -> None:
        """Close a page; an app whose last page closes stops, and the task below shows."""
        package = page.app.package
        stack = self.stacks.get(package, [])
        if page not in stack or (package == LAUNCHER and len(stack) == 1):
            return
        stack.remove(page)
        self._drop_menus()
        if not stack:
            del self.stacks[package]
            self.order.remove(package)

    def menu(self, package: str, title: str, options: list[tuple[str, Action]]) -> None:
        """Show a context menu over the current page."""
        self.dialogs.append(Dialog(package, title, "", list(options), menu=True))

    def start(self, package: str, activity: str | None = None) -> bool:
        """Bring an app to the front with its stack, opening `activity` on top when given."""
        app = self.apps.get(package)
        if app is None or (activity is not None and activity not in app.pages):
            return False
        before, cold = self.front(), package not in self.stacks
        if package == LAUNCHER:
            self.stacks[LAUNCHER] = self.stacks[LAUNCHER][:1]
        if package not in self.stacks:
            self.stacks[package] = [app.make(app.launcher)]
        if activity is not None and activity != app.launcher and self.stacks[package][-1].activity != activity:
            self.stacks[package].append(app.make(activity))
        self._to_front(package)
        if self.front() is not before:
            self._on_event("start", package, self.front().activity, cold)
        return True

    def launchable(self) -> list[tuple[str, str]]:
        """(label, package) of every app with an icon on the home screen."""
        return [(app.label, app.package) for app in self.apps.values() if app.package != LAUNCHER]

    def app(self, package: str) -> App:
        """The installed app of a package."""
        return self.apps[package]

    def top(self, package: str) -> Page | None:
        """The page on top of an app's task, or None when it is not running."""
        stack = self.stacks.get(package)
        return stack[-1] if stack else None

    def recent(self) -> list[tuple[str, str]]:
        """(label, package) of running apps other than the launcher, most recent first."""
        return [(self.apps[p].label, p) for p in reversed(self.order) if p != LAUNCHER]

    def install(self, app_type: type[App]) -> None:
        """Add (or replace, stopping the old one) an installed app."""
        self.force_stop(app_type.package)
        self.apps[app_type.package] = app_type(self)

    def uninstall(self, package: str) -> None:
        """Stop and remove an app."""
        self.force_stop(package)
        self.apps.pop(package, None)

    def reboot(self) -> None:
        """Every task and dialog gone, only the home screen left; installed apps and their data stay."""
        self.stacks = {LAUNCHER: [HomePage(self.apps[LAUNCHER])]}
        self.order = [LAUNCHER]
        self.dialogs = []

    # --- system navigation ---
    def front(self) -> Page:
        """The page the user sees."""
        return self.stacks[self.order[-1]][-1]

    def back(self) -> None:
        """Close the top dialog, else the top page (leaving the overview returns to the last app)."""
        if self.dialogs:
            self.dismiss(self.dialogs[-1], "")
            return
        page = self.front()
        self.finish(page)
        if isinstance(page, RecentsPage) and self.recent():
            self._to_front(self.recent()[0][1])

    def home(self) -> None:
        """Show the home screen; running apps keep their stacks."""
        self.start(LAUNCHER)

    def overview(self) -> None:
        """Show the recent-apps overview."""
        self.start(LAUNCHER, RecentsPage.activity)

    def force_stop(self, package: str) -> None:
        """Kill an app: its task and its menus go; the launcher only returns to its home page."""
        self.dialogs = [d for d in self.dialogs if not (d.menu and d.package == package)]
        if package == LAUNCHER:
            self.stacks[LAUNCHER] = self.stacks[LAUNCHER][:1]
        elif package in self.stacks:
            del self.stacks[package]
            self.order.remove(package)
        self._on_event("force_stop", package, "", False)

    def clear_data(self, package: str) -> None:
        """Kill an app and erase what it stored (``pm clear``); system settings such as toggles stay."""
        self.force_stop(package)
        fresh, data = PhoneData(), self.data
        if package == Shop.package:
            data.shop = fresh.shop
        elif package == Messages.package:
            data.sent_messages, data.conversations = fresh.sent_messages, fresh.conversations
        elif package == Clock.package:
            data.alarms = fresh.alarms

    def dismiss(self, dialog: Dialog, choice: str) -> None:
        """Close a dialog, logging which button closed a pop-up ("" for BACK)."""
        if dialog in self.dialogs:
            self.dialogs.remove(dialog)
        if not dialog.menu:
            self.data.popup_log.append({"title": dialog.title, "button": choice})

    def back_stack(self) -> list[tuple[str, str]]:
        """(package, activity) of every open page, bottom task first, the front page last."""
        return [(package, page.activity) for package in self.order for page in self.stacks[package]]

    def _to_front(self, package: str) -> None:
        """Move a task to the top of the z-order."""
        if package in self.order:
            self.order.remove(package)
        self.order.append(package)
        self._drop_menus()

    def _drop_menus(self) -> None:
        """Context menus belong to the page they were opened on; navigation closes them."""
        self.dialogs = [d for d in self.dialogs if not d.menu]
