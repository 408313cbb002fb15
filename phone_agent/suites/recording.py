"""Record and replay of model replies, keyed by what the screen looked like and what was asked.

``--record`` saves each model reply of a case with a fingerprint of the screenshot it answered and of
the request's system prompt (an agent step and a judge look at the same screen but ask different
things). ``--replay`` answers from the recording while both still match (no model call), asks the
model where the screen has drifted, and keeps the healed reply. Runs become fast, free and
repeatable, and a changed app shows up as healed calls instead of silent failures. A reply's tool
calls are kept with it (``"tool_calls": [{"id", "name", "arguments"}]``).

The screen fingerprint is a 24x52 grayscale thumbnail (status bar left out): a switch turned on or a
different list shows in it, a blinking cursor does not.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from phone_agent.device.frames import thumbnail
from phone_agent.errors import ModelError
from phone_agent.model.messages import ChatModel, Image, System, ToolDefinition, Turn, User
from phone_agent.model.reply import Completion, ToolCall

Mode = Literal["record", "replay"]
Source = Literal["replayed", "healed", "recorded"]
FINGERPRINT_SIZE = (24, 52)  # width, height: about the aspect of a phone screen
# Two fingerprints show the same screen when at most this share of their pixels moved by more than
# _PIXEL_DELTA gray levels (a toggle switch is about 1 %, a cursor under 0.2 %).
MAX_CHANGED = 0.005
_PIXEL_DELTA = 24


def screen_fingerprint(png: bytes) -> str:
    """A small grayscale picture of the screen, base64-encoded, to compare screens across runs."""
    image = thumbnail(png)
    if image is None:
        return ""
    small = cv2.resize(image, FINGERPRINT_SIZE, interpolation=cv2.INTER_AREA)
    return base64.b64encode(small.tobytes()).decode("ascii")


def same_fingerprint(a: str, b: str) -> bool:
    """True when two fingerprints show the same screen."""
    if not a or not b:
        return a == b
    first, second = (np.frombuffer(base64.b64decode(x), np.uint8).astype(np.int16) for x in (a, b))
    if first.shape != second.shape:
        return False
    return int(np.count_nonzero(np.abs(first - second) > _PIXEL_DELTA)) <= MAX_CHANGED * first.size


def request_kind(turns: Sequence[Turn]) -> str:
    """A short digest of the system prompt: which kind of question this is (agent step, judge, ...)."""
    system = next((turn.text for turn in turns if isinstance(turn, System)), "")
    return hashlib.sha256(system.encode("utf-8")).hexdigest()[:12]


def _latest_image(turns: Sequence[Turn]) -> bytes | None:
    images = [part for turn in turns if isinstance(turn, User) for part in turn.parts if isinstance(part, Image)]
    return images[-1].data if images else None


@dataclass
class Recording:
    """The replies of one case, in order, each with the screen and the kind of request it answered."""

    path: Path
    calls: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Recording:
        """Read a recording; a missing file is an empty recording.

        Raises:
            ValueError: the file is not a recording (the case then reports an error).
        """
        if not path.exists():
            return cls(path)
        try:
            return cls(path, list(json.loads(path.read_text(encoding="utf-8"))["calls"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path} is not a recording ({exc}); delete it or record again with --record") from None

    def save(self) -> None:
        """Write the recording next to the suite."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"calls": self.calls}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


@dataclass
class RecordingModel:
    """A ``ChatModel`` that records or replays; ``model`` is None when no real model is configured.

    ``sources`` says, call by call, whether the reply was replayed, healed or recorded.
    """

    recording: Recording
    mode: Mode
    model: ChatModel | None
    sources: list[Source] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def replayed(self) -> int:
        return self.sources.count("replayed")

    @property
    def healed(self) -> int:
        return self.sources.count("healed")

    @property
    def changed(self) -> bool:
        """Whether the recording differs from the file: something was recorded or healed, or calls were left over."""
        return self.replayed != len(self.sources) or len(self.recording.calls) != len(self.sources)

    def finish(self) -> None:
        """Drop recorded calls this run did not reach (a healed run may need fewer steps)."""
        del self.recording.calls[len(self.sources) :]

    def complete(
        self,
        turns: Sequence[Turn],
        on_text: Callable[[str], None] | None = None,
        tools: Sequence[ToolDefinition] = (),
    ) -> Completion:
        """Answer from the recording when the screen and the request match, else ask the model and keep its reply.

        Raises:
            ModelError: the screen drifted (or the recording ran out) and no model is configured.
        """
        image = _latest_image(turns)
        screen = screen_fingerprint(image) if image is not None else ""
        kind = request_kind(turns)
        with self._lock:
            index = len(self.sources)
            calls = self.recording.calls
            if self.mode == "replay" and index < len(calls) and _matches(calls[index], screen, kind):
                self.sources.append("replayed")
                text = calls[index]["reply"]
                if on_text is not None and text:
                    on_text(text)
                return Completion(text, 0.0, 0.0, None, 0, 0, _tool_calls(calls[index]))
        if self.model is None:
            raise ModelError(
                f"call {index + 1} of the recording {self.recording.path} does not match the screen and no model "
                "is configured to heal it: give --base-url/--provider, or record again with --record"
            )
        completion = self.model.complete(turns, on_text, tools)
        with self._lock:
            entry: dict[str, Any] = {"kind": kind, "screen": screen, "reply": completion.text}
            if completion.tool_calls:
                entry["tool_calls"] = [
                    {"id": call.id, "name": call.name, "arguments": call.arguments} for call in completion.tool_calls
                ]
            if index < len(self.recording.calls):
                self.recording.calls[index] = entry
            else:
                self.recording.calls.append(entry)
            self.sources.append("healed" if self.mode == "replay" else "recorded")
        return completion


def _tool_calls(entry: dict[str, Any]) -> tuple[ToolCall, ...]:
    """The recorded tool calls of one reply (none in recordings of AutoGLM text)."""
    return tuple(
        ToolCall(str(call["id"]), str(call["name"]), str(call["arguments"])) for call in entry.get("tool_calls", ())
    )


def _matches(entry: dict[str, Any], screen: str, kind: str) -> bool:
    return entry.get("kind") == kind and same_fingerprint(str(entry.get("screen", "")), screen)
