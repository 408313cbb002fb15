"""The replay model's script: its format, loading it, and which step answers each request.

A script is YAML or JSON::

    model: autoglm-phone-multilingual
    replies:
      - '<think>Open the shop.</think><answer>do(action="Launch", app="eBay")</answer>'
      - reply: '<answer>do(action="Back")</answer>'
        latency_ms: 300                               # wait before answering
      - error: {status: 429, retry_after: 1}          # rate limited, with Retry-After
      - error: {status: 500}
      - error: {status: 429, code: "1302", message: "Rate limit reached"}   # a z.ai business error
      - drop: true                                    # the stream breaks off half-way
      - tool_call: {name: tap, arguments: {element: [500, 145]}}   # an OpenAI tool call
        reply: The search box is at the top.          # optional text sent with it (the reasoning)
      - tool_calls: [{name: back}, {name: home}]      # several calls in one reply

By default the steps are answered in order, whoever asks. With ``per_conversation=True`` each request
is answered from its own place in the script instead: the number of assistant turns it carries says
how far its conversation has got, so any number of identical conversations (the same task on several
phones) replay the same script at once. An injected failure (``error``, ``drop``) belongs to the reply
after it and is served once, to the first request that reaches that reply.

A reply may hold half of a surrogate pair (``"\\ud83d"``), as servers that count UTF-16 code units
send when a chunk boundary splits an emoji; it goes out as the JSON escape such servers write.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ScriptError(BaseModel):
    """An injected failure: an HTTP status, optionally with a provider error code and Retry-After."""

    model_config = ConfigDict(extra="forbid")
    status: int = Field(ge=400, le=599)
    code: str | None = None
    message: str = "injected error"
    retry_after: float | None = None


class ScriptToolCall(BaseModel):
    """A tool call to answer with; ``arguments`` is an object (sent as JSON) or text sent as it is."""

    model_config = ConfigDict(extra="forbid")
    name: str
    arguments: dict[str, Any] | str = Field(default_factory=dict)
    id: str | None = None

    def arguments_json(self) -> str:
        """The arguments as the JSON text a server sends."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, ensure_ascii=False)


class ScriptStep(BaseModel):
    """One scripted answer: a reply and/or tool calls, an error, or a stream that drops."""

    model_config = ConfigDict(extra="forbid")
    reply: str | None = None
    tool_call: ScriptToolCall | None = None
    tool_calls: list[ScriptToolCall] | None = None
    error: ScriptError | None = None
    drop: bool = False
    latency_ms: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _one_kind(self) -> ScriptStep:
        if self.tool_call is not None and self.tool_calls is not None:
            raise ValueError("give tool_call or tool_calls, not both")
        answer = self.reply is not None or self.tool_call is not None or bool(self.tool_calls)
        if sum((answer, self.error is not None, self.drop)) != 1:
            raise ValueError("each step needs exactly one of: reply and/or tool_call(s), error, drop")
        return self

    def calls(self) -> list[ScriptToolCall]:
        """The step's tool calls, if any."""
        return [self.tool_call] if self.tool_call is not None else list(self.tool_calls or [])


class ReplayScript(BaseModel):
    """The model name to serve and the ordered steps."""

    model_config = ConfigDict(extra="forbid")
    model: str = "autoglm-phone-multilingual"
    replies: list[ScriptStep]

    @model_validator(mode="before")
    @classmethod
    def _plain_strings_are_replies(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("replies"), list):
            data = {**data, "replies": [{"reply": r} if isinstance(r, str) else r for r in data["replies"]]}
        return data


def load_script(path: Path) -> ReplayScript:
    """Read a replay script (YAML or JSON).

    Raises:
        ValueError: the file is not a valid script; the message names the file and the field.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return ReplayScript.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the replay script: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"{path}: invalid replay script: {problems}") from None


@dataclass(frozen=True)
class RecordedRequest:
    """What one chat request carried."""

    model: str
    stream: bool
    messages: list[dict[str, Any]]
    image_count: int
    image_bytes: list[int]
    image_sha256: list[str]
    body_bytes: int
    authorization: bool
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None


@dataclass
class ScriptCursor:
    """Where a replay has got: what was asked so far and which step answers the next request."""

    script: ReplayScript
    per_conversation: bool = False
    position: int = 0
    calls_made: int = 0
    failures_served: set[int] = field(default_factory=set)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_step(self, body: dict[str, Any]) -> ScriptStep | None:
        """The step that answers this request (None when the script has run out); call with the lock held."""
        steps = self.script.replies
        if not self.per_conversation:
            if self.position >= len(steps):
                return None
            self.position += 1
            return steps[self.position - 1]
        turns = turns_of(steps)
        turn = sum(1 for message in body.get("messages", []) if message.get("role") == "assistant")
        if turn >= len(turns):
            return None
        for index in turns[turn]:
            if steps[index].error is not None or steps[index].drop:
                if index not in self.failures_served:
                    self.failures_served.add(index)
                    return steps[index]
            else:
                return steps[index]
        return None  # the script ends with failures and no reply


def turns_of(steps: list[ScriptStep]) -> list[list[int]]:
    """Step indices grouped by reply: the failures injected before an answer, then the answer."""
    turns: list[list[int]] = [[]]
    for index, step in enumerate(steps):
        turns[-1].append(index)
        if step.error is None and not step.drop:
            turns.append([])
    return turns if turns[-1] else turns[:-1]

