"""Controlling a phone's apps through its shell: which are installed, which is in front, starting and clearing them."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable

from actions.device import ShellResult
from phone_agent.errors import DeviceError

# mCurrentFocus/mFocusedApp from `dumpsys window`; m/top/ResumedActivity (Android 9-15) from `dumpsys activity`.
_FOCUS = re.compile(r"(?:mCurrentFocus|mFocusedApp|ResumedActivity)[=:].*?\su\d+\s+([\w.]+)/")
# System dialogs an app may open as it starts (a runtime permission prompt); the launch still worked.
LAUNCH_DIALOGS = frozenset(
    {
        "com.google.android.permissioncontroller",
        "com.android.permissioncontroller",
        "com.android.packageinstaller",
        "com.google.android.packageinstaller",
    }
)
# The default home app (the ResolverActivity of "android" when the person has not chosen one), then the keyboard.
_HOME_AND_KEYBOARD = (
    "cmd package resolve-activity --brief -a android.intent.action.MAIN -c android.intent.category.HOME | tail -n 1; "
    "settings get secure default_input_method"
)
_HOME_APPS = "cmd package query-activities --brief -a android.intent.action.MAIN -c android.intent.category.HOME"
_COMPONENT = re.compile(r"([\w.]+)/[\w.$]+")
_PRIORITY = re.compile(r"priority=(-?\d+)")


class AppControl:
    """One phone's apps, through ``run_shell`` (which may change what is in front) and ``current_app``."""

    def __init__(
        self,
        serial: str,
        run_shell: Callable[[str], ShellResult],
        current_app: Callable[[], str],
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        launch_timeout: float,
    ) -> None:
        self._serial = serial
        self._run_shell = run_shell
        self._current_app = current_app
        self._clock = clock
        self._sleep = sleep
        self._launch_timeout = launch_timeout
        self._packages: frozenset[str] = frozenset()

    def forget_installed(self) -> None:
        """List the installed packages afresh when next asked."""
        self._packages = frozenset()

    def installed(self) -> frozenset[str]:
        """Installed packages, listed once."""
        if not self._packages:
            lines = self._shell("pm list packages").splitlines()
            self._packages = frozenset(
                line.removeprefix("package:").strip() for line in lines if line.startswith("package:")
            )
        return self._packages

    def home_and_keyboard(self) -> frozenset[str]:
        """The packages of the default home app and the current keyboard, in one round trip (two without a default)."""
        lines = self._shell(_HOME_AND_KEYBOARD).splitlines()
        packages = {match.group(1) for line in lines if (match := _COMPONENT.fullmatch(line.strip()))}
        if "android" in packages:  # HOME resolved to Android's chooser: no default is set, so every home app counts
            packages |= home_apps(self._shell(_HOME_APPS))
        return frozenset(packages)

    def launch(self, package: str, activity: str | None = None) -> bool:
        """Start an app and wait (up to ``launch_timeout``) until it, or a permission prompt it opened, is in front."""
        if activity:
            component = activity if "/" in activity else f"{package}/{activity}"
            result = self._run_shell(f"am start -n {shlex.quote(component)}")
        else:
            # The launcher's intent, limited to the package: as the home screen starts an app (new task, or
            # the app's task brought back), and one `am` cheaper than `monkey`, which starts its own Java VM.
            result = self._run_shell(f"am start -a android.intent.action.MAIN -c android.intent.category.LAUNCHER "
                                     f"-f 0x10200000 -p {shlex.quote(package)}")
        # `am start` reports a missing activity as "Error: ..." (with exit 0 before Android 11).
        if result.exit_code not in (0, None) or any(line.startswith("Error") for line in result.output.splitlines()):
            return False
        return self.wait_in_front(package)

    def wait_in_front(self, package: str, failed: Callable[[], bool] | None = None) -> bool:
        """Wait (up to ``launch_timeout``) until ``package``, or a permission prompt it opened, is in front;
        give up at once when ``failed()`` says the start failed."""
        deadline = self._clock() + self._launch_timeout
        while True:
            if self._current_app() in (package, *LAUNCH_DIALOGS):
                return True
            if self._clock() >= deadline or (failed is not None and failed()):
                return False
            self._sleep(0.1)

    def clear(self, package: str) -> None:
        """Stop an app and erase its data (``pm clear``).

        Raises:
            DeviceError: the phone refused (some vendor ROMs forbid clearing over adb).
        """
        output = self._shell(f"pm clear {shlex.quote(package)}").strip()
        if output != "Success":
            raise DeviceError(f"`pm clear {package}` failed on {self._serial}: {output or 'no answer'}")

    def _shell(self, command: str) -> str:
        return self._run_shell(command).output


def front_package(shell: Callable[[str], str]) -> str:
    """The package in front, from ``dumpsys window`` (``dumpsys activity`` when that names none)."""
    window = shell("dumpsys window | grep -E 'mCurrentFocus|mFocusedApp'")
    return foreground_package(window) or foreground_package(
        shell("dumpsys activity activities | grep -E 'ResumedActivity'")
    )


def home_apps(listing: str) -> set[str]:
    """The packages in ``query-activities --brief`` output, less those of negative priority.

    Settings' FallbackHome (priority -1000) answers HOME only while the phone boots: it is no home app.
    """
    packages, priority = set(), 0
    for line in listing.splitlines():
        if found := _PRIORITY.match(line.strip()):
            priority = int(found.group(1))
        elif (match := _COMPONENT.fullmatch(line.strip())) and priority >= 0:
            packages.add(match.group(1))
    return packages


def foreground_package(dumpsys: str) -> str:
    """The package of the first focus or resumed-activity line in ``dumpsys`` output ("" when none)."""
    match = _FOCUS.search(dumpsys)
    return match.group(1) if match else ""
