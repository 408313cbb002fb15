"""What a shell command is: a Python function of its `CommandIO` (streams, device, session) and arguments."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from phone_agent.sim.adb.device import ShellPhone
from phone_agent.sim.adb.stdin import Stdin

if TYPE_CHECKING:  # the shell session runs commands; commands only hold it
    from phone_agent.sim.adb.shell import Session

Writer = Callable[[bytes], None]


class CommandIO:
    """What a command sees: its stdin, stdout and stderr, the device, the shell session and its stop signal."""

    def __init__(self, session: Session, stdin: Stdin, stdout: Writer, stderr: Writer,
                 stop: threading.Event | None = None) -> None:
        """Bind the streams for one command invocation."""
        self.session = session
        self.stdin = stdin
        self._stdout = stdout
        self._stderr = stderr
        self._stop = stop or session.interrupt

    @property
    def device(self) -> ShellPhone | None:
        """The phone the shell runs on (None in tests of the shell alone)."""
        return self.session.device

    def read_stdin(self) -> bytes:
        """Everything on stdin (a pipe, a file, or what the host sends)."""
        return self.stdin.read()

    def out(self, data: str | bytes) -> None:
        """Write to stdout."""
        self._stdout(data.encode() if isinstance(data, str) else data)

    def err(self, data: str | bytes) -> None:
        """Write to stderr."""
        self._stderr(data.encode() if isinstance(data, str) else data)

    def fail(self, message: str, status: int = 1) -> int:
        """Print `message` on stderr and return `status`, the usual error exit."""
        self.err(message if message.endswith("\n") else message + "\n")
        return status

    @property
    def stop_event(self) -> threading.Event:
        """Set when this command is killed."""
        return self._stop

    def flush(self) -> None:
        """Send what was written so far to the host now (for commands that run until stopped)."""
        self.session.flush()

    def stopped(self) -> bool:
        """True once the command was killed (`kill PID`) or the host hung up: long commands end then."""
        return self._stop.is_set() or self.session.hung_up()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking early when stopped; True when stopped."""
        deadline = time.monotonic() + seconds
        while not self.stopped():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._stop.wait(min(left, 0.05))
        return True


CommandFn = Callable[[CommandIO, list[str]], int]


def unlocked(function: CommandFn) -> CommandFn:
    """Mark a command that takes the device lock itself (it sleeps or does slow work outside it)."""
    function.unlocked = True  # type: ignore[attr-defined]
    return function
