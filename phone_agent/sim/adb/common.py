"""Small helpers the device commands share: component names and Java-style failures."""

from __future__ import annotations

from phone_agent.sim.adb.command_io import CommandIO
from phone_agent.sim.adb.device import ShellPhone

LAUNCHER = "com.android.launcher3"
SETTINGS = "com.android.settings"
JAVA_FAILURE = 255  # what a shell command returns when its Java side throws


def phone_of(io: CommandIO) -> ShellPhone:
    """The phone a command runs on (tests of the shell alone run commands that need none)."""
    assert io.device is not None, "this command needs a phone"
    return io.device


def full_class(package: str, activity: str) -> str:
    """Expand `.Main` to `pkg.Main`, as Android does for a component's class."""
    return package + activity if activity.startswith(".") else activity


def short_component(package: str, activity: str) -> str:
    """`pkg/.Main` when the class lives in the package, else `pkg/full.Class` (flattenToShortString)."""
    if activity.startswith(package + "."):
        return f"{package}/{activity[len(package):]}"
    return f"{package}/{activity}"


def java_error(io: CommandIO, command: str, exception: str, message: str) -> int:
    """Report an exception the way `cmd` does when a shell command's Java code throws."""
    io.err(f"Exception occurred while executing '{command}':\n{exception}: {message}\n")
    return JAVA_FAILURE


def window_token(package: str) -> str:
    """A stable hex token for a package's window, like the hash in `Window{1a2b3c4d u0 …}`."""
    value = 0x811C9DC5
    for byte in package.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{value:x}"


def task_id(package: str) -> int:
    """A stable task number per package (`t12` in an ActivityRecord)."""
    return 10 + int(window_token(package), 16) % 90


def app_pid(package: str) -> int:
    """A stable process id per package, as `ps` and the log show it."""
    return 3000 + int(window_token(package), 16) % 20000
