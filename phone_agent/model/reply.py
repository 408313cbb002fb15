"""A model's reply as it streams in: its text, its tool calls, when its thinking ended, whether its answer is closed."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from actions.grammar import mend_surrogates

_ANSWER_END = "</answer>"
_THINKING_ENDS = ("</think>", "<answer>")
_LONGEST_MARKER = max(len(marker) for marker in (_ANSWER_END, *_THINKING_ENDS))


@dataclass(frozen=True)
class ToolCall:
    """One function call the model asked for: the call's id, the function's name and its arguments as JSON text."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Completion:
    """One reply from the model (its text and any tool calls), with timings in seconds from the call to ``complete``."""

    text: str
    time_to_first_token: float
    total_time: float
    thinking_time: float | None
    retries: int
    request_bytes: int
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass
class _PartialCall:
    """A tool call still arriving: streamed pieces of its name and arguments."""

    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class Reply:
    """The reply as it grows: its text, when its markers appeared, and whether the answer is closed."""

    def __init__(
        self,
        clock: Callable[[], float],
        started: float,
        on_text: Callable[[str], None] | None,
        *,
        stop_at_answer: bool = True,
    ) -> None:
        """Start an empty reply whose times count from ``started``; ``stop_at_answer`` ends it at ``</answer>``."""
        self._clock = clock
        self._started = started
        self._on_text = on_text
        self._in_reasoning = False
        self._calls: dict[int, _PartialCall] = {}
        self._half = ""  # a high surrogate that ended a piece, held until the next piece brings its other half
        self.stop_at_answer = stop_at_answer
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
            calls = message.get("tool_calls")
            if isinstance(calls, list):
                self.add_tool_calls(calls, streamed=field == "delta")
        finish = choice.get("finish_reason")
        return finish if isinstance(finish, str) and finish else None

    @property
    def complete(self) -> bool:
        """Whether the reply needs nothing more: its answer is closed and the dialect stops there."""
        return self.stop_at_answer and self.answer_closed

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        """The tool calls so far, in index order; a call that came without an id is given one."""
        return tuple(
            ToolCall(
                call.id or f"call_{position}",
                mend_surrogates(call.name.strip()),
                mend_surrogates("".join(call.arguments)),
            )
            for position, (_, call) in enumerate(sorted(self._calls.items()))
        )

    def add_tool_calls(self, items: list[Any], *, streamed: bool) -> None:
        """Add tool calls, or streamed pieces of them (``index`` says which call a piece belongs to)."""
        for position, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            call = self._calls.setdefault(self._call_index(item, position, streamed), _PartialCall())
            call_id = item.get("id")
            if isinstance(call_id, str) and call_id:
                call.id = call_id
            function = item.get("function")
            if not isinstance(function, dict):
                continue
            name = function.get("name")
            if isinstance(name, str) and name and name != call.name:
                call.name += name  # usually whole in the first piece; some servers stream it too
            arguments = function.get("arguments")
            if isinstance(arguments, str):
                call.arguments.append(arguments)
            elif isinstance(arguments, dict):  # a few servers send the object itself
                call.arguments = [json.dumps(arguments, ensure_ascii=False)]
            self._mark_progress()

    def _call_index(self, item: dict[str, Any], position: int, streamed: bool) -> int:
        """Which call a piece belongs to: its ``index``; else by its id, else the latest call when streamed."""
        index = item.get("index")
        if isinstance(index, int) and not isinstance(index, bool):
            return index
        if not streamed:
            return position
        call_id = item.get("id")
        for known, call in self._calls.items():
            if call_id and call.id == call_id:
                return known
        if call_id or not self._calls:
            return max(self._calls, default=-1) + 1
        return max(self._calls)

    def _mark_progress(self) -> None:
        """A tool call arrived: the first token, if nothing came before, and the end of the thinking."""
        elapsed = self._clock() - self._started
        if self.first_token_at is None:
            self.first_token_at = elapsed
        if self.thinking_at is None:
            self.thinking_at = elapsed

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

    def end(self) -> None:
        """The stream is over: close open reasoning and let a half character still held become U+FFFD."""
        self.close_reasoning()
        if self._half:
            self._half = ""
            self._add("\ufffd")

    def close_reasoning(self) -> None:
        """Close an open ``<think>`` block made from reasoning pieces."""
        if self._in_reasoning:
            self._in_reasoning = False
            self._add("</think>")

    def _add(self, piece: str) -> None:
        """Append a piece, note the markers it completes, and hand it to ``on_text``.

        A stream may split an emoji's UTF-16 pair across two pieces: a trailing high surrogate waits for
        the next piece, and halves that stay alone become U+FFFD, so no odd text goes further.
        """
        piece = self._half + piece
        self._half = piece[-1] if "\ud800" <= piece[-1] <= "\udbff" else ""
        piece = mend_surrogates(piece[: len(piece) - len(self._half)])
        if not piece:
            return
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


def visible_text(reply: str) -> str:
    """A plain-text reply without its reasoning (up to the last ``</think>``) and without ``<answer>`` tags."""
    return reply.split("</think>")[-1].replace("<answer>", "").replace("</answer>", "").strip()
