"""The conversation with the model as typed turns: system prompt, then screen turns, replies and tool results.

Only the latest screen turn keeps its screenshot; older ones keep their text. Images dominate the
request size, and the model needs the current screen, not the history of pixels. The turns carry
the image bytes; only the model client writes them in a provider's wire format.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any, Literal, Protocol

from phone_agent.model.reply import Completion, ToolCall

Language = Literal["en", "zh"]
DialectName = Literal["autoglm", "tools"]
ToolDefinition = dict[str, Any]  # an OpenAI function definition: JSON schema, data by nature


@dataclass(frozen=True)
class Image:
    """An image as sent to the model: its bytes and their MIME type."""

    data: bytes
    mime: str = "image/png"


@dataclass(frozen=True)
class System:
    """The system prompt."""

    text: str


@dataclass(frozen=True)
class User:
    """A user turn: text and images in order."""

    parts: tuple[str | Image, ...]


@dataclass(frozen=True)
class Assistant:
    """The model's turn as it should see it next time: its text and the tools it called."""

    text: str
    calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class ToolResult:
    """The answer to one tool call."""

    call_id: str
    text: str


Turn = System | User | Assistant | ToolResult


class ChatModel(Protocol):
    """What the loop, the judge and the doctor need from a model client (``phone_agent.model.client.ChatClient``)."""

    def complete(
        self, turns: Sequence[Turn], on_text: Callable[[str], None] | None, tools: Sequence[ToolDefinition]
    ) -> Completion:
        """The model's reply to ``turns``, streaming its text to ``on_text``; with ``tools`` it may call one."""
        ...


def ask(model: ChatModel, system: str, *parts: str | Image) -> str:
    """One question without history or tools: the reply's text."""
    return model.complete([System(system), User(parts)], None, ()).text


def prompt(name: str) -> str:
    """A prompt from ``prompts/``, without the file's final newline."""
    return _prompt_file(name).rstrip("\n")


def system_prompt(lang: Language, dialect: DialectName = "autoglm") -> str:
    """The system prompt in the run's language, for answers in AutoGLM text or as tool calls."""
    # As read, final newline included: suite recordings are keyed by a digest of the system prompt.
    return _prompt_file(f"system_{lang}.md" if dialect == "autoglm" else f"system_tools_{lang}.md")


def _prompt_file(name: str) -> str:
    """The text of a file in ``prompts/``."""
    return resources.files("phone_agent.model").joinpath(f"prompts/{name}").read_text("utf-8")


def screen_text(
    current_app: str,
    *,
    task: str | None = None,
    note: str | None = None,
    secure: bool = False,
    failure: str | None = None,
) -> str:
    """The text part of a user turn: the task (first turn only), screen info, and feedback."""
    info: dict[str, Any] = {"current_app": current_app or "unknown"}
    if failure:
        info["screenshot"] = f"unavailable: {failure} (the image is black)"
    elif secure:
        info["screenshot"] = "unavailable: the screen is protected (e.g. a payment or password page) and shows black"
    parts = []
    if task is not None:
        parts.append(f"Task: {task}")
    if note:
        parts.append(note)
    parts.append("Screen info: " + json.dumps(info, ensure_ascii=False))
    return "\n\n".join(parts)


class Conversation:
    """The turns of one run, oldest first."""

    def __init__(self, system: str) -> None:
        self.turns: list[Turn] = [System(system)]

    def add_screen(self, text: str, image: Image) -> None:
        """Append a user turn with the current screenshot, dropping images from earlier turns."""
        self.turns = [
            replace(turn, parts=tuple(p for p in turn.parts if isinstance(p, str))) if isinstance(turn, User) else turn
            for turn in self.turns
        ]
        self.turns.append(User((text, image)))

    def add_text(self, text: str) -> None:
        """Append a user turn without an image (e.g. a parse error to correct)."""
        self.turns.append(User((text,)))

    def add_reply(self, text: str, calls: Sequence[ToolCall] = ()) -> None:
        """Append the model's reply (and the tools it called) as the model should see it next time."""
        self.turns.append(Assistant(text, tuple(calls)))

    def add_tool_result(self, call_id: str, text: str) -> None:
        """Append the result of one tool call; each call needs one before the next user turn."""
        self.turns.append(ToolResult(call_id, text))
