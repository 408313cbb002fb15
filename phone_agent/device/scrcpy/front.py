"""The app in front, asked for while the screen settles, so the answer is ready when the next step needs it.

Asking costs a ``dumpsys`` round trip (100-300 ms on a phone). Without an action, the app in front cannot
change without the screen changing, so an answer asked for after the last change stays true until the next
one or the next action (an app started can be in front before its first frame arrives).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

# Ask once the screen has been still this long: most transitions are over, and the answer (one dumpsys)
# still arrives before the settle's quiet window ends.
ASK_AFTER_QUIET = 0.05


class FrontApp:
    """Caches the app in front per screen content (the video's change count)."""

    def __init__(self, query: Callable[[], str]) -> None:
        self._query = query
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scrcpy-front-app")
        self._asked: tuple[int, Future[str]] | None = None

    def prefetch(self, changes: int, quiet_for: float) -> None:
        """Ask in the background when the screen (content number ``changes``) has been still long enough."""
        if quiet_for >= ASK_AFTER_QUIET and (self._asked is None or self._asked[0] != changes):
            self._asked = (changes, self._pool.submit(self._query))

    def forget(self) -> None:
        """An action may change the app in front before the screen: ask afresh."""
        self._asked = None

    def get(self, changes: int) -> str:
        """The app in front of content number ``changes``: the answer asked for it, or a fresh one."""
        if self._asked is not None and self._asked[0] == changes:
            return self._asked[1].result()
        return self._query()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
