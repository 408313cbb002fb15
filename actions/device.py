"""The contract between the action vocabulary and a phone.

``actions`` executes against this protocol and never imports adbutils; ``phone_agent.device.adb``
implements it over ADB, and tests may implement it in-process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class Screenshot:
    """One captured frame: its pixel size, its PNG, and whether it is unusable.

    ``png`` is the bytes or a function that makes them: a frame that reached the host as pixels (a raw
    capture, a video frame) is encoded to PNG once, on first use. ``secure`` is True when the capture
    failed or came back entirely black (a FLAG_SECURE window such as a payment page), so the image
    tells the model nothing; ``failure`` then says why the capture failed, if it did.
    """

    def __init__(
        self, png: bytes | Callable[[], bytes], width: int, height: int, secure: bool = False,
        failure: str | None = None,
    ) -> None:
        self._png = png
        self.width, self.height, self.secure, self.failure = width, height, secure, failure

    @property
    def png(self) -> bytes:
        """The frame as PNG (encoded now if it came as pixels and was not encoded yet)."""
        if not isinstance(self._png, bytes):
            self._png = self._png()
        return self._png


@dataclass(frozen=True)
class LaunchableApp:
    """An app with an icon on the home screen: the label shown under it ("" when unknown) and its package."""

    label: str
    package: str


class Device(Protocol):
    """What the agent needs from a phone. Coordinates are pixels of the current screenshot."""

    serial: str

    def screenshot(self) -> Screenshot:
        """Capture the screen. Raises: DeviceError when the phone cannot be reached."""
        ...

    def current_app(self) -> str:
        """The package name of the app in front (empty when unknown)."""
        ...

    def home_and_keyboard(self) -> frozenset[str]:
        """The packages of the default home app and the current keyboard (both in front in normal use)."""
        ...

    def tap(self, x: int, y: int) -> None: ...

    def double_tap(self, x: int, y: int) -> None: ...

    def long_press(self, x: int, y: int, duration_ms: int = 800) -> None: ...

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int) -> None: ...

    def back(self) -> None: ...

    def home(self) -> None: ...

    def installed_packages(self) -> frozenset[str]:
        """Package names installed on the phone (empty when the phone cannot list them)."""
        ...

    def launchable_apps(self) -> tuple[LaunchableApp, ...]:
        """The apps with a launcher icon and their labels (empty where the phone cannot tell), listed once."""
        ...

    def launch(self, package: str, activity: str | None = None) -> bool:
        """Start an app and wait until it is in front; False when it did not come to the front."""
        ...

    def type_text(self, text: str) -> None:
        """Replace the focused field's content with ``text``. Raises: TextInputError."""
        ...

    def release_input(self) -> None:
        """Give the person their own keyboard back (before a hand-off and at the end of a run)."""
        ...


@dataclass(frozen=True)
class ShellResult:
    """Output of one shell command on the phone, and its exit code when the phone reports it."""

    output: str
    exit_code: int | None


class SuiteDevice(Device, Protocol):
    """What regression suites need besides the agent's ``Device``: shell, UI dump, keys and app data."""

    def ui_hierarchy(self) -> str:
        """The current screen's ``uiautomator dump`` XML. Raises: DeviceError."""
        ...

    def shell(self, command: str) -> str:
        """Run a shell command; its output. Raises: DeviceError."""
        ...

    def run_shell(self, command: str) -> ShellResult:
        """Run a shell command; its output and exit code."""
        ...

    def clear_app(self, package: str) -> None:
        """Stop an app and erase its data. Raises: DeviceError."""
        ...

    def press_key(self, keycode: int) -> None:
        """Send one key event."""
        ...

    def screen_size(self) -> tuple[int, int]:
        """The display size in pixels as it is turned now."""
        ...
