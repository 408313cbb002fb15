"""Record and replay of tool calls (suites' recordings), and old text-only recordings still replaying."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from phone_agent.errors import ModelError
from phone_agent.model.client import ToolCall
from phone_agent.suites.recording import Recording, RecordingModel, screen_hash
from tests.support import ScriptedModel, calls, png

TOOLS = [{"type": "function", "function": {"name": "tap", "parameters": {"type": "object"}}}]


def screen(shade: int = 200) -> list[dict[str, Any]]:
    image = base64.b64encode(png(shade=shade)).decode()
    url = f"data:image/png;base64,{image}"
    content = [{"type": "text", "text": "t"}, {"type": "image_url", "image_url": {"url": url}}]
    return [{"role": "user", "content": content}]


def test_tool_calls_are_recorded_and_replayed(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    model = ScriptedModel([calls(("tap", '{"element": [1, 2]}'), text="Tap it."), "finish()"])
    recorder = RecordingModel(Recording(path), "record", model)
    recorder.complete(screen(), tools=TOOLS)
    recorder.complete(screen())
    recorder.recording.save()
    assert model.tools == [TOOLS, None]

    saved = json.loads(path.read_text(encoding="utf-8"))["calls"]
    assert saved[0]["tool_calls"] == [{"id": "call_1", "name": "tap", "arguments": '{"element": [1, 2]}'}]
    assert "tool_calls" not in saved[1]

    replayer = RecordingModel(Recording.load(path), "replay", None)
    seen: list[str] = []
    first = replayer.complete(screen(), seen.append, tools=TOOLS)
    assert first.text == "Tap it." and first.tool_calls == (ToolCall("call_1", "tap", '{"element": [1, 2]}'),)
    assert replayer.complete(screen()).tool_calls == ()
    assert replayer.replayed == 2 and seen == ["Tap it."]


def test_recordings_from_before_tool_calls_still_replay(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    entry = {"screen": screen_hash(png()), "reply": '<answer>do(action="Back")</answer>'}
    path.write_text(json.dumps({"calls": [entry]}), encoding="utf-8")
    completion = RecordingModel(Recording.load(path), "replay", None).complete(screen(), tools=TOOLS)
    assert completion.text == entry["reply"] and completion.tool_calls == ()


def test_a_drifted_screen_without_a_model_is_still_an_error(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps({"calls": [{"screen": "f" * 16, "reply": "", "tool_calls": []}]}), encoding="utf-8")
    with pytest.raises(ModelError, match="does not match the screen"):
        RecordingModel(Recording.load(path), "replay", None).complete(screen(shade=10), tools=TOOLS)
