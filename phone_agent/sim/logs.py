"""The phone's log buffer, as `logcat` reads it and `log` and the system write it."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

LEVELS = "VDIWEFS"  # verbose … fatal, then silent (a filter level only)
CAPACITY = 5000
SYSTEM_PID = 1234  # system_server


@dataclass(frozen=True)
class LogEntry:
    """One line of the log."""

    seq: int
    when: float  # seconds since the epoch
    pid: int
    tid: int
    level: str
    tag: str
    message: str


class LogBuffer:
    """A bounded, thread-safe log; readers can wait for lines written after the last one they saw."""

    def __init__(self, clock: Callable[[], float] = time.time, capacity: int = CAPACITY) -> None:
        """An empty buffer stamped by `clock`."""
        self._clock = clock
        self._entries: deque[LogEntry] = deque(maxlen=capacity)
        self._changed = threading.Condition()
        self._seq = 0

    def write(self, level: str, tag: str, message: str, pid: int = SYSTEM_PID, tid: int | None = None) -> None:
        """Append one line per line of `message`."""
        with self._changed:
            for line in message.splitlines() or [""]:
                self._seq += 1
                self._entries.append(LogEntry(self._seq, self._clock(), pid, tid or pid, level, tag, line))
            self._changed.notify_all()

    def clear(self) -> None:
        """Forget every line (`logcat -c`)."""
        with self._changed:
            self._entries.clear()

    def after(self, seq: int) -> list[LogEntry]:
        """Lines written after the one numbered `seq` (0: all that are kept)."""
        with self._changed:
            return [entry for entry in self._entries if entry.seq > seq]

    def wait_after(self, seq: int, timeout: float) -> list[LogEntry]:
        """Like `after`, but first wait up to `timeout` seconds for such a line."""
        with self._changed:
            self._changed.wait_for(lambda: self._seq > seq, timeout)
        return self.after(seq)

    def messages(self) -> list[str]:
        """`TAG: message` of every kept line (for tests and the observable state)."""
        return [f"{entry.tag}: {entry.message}" for entry in self.after(0)]
