"""Record and replay of model replies, keyed by what the screen looked like.

``--record`` saves each model reply of a case with a perceptual hash of the screenshot it answered.
``--replay`` answers from the recording while the screen still matches (no model call), calls the
model where the screen has drifted, and writes the healed reply back. Runs become fast, free and
deterministic, and a changed app shows up as healed steps instead of silent failures. A reply's tool
calls are kept with it (``"tool_calls": [{"id", "name", "arguments"}]``); recordings made before
tool calling existed have none and still replay.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from phone_agent.agent import ChatModel
from phone_agent.device.frames import thumbnail
from phone_agent.errors import ModelError
from phone_agent.model.client import Completion, ToolCall

Mode = Literal["record", "replay"]
MAX_DISTANCE = 6  # of 64 bits: small changes (a cursor, a clock) keep the hash within this


def screen_hash(png: bytes) -> str:
    """A 64-bit difference hash of the screen (status bar ignored), as 16 hex digits."""
    image = thumbnail(png)
    if image is None:
        return "0" * 16
    small = cv2.resize(image, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return f"{int(''.join('1' if bit else '0' for bit in bits), 2):016x}"


def distance(a: str, b: str) -> int:
    """How many of the 64 bits differ."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _latest_image(messages: list[dict[str, Any]]) -> bytes | None:
    for message in reversed(messages):
        content = message.get("content")
        if isinstance(content, list):
            for part in reversed(content):
                if part.get("type") == "image_url":
                    return base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
    return None


@dataclass
class Recording:
    """The replies of one case, in order, each with the screen hash it answered."""

    path: Path
    calls: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Recording:
        """Read a recording; a missing file is an empty recording."""
        if not path.exists():
            return cls(path)
        return cls(path, json.loads(path.read_text(encoding="utf-8"))["calls"])

    def save(self) -> None:
        """Write the recording next to the suite."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"calls": self.calls}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


@dataclass
class RecordingModel:
    """A ``ChatModel`` that records or replays; ``model`` is None when no real model is configured."""

    recording: Recording
    mode: Mode
    model: ChatModel | None
    replayed: int = 0
    healed: int = 0
    recorded: int = 0
    _position: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def complete(
        self,
        messages: list[dict[str, Any]],
        on_text: Callable[[str], None] | None = None,
        tools: list[dict[str, Any]] | None = None,
    ) -> Completion:
        """Answer from the recording when the screen matches, else ask the model and remember its reply.

        Raises:
            ModelError: the screen drifted (or the recording ran out) and no model is configured.
        """
        image = _latest_image(messages)
        key = screen_hash(image) if image is not None else ""
        with self._lock:
            index = self._position
            self._position += 1
            calls = self.recording.calls
            if self.mode == "replay" and index < len(calls) and _matches(calls[index]["screen"], key):
                self.replayed += 1
                text = calls[index]["reply"]
                if on_text is not None and text:
                    on_text(text)
                return Completion(text, 0.0, 0.0, None, 0, 0, _tool_calls(calls[index]))
        if self.model is None:
            raise ModelError(
                f"step {index + 1} of the recording {self.recording.path} does not match the screen and no model "
                "is configured to heal it: give --base-url/--provider, or record again with --record"
            )
        if tools is None:  # a model that predates tool calling need not accept the argument
            completion = self.model.complete(messages, on_text)
        else:
            completion = self.model.complete(messages, on_text, tools)
        with self._lock:
            entry: dict[str, Any] = {"screen": key, "reply": completion.text}
            if completion.tool_calls:
                entry["tool_calls"] = [
                    {"id": call.id, "name": call.name, "arguments": call.arguments} for call in completion.tool_calls
                ]
            if index < len(self.recording.calls):
                self.recording.calls[index] = entry
            else:
                self.recording.calls.append(entry)
            if self.mode == "replay":
                self.healed += 1
            else:
                self.recorded += 1
        return completion


def _tool_calls(entry: dict[str, Any]) -> tuple[ToolCall, ...]:
    """The recorded tool calls of one reply (none in recordings of AutoGLM text)."""
    return tuple(
        ToolCall(str(call["id"]), str(call["name"]), str(call["arguments"])) for call in entry.get("tool_calls", ())
    )


def _matches(recorded: str, current: str) -> bool:
    if not recorded or not current:
        return recorded == current
    return distance(recorded, current) <= MAX_DISTANCE
