"""The two ways the loop and the model talk: AutoGLM text, or OpenAI tool calling.

A dialect turns a completion into a typed action (or an ``ActionParseError`` written for the model)
and keeps the conversation in its own format. In the tools dialect every tool call in an assistant
turn is answered by a ``tool`` message before the next user turn, as the OpenAI API requires; a reply
that calls no tool is still read with the tolerant AutoGLM grammar, and recorded as the call it meant.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from actions import (
    Action,
    ActionParseError,
    format_action,
    parse_reply,
    parse_tool_call,
    tool_call_for,
    tool_definitions,
)
from phone_agent.errors import RunAborted
from phone_agent.loop.results import Listener
from phone_agent.model.messages import ChatModel, Conversation, DialectName, ToolDefinition
from phone_agent.model.reply import Completion, ToolCall

_THINK_TAGS = re.compile(r"</?think>")
_AUTOGLM_ATTEMPT = re.compile(r"<answer>|\b(?:do|finish)\s*\(")
DONE = "done"


@dataclass(frozen=True)
class Decision:
    """A reply understood: the model's reasoning, the action in AutoGLM form, the action, and its tool call id."""

    thinking: str
    answer: str
    action: Action
    call_id: str | None = None


class Dialect(Protocol):
    """What the loop needs from a dialect."""

    tools: tuple[ToolDefinition, ...]

    def parse(self, completion: Completion) -> Decision:
        """The completion's one action. Raises: ActionParseError: for the model to correct."""
        ...

    def accept(self, conversation: Conversation, decision: Decision) -> None:
        """Record the understood reply as the model should see it next time."""
        ...

    def reject(self, conversation: Conversation, completion: Completion, error: ActionParseError) -> None:
        """Record the reply that could not be understood, and the error the model must correct."""
        ...

    def report(self, conversation: Conversation, decision: Decision, feedback: str | None) -> str | None:
        """Tell the model how the action went where the dialect says so; return what the next user turn must add."""
        ...


def dialect_for(name: DialectName) -> Dialect:
    """A fresh dialect for one run."""
    return ToolDialect() if name == "tools" else TextDialect()


def ask_until_understood(
    model: ChatModel,
    conversation: Conversation,
    dialect: Dialect,
    listener: Listener,
    lap: Callable[[str], None],
    max_retries: int,
) -> tuple[Decision, Completion, int]:
    """Ask the model until its reply parses, sending each parse error back; also the number of retries.

    ``lap`` is told when the model phase and the parse phase end.

    Raises:
        RunAborted: the reply was malformed more than ``max_retries`` times in a row.
    """
    retries = 0
    while True:
        completion = model.complete(conversation.turns, listener.model_text, dialect.tools)
        lap("model")
        try:
            decision = dialect.parse(completion)
        except ActionParseError as exc:
            lap("parse")
            reply = raw_reply(completion)
            listener.parse_failed(reply, exc)
            if retries >= max_retries:
                raise RunAborted(f"The model's reply could not be understood {retries + 1} times in a row "
                                 f"({exc}). Its last reply was:\n{reply}") from None
            retries += 1
            dialect.reject(conversation, completion, exc)
            continue
        lap("parse")
        dialect.accept(conversation, decision)
        return decision, completion, retries


def raw_reply(completion: Completion) -> str:
    """The completion as text for traces and error messages: its text, then one line per tool call."""
    lines = [completion.text] if completion.text else []
    lines += [f"[tool call {call.name}] {call.arguments}" for call in completion.tool_calls]
    return "\n".join(lines)


class TextDialect:
    """AutoGLM: ``<think>…</think><answer>do(...)</answer>`` in the reply's text."""

    tools: tuple[ToolDefinition, ...] = ()

    def parse(self, completion: Completion) -> Decision:
        """The action in the reply's text. Raises: ActionParseError: for the model to correct."""
        parsed = parse_reply(completion.text)
        return Decision(parsed.thinking, parsed.answer, parsed.action)

    def accept(self, conversation: Conversation, decision: Decision) -> None:
        """Record the reply in its canonical form."""
        conversation.add_reply(f"<think>{decision.thinking}</think><answer>{format_action(decision.action)}</answer>")

    def reject(self, conversation: Conversation, completion: Completion, error: ActionParseError) -> None:
        """Record the reply as sent, then the error as the next user turn."""
        conversation.add_reply(completion.text)
        conversation.add_text(f"{error} Reply again: <think>...</think><answer>one action</answer>.")

    def report(self, conversation: Conversation, decision: Decision, feedback: str | None) -> str | None:
        """Feedback goes into the next user turn."""
        return feedback


class ToolDialect:
    """OpenAI tool calling: one tool per action, reasoning in the message text."""

    def __init__(self) -> None:
        """Offer every action as a tool."""
        self.tools = tuple(tool_definitions())
        self._text_answers = 0

    def parse(self, completion: Completion) -> Decision:
        """The reply's single tool call, else an AutoGLM answer in its text.

        Raises:
            ActionParseError: several tool calls, a bad call, or no action at all.
        """
        calls = completion.tool_calls
        thinking = _thinking(completion)
        if len(calls) > 1:
            names = ", ".join(call.name for call in calls)
            raise ActionParseError(
                f"You called {len(calls)} tools at once ({names}); none was carried out. Call exactly one tool "
                "per turn: you will see the new screen before the next one."
            )
        if calls:
            action = parse_tool_call(calls[0].name, calls[0].arguments)
            return Decision(thinking, format_action(action), action, calls[0].id)
        try:
            parsed = parse_reply(completion.text)
        except ActionParseError as exc:
            if _AUTOGLM_ATTEMPT.search(completion.text):
                raise ActionParseError(f"{exc} Better: call one of the tools instead.") from None
            raise ActionParseError(
                "Your reply called no tool. Act by calling exactly one tool (finish when the task is done), "
                "with your reasoning in the message text."
            ) from None
        self._text_answers += 1
        return Decision(parsed.thinking, parsed.answer, parsed.action, f"call_text_{self._text_answers}")

    def accept(self, conversation: Conversation, decision: Decision) -> None:
        """Record the call in canonical form (a text answer as the call it meant)."""
        assert decision.call_id is not None
        name, arguments = tool_call_for(decision.action)
        conversation.add_reply(decision.thinking, [ToolCall(decision.call_id, name, arguments)])

    def reject(self, conversation: Conversation, completion: Completion, error: ActionParseError) -> None:
        """Answer each rejected call with the error; a reply without calls gets it as a user turn."""
        if not completion.tool_calls:
            conversation.add_reply(completion.text)
            conversation.add_text(str(error))
            return
        calls = [ToolCall(call.id, call.name, _json_object_or_empty(call.arguments)) for call in completion.tool_calls]
        conversation.add_reply(_thinking(completion), calls)
        for call in completion.tool_calls:
            conversation.add_tool_result(call.id, f"Not carried out. {error}")

    def report(self, conversation: Conversation, decision: Decision, feedback: str | None) -> str | None:
        """The action's result (its feedback, or "done") is the tool's answer; nothing is left for the user turn."""
        assert decision.call_id is not None
        conversation.add_tool_result(decision.call_id, feedback or DONE)
        return None


def _thinking(completion: Completion) -> str:
    """The text that came with tool calls, without the think tags some servers wrap it in."""
    return _THINK_TAGS.sub("", completion.text).strip()


def _json_object_or_empty(arguments: str) -> str:
    """Arguments fit to send back in the history: some servers decode them and refuse a request that is not JSON."""
    try:
        return arguments if isinstance(json.loads(arguments), dict) else "{}"
    except (ValueError, RecursionError):
        return "{}"
