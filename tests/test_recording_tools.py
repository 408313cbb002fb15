"""Record and replay of model replies (suites' recordings): tool calls, screens, request kinds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from phone_agent.errors import ModelError
from phone_agent.model.messages import Image, System, Turn, User
from phone_agent.model.reply import ToolCall
from phone_agent.suites.recording import Recording, RecordingModel, request_kind, screen_fingerprint
from tests.support import ScriptedModel, calls, png

TOOLS = [{"type": "function", "function": {"name": "tap", "parameters": {"type": "object"}}}]


def screen(shade: int = 200) -> list[Turn]:
    return [User(("t", Image(png(shade=shade))))]


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


def test_text_replies_without_tool_calls_replay(tmp_path: Path) -> None:
    path = tmp_path / "text.json"
    messages = screen()
    entry = {"kind": request_kind(messages), "screen": screen_fingerprint(png()), "reply": 'do(action="Back")'}
    path.write_text(json.dumps({"calls": [entry]}), encoding="utf-8")
    completion = RecordingModel(Recording.load(path), "replay", None).complete(messages, tools=TOOLS)
    assert completion.text == entry["reply"] and completion.tool_calls == ()


def test_a_drifted_screen_without_a_model_is_still_an_error(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    entry = {"kind": request_kind(screen()), "screen": screen_fingerprint(png(shade=200)), "reply": ""}
    path.write_text(json.dumps({"calls": [entry]}), encoding="utf-8")
    with pytest.raises(ModelError, match="does not match the screen"):
        RecordingModel(Recording.load(path), "replay", None).complete(screen(shade=10), tools=TOOLS)


def test_a_judge_question_is_not_answered_with_an_agent_reply(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    recorder = RecordingModel(Recording(path), "record", ScriptedModel(['do(action="Back")']))
    recorder.complete([System("agent"), *screen()])
    recorder.recording.save()
    healer = ScriptedModel(["YES: fine"])
    replayer = RecordingModel(Recording.load(path), "replay", healer)
    judged = replayer.complete([System("judge"), *screen()])
    assert judged.text == "YES: fine" and replayer.sources == ["healed"]


def test_calls_a_shorter_run_did_not_reach_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    recorder = RecordingModel(Recording(path), "record", ScriptedModel(["a", "b", "c"]))
    for _ in range(3):
        recorder.complete(screen())
    recorder.recording.save()
    replayer = RecordingModel(Recording.load(path), "replay", None)
    replayer.complete(screen())
    assert replayer.changed
    replayer.finish()
    assert [call["reply"] for call in replayer.recording.calls] == ["a"]
    untouched = RecordingModel(Recording.load(path), "replay", None)
    for _ in range(3):
        untouched.complete(screen())
    assert not untouched.changed and untouched.sources == ["replayed"] * 3
