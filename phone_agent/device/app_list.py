"""The phone's launchable apps with their labels, listed once per device: what ``Launch`` of an unlisted app searches.

Android has no shell command that prints app labels. The genuine scrcpy server does (scrcpy's
``--list-apps``: ``app_process`` runs it with ``list_apps=true``; it asks the package manager for every
launchable app and its label, then exits). It needs only the shell and the jar, so it serves both
channels. Without the jar, or when the server fails, the package manager's launcher activities give
the packages without labels, and before Android 7 (no ``cmd package``) the installed packages.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from actions.device import LaunchableApp
from phone_agent.device.scrcpy.connection import DEVICE_PATH, push_if_changed
from phone_agent.device.scrcpy.server import SHA256, VERSION

if TYPE_CHECKING:
    from phone_agent.device.adb import AdbDevice

# cleanup=false: the server's clean-up would delete the jar, which the scrcpy channel keeps on the phone.
LIST_APPS = (f"CLASSPATH={DEVICE_PATH} app_process / com.genymobile.scrcpy.Server {VERSION} "
             "list_apps=true cleanup=false log_level=info")
LAUNCHER_ACTIVITIES = ("cmd package query-activities --brief -a android.intent.action.MAIN "
                       "-c android.intent.category.LAUNCHER")
_TITLE = "List of apps:"
# One entry: " * " (a system app) or " - ", the label padded to 30 UTF-16 units, a space, the package. A longer
# label ends its line, and the package follows on the next one after 34 spaces.
_ENTRY = re.compile(r" [*-] (.*)")
_WRAPPED = re.compile(r" {34}([\w.]+)")
_PACKAGE = re.compile(r"[\w.]+")
_COMPONENT = re.compile(r"\s*([\w.]+)/[\w.$]+\s*")


class AppList:
    """One phone's launchable apps, asked for at the first use and kept for the device object's life."""

    def __init__(self, adb: AdbDevice) -> None:
        self._adb = adb
        self.server: Path | None = None  # the genuine scrcpy server on this computer, when the channel found one
        self._apps: tuple[LaunchableApp, ...] | None = None

    def forget(self) -> None:
        """List the apps afresh when next asked."""
        self._apps = None

    def launchable(self) -> tuple[LaunchableApp, ...]:
        """The apps with a launcher icon, labelled when the scrcpy server could list them.

        Raises:
            DeviceError: the phone cannot be reached.
        """
        if self._apps is None:
            self._apps = self._labelled() or self._launcher_packages() or tuple(
                LaunchableApp("", package) for package in sorted(self._adb.installed_packages()))
        return self._apps

    def _labelled(self) -> tuple[LaunchableApp, ...]:
        """The scrcpy server's list (empty without a genuine jar on either side, or when the server failed)."""
        if self.server is not None:
            push_if_changed(self._adb, self.server)
        elif SHA256 not in self._adb.shell(f"sha256sum {DEVICE_PATH} 2>/dev/null"):
            return ()
        return parse_app_list(self._adb.shell(LIST_APPS))

    def _launcher_packages(self) -> tuple[LaunchableApp, ...]:
        lines = self._adb.shell(LAUNCHER_ACTIVITIES).splitlines()
        packages = dict.fromkeys(match.group(1) for line in lines if (match := _COMPONENT.fullmatch(line)))
        return tuple(LaunchableApp("", package) for package in packages)


def parse_app_list(output: str) -> tuple[LaunchableApp, ...]:
    """The apps in the scrcpy server's "List of apps:" message (none when it printed no list)."""
    _before, title, listing = output.partition(_TITLE)
    if not title:
        return ()
    lines = listing.splitlines()
    apps = []
    for line, following in zip(lines, [*lines[1:], ""], strict=True):
        entry = _ENTRY.fullmatch(line)
        if entry is None:
            continue
        if wrapped := _WRAPPED.fullmatch(following):
            label, package = entry.group(1), wrapped.group(1)
        else:
            label, _space, package = entry.group(1).rpartition(" ")
        if _PACKAGE.fullmatch(package):
            apps.append(LaunchableApp(label.strip(), package))
    return tuple(apps)
