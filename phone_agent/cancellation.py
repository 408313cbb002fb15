"""Stopping a run from another thread: Ctrl-C on a fan-out, or an MCP client cancelling ``run_task``.

Only the main thread receives Ctrl-C, and an MCP cancel arrives on the server's event loop, while a run
works in its own thread. A ``Cancellation`` carries the request across: the agent checks it before each
step and a wait on the phone wakes, and the model client cuts its connections, so a request the model is
still thinking about ends at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
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

    def wait(self, seconds: float) -> None:
        """Wait ``seconds``, or less: not at all once a stop is requested (the caller then checks and stops)."""
        self._event.wait(seconds)

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds``; a stop requested meanwhile wakes it (a Wait action ends early).

        A sleep begun after the stop is whole: settling after the last action polls with short sleeps, which
        must not become a busy loop.
        """
        woken = threading.Event()
        with self._hooked(woken.set):
            woken.wait(seconds)

    @contextmanager
    def on_cancel(self, hook: Callable[[], None]) -> Iterator[None]:
        """Run ``hook`` (from the cancelling thread) if a stop is requested while inside; at once if it was already."""
        with self._hooked(hook) as already:
            if already:
                hook()
            yield

    @contextmanager
    def _hooked(self, hook: Callable[[], None]) -> Iterator[bool]:
        """Have ``cancel`` run ``hook`` while inside; whether the stop was requested already."""
        with self._lock:
            self._hooks.append(hook)
            already = self._event.is_set()
        try:
            yield already
        finally:
            with self._lock:
                self._hooks.remove(hook)


def wait_all(done: Sequence[threading.Event]) -> None:
    """Wait until every event is set (each thread's work is over); Ctrl-C gets through, as KeyboardInterrupt."""
    # Events, not Thread.join: a join interrupted by Ctrl-C can leave a running thread looking finished
    # (CPython 3.11), and the timeout lets Ctrl-C through.
    for event in done:
        while not event.wait(timeout=0.2):
            pass
