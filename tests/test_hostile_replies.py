"""Hostile model output through the real parts: surrogate halves streamed by the replay server, end to end."""

from __future__ import annotations

from pathlib import Path

from phone_agent.model.client import ChatClient
from phone_agent.model.messages import User
from phone_agent.sim.model_server import CHUNK_CHARS, ReplayModelServer, ReplayScript
from phone_agent.sim.testing import AdbServer, PhoneSession
from phone_agent.trace import read_trace
from tests.test_end_to_end import only_run_dir, run_cli

HEADPHONES = "\U0001f3a7"
HIGH, LOW = "\ud83c", "\udfa7"  # the UTF-16 pair of HEADPHONES


def split_emoji(prefix: str, suffix: str) -> str:
    """``prefix + HEADPHONES + suffix`` with the emoji's pair split across two streamed chunks.

    Spaces in front of the reply put the high half last in a chunk of the replay server.
    """
    padding = " " * ((CHUNK_CHARS - 1 - len(prefix)) % CHUNK_CHARS)
    return padding + prefix + HIGH + LOW + suffix


def test_split_pairs_are_joined_and_lone_halves_replaced_before_anything_sees_the_text() -> None:
    reply = split_emoji("<think>Listen ", " and \ud83d wait</think><answer>do(action=\"Back\")</answer>")
    pieces: list[str] = []
    script = ReplayScript.model_validate({"replies": [reply]})
    with ReplayModelServer(script) as server, ChatClient(server.base_url, "m") as client:
        completion = client.complete([User(("hi",))], on_text=pieces.append)
    thinking = f"<think>Listen {HEADPHONES} and \ufffd wait</think>"
    assert completion.text.strip() == thinking + '<answer>do(action="Back")</answer>'
    assert "".join(pieces) == completion.text
    for piece in pieces:
        piece.encode("utf-8")  # each piece can be printed as it arrives


def test_a_run_whose_replies_hold_split_pairs_and_lone_halves_ends_cleanly(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path
) -> None:
    replies = [
        split_emoji("<think>Open the shop for ", '</think><answer>do(action="Launch", app="eBay")</answer>'),
        '<answer>do(action="Tap", element=[500, 145])</answer>',
        split_emoji('<answer>do(action="Type", text="earbuds ', '")</answer>'),
        '<answer>do(action="Fly \ud83d")</answer>',
        '<think>Done \ud83d</think><answer>finish(message="Found earbuds \ud83d")</answer>',
    ]
    with ReplayModelServer(ReplayScript.model_validate({"replies": replies})) as server:
        result = run_cli(adb, phone, server, tmp_path)
        requests = server.requests
    assert result.exit_code == 0, result.output
    assert "FINISHED: Found earbuds \ufffd" in result.output
    assert f"earbuds {HEADPHONES}" in phone.phone.state()["screen_texts"]  # typed into the search box
    records = read_trace(only_run_dir(tmp_path))
    steps = [r for r in records if r["type"] == "step"]
    assert [s["action"]["action"] for s in steps] == ["Launch", "Tap", "Type", "finish"]
    assert steps[0]["thinking"] == f"Open the shop for {HEADPHONES}"
    assert steps[2]["action"]["text"] == f"earbuds {HEADPHONES}"
    assert steps[3]["thinking"] == "Done \ufffd" and steps[3]["action"]["message"] == "Found earbuds \ufffd"
    (failure,) = [r for r in records if r["type"] == "parse_error"]
    assert failure["reply"] == '<answer>do(action="Fly \ufffd")</answer>'
    assert 'Unknown action "Fly \ufffd"' in failure["error"]
    assert records[-1]["type"] == "result" and records[-1]["status"] == "finished"
    assert 'Unknown action "Fly \ufffd"' in str(requests[4].messages[-1]["content"])


def test_tool_arguments_with_a_split_pair_and_a_lone_half_through_a_run(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path
) -> None:
    text = "blue earbuds " + HIGH + LOW  # the arguments' JSON puts the pair across two streamed fragments
    assert len('{"text": "' + "blue earbuds ") % CHUNK_CHARS == CHUNK_CHARS - 1
    replies = [
        {"tool_call": {"name": "launch", "arguments": {"app": "eBay"}}},
        {"tool_call": {"name": "tap", "arguments": {"element": [500, 145]}}},
        {"tool_call": {"name": "type_text", "arguments": {"text": text}}},
        {"tool_call": {"name": "finish", "arguments": '{"message": "Found them \\ud83d"}'}, "reply": "Done \ud83d"},
    ]
    with ReplayModelServer(ReplayScript.model_validate({"replies": replies})) as server:
        result = run_cli(adb, phone, server, tmp_path, "--dialect", "tools")
    assert result.exit_code == 0, result.output
    assert f"blue earbuds {HEADPHONES}" in phone.phone.state()["screen_texts"]
    records = read_trace(only_run_dir(tmp_path))
    steps = [r for r in records if r["type"] == "step"]
    assert steps[2]["action"]["text"] == f"blue earbuds {HEADPHONES}"
    assert steps[3]["action"]["message"] == "Found them \ufffd" and steps[3]["thinking"] == "Done \ufffd"
    assert records[-1]["status"] == "finished"
