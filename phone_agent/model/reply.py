"""A model's reply as it streams in: its text, when its thinking ended, and whether its answer is closed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_ANSWER_END = "</answer>"
_THINKING_ENDS = ("</think>", "<answer>")
_LONGEST_MARKER = max(len(marker) for marker in (_ANSWER_END, *_THINKING_ENDS))


class Reply:
    """The reply as it grows: its text, when its markers appeared, and whether the answer is closed."""

    def __init__(self, clock: Callable[[], float], started: float, on_text: Callable[[str], None] | None) -> None:
        """Start an empty reply whose times count from ``started``."""
        self._clock = clock
        self._started = started
        self._on_text = on_text
        self._in_reasoning = False
        self.text = ""
        self.first_token_at: float | None = None
        self.thinking_at: float | None = None
        self.answer_closed = False

    def take_choice(self, choice: dict[str, Any], field: str) -> str | None:
        """Add ``choice[field]``'s reasoning and content (``field`` is "delta" or "message"); return finish_reason."""
        message = choice.get(field)
        if isinstance(message, dict):
            # vLLM calls it "reasoning", z.ai and SGLang "reasoning_content".
            reasoning = message.get("reasoning_content") or message.get("reasoning")
            content = message.get("content")
            if isinstance(reasoning, str):
                self.add_reasoning(reasoning)
            if isinstance(content, str):
                self.add_content(content)
        finish = choice.get("finish_reason")
        return finish if isinstance(finish, str) and finish else None

    def add_reasoning(self, piece: str) -> None:
        """Add thinking that the server sent apart from the content, inside ``<think>`` tags."""
        if not piece:
            return
        if not self._in_reasoning:
            self._in_reasoning = True
            self._add("<think>")
        self._add(piece)

    def add_content(self, piece: str) -> None:
        """Add a piece of the reply's content."""
        if not piece:
            return
        self.close_reasoning()
        self._add(piece)

    def close_reasoning(self) -> None:
        """Close an open ``<think>`` block made from reasoning pieces."""
        if self._in_reasoning:
            self._in_reasoning = False
            self._add("</think>")

    def _add(self, piece: str) -> None:
        """Append a piece, note the markers it completes, and hand it to ``on_text``."""
        elapsed = self._clock() - self._started
        if self.first_token_at is None:
            self.first_token_at = elapsed
        # A marker may straddle two pieces, so look a little before the new piece too.
        window_start = max(0, len(self.text) - _LONGEST_MARKER + 1)
        self.text += piece
        window = self.text[window_start:]
        if self.thinking_at is None and any(marker in window for marker in _THINKING_ENDS):
            self.thinking_at = elapsed
        if _ANSWER_END in window:
            self.answer_closed = True
        if self._on_text is not None:
            self._on_text(piece)
