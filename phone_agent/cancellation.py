"""Stopping a run from another thread: Ctrl-C on a fan-out, or an MCP client cancelling ``run_task``.

Only the main thread receives Ctrl-C, and an MCP cancel arrives on the server's event loop, while a run
works in its own thread. A ``Cancellation`` carries the request across: the agent checks it before each
step, waits on it instead of sleeping, and the model client cuts its connections when it is cancelled,
so a request the model is still thinking about ends at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Cancelled(KeyboardInterrupt):
    """Raised where a cancelled run stops; like Ctrl-C, it ends the run with status ``interrupted``."""


class Cancellation:
    """A request to stop, made once from any thread, seen by the run wherever it waits."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._reason = ""
        self._hooks: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        """Whether a stop was requested."""
        return self._event.is_set()

    def cancel(self, reason: str) -> None:
        """Request the stop (the first reason is kept) and run the hooks of the waits in progress."""
        with self._lock:
            if self._event.is_set():
                return
            self._reason = reason
            self._event.set()
            hooks = list(self._hooks)
        for hook in hooks:
            hook()

    def check(self) -> None:
        """Return if no stop was requested.

        Raises:
            Cancelled: a stop was requested; its message is the reason.
        """
        if self._event.is_set():
            raise Cancelled(self._reason)

    def sleep(self, seconds: float) -> None:
        """Sleep, or less once a stop is requested."""
        self._event.wait(seconds)

    @contextmanager
    def on_cancel(self, hook: Callable[[], None]) -> Iterator[None]:
        """Run ``hook`` (from the cancelling thread) if a stop is requested while inside; at once if it was already."""
        with self._lock:
            self._hooks.append(hook)
            already = self._event.is_set()
        try:
            if already:
                hook()
            yield
        finally:
            with self._lock:
                self._hooks.remove(hook)
