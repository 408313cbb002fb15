"""Repeating a failed model request, with tenacity: exponential backoff, Retry-After, and a final typed error."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NoReturn, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential

from phone_agent.errors import ModelError

log = logging.getLogger(__name__)
_T = TypeVar("_T")

RETRY_AFTER_CAP = 60.0  # seconds; a provider asking for longer is better reported than waited on
BACKOFF_BASE = 1.0  # seconds before the first retry; doubled for each one after

_backoff = wait_exponential(multiplier=BACKOFF_BASE, max=RETRY_AFTER_CAP)


class Retryable(Exception):
    """A failed attempt worth repeating; if attempts run out, ``error_type(message)`` is raised."""

    def __init__(
        self,
        error_type: type[ModelError],
        message: str,
        *,
        hint: str = "",
        retry_after: float | None = None,
        dropped: bool = False,
    ) -> None:
        """Describe the failure; ``dropped`` marks a response that broke off after it had begun."""
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.hint = hint
        self.retry_after = retry_after
        self.dropped = dropped


def with_retries(attempt: Callable[[], _T], max_retries: int, sleep: Callable[[float], None]) -> tuple[_T, int]:
    """Run ``attempt`` until it succeeds, sleeping between tries; return its result and how many retries it took.

    Raises:
        ModelError: the ``error_type`` of the last ``Retryable`` once tries run out, or any other error at once.
    """
    retries = 0
    drops = 0

    def out_of_tries(state: RetryCallState) -> bool:
        # A dropped stream is retried once at most: twice is a broken server.
        return state.attempt_number > max_retries or (_failure(state).dropped and drops >= 1)

    def note_retry(state: RetryCallState) -> None:
        nonlocal retries, drops
        failure = _failure(state)
        retries = state.attempt_number
        drops += failure.dropped
        delay = state.next_action.sleep if state.next_action else 0.0
        log.warning("%s; retry %d of %d in %.1f s", failure.message, retries, max_retries, delay)

    retrying = Retrying(
        retry=retry_if_exception_type(Retryable),
        stop=out_of_tries,
        wait=_wait,
        sleep=sleep,
        before_sleep=note_retry,
        retry_error_callback=_give_up,
    )
    return retrying(attempt), retries


def _failure(state: RetryCallState) -> Retryable:
    """The ``Retryable`` that ended the attempt just made (only those are retried)."""
    assert state.outcome is not None
    failure = state.outcome.exception()
    assert isinstance(failure, Retryable)
    return failure


def _wait(state: RetryCallState) -> float:
    """The server's Retry-After if it gave one (already capped), else 1, 2, 4, 8 … seconds."""
    failure = _failure(state)
    return failure.retry_after if failure.retry_after is not None else _backoff(state)


def _give_up(state: RetryCallState) -> NoReturn:
    """Raise the final error for the last failure, saying how many retries were spent."""
    failure = _failure(state)
    retries = state.attempt_number - 1
    tries = f"after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else "with no retry"
    hint = f"; {failure.hint}" if failure.hint else ""
    raise failure.error_type(f"{failure.message}, gave up {tries}{hint}") from failure.__cause__
