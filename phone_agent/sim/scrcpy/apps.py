"""The scrcpy server's app list, as its LogUtils.buildAppListMessage prints it (``list_apps=true`` and START_APP ``?``).

Each app is a line: one space, ``*`` for a system app or ``-``, a space, the label padded to 30 UTF-16
units, a space and the package. A label of 30 units or more ends its line; the package then follows on
the next one, after 34 spaces. System apps come first, then by label, then package (Java string order).
"""

from __future__ import annotations

from collections.abc import Iterable

from phone_agent.sim.system import is_system_package

COLUMN = 30
LISTING = "Processing Android apps... (this may take some time)"


def _java_key(text: str) -> bytes:
    """Orders as Java's String.compareTo does: by UTF-16 code unit."""
    return text.encode("utf-16-be")


def _java_length(text: str) -> int:
    """String.length(): UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def app_list_message(title: str, apps: Iterable[tuple[str, str]]) -> str:
    """The title, then one entry per (label, package)."""
    entries = sorted(apps, key=lambda app: (not is_system_package(app[1]), _java_key(app[0]), _java_key(app[1])))
    lines = [title]
    for label, package in entries:
        padding = COLUMN - _java_length(label)
        mark = "*" if is_system_package(package) else "-"
        gap = " " * padding if padding > 0 else "\n   " + " " * COLUMN
        lines.append(f" {mark} {label}{gap} {package}")
    return "\n".join(lines)
