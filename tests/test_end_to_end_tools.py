"""The tools dialect end to end: the CLI, the real adb server, the virtual phone and the replay model over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from phone_agent.sim.model_server import ReplayModelServer, ReplayScript
from phone_agent.sim.testing import AdbServer, PhoneSession
from phone_agent.trace import read_trace
from tests.support import assert_valid_tool_history
from tests.test_end_to_end import only_run_dir, run_cli

EBAY_SEARCH_BY_TOOLS = [
    {"tool_call": {"name": "launch", "arguments": {"app": "eBay"}}, "reply": "Open eBay first."},
    {"tool_call": {"name": "tap", "arguments": {"element": [500, 145]}}, "reply": "Tap the search box."},
    {"tool_call": {"name": "type_text", "arguments": {"text": "earbuds"}}},
    {"tool_call": {"name": "tap", "arguments": {"element": [500, 222]}}},
    {"tool_call": {"name": "finish", "arguments": {"message": "Results for earbuds are on screen."}}},
]


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "plain"])
def test_tools_dialect_searches_ebay_on_the_virtual_phone(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path, stream: bool
) -> None:
    script = ReplayScript.model_validate({"replies": EBAY_SEARCH_BY_TOOLS})
    extra = ["--dialect", "tools"] + ([] if stream else ["--no-stream"])
    with ReplayModelServer(script) as server:
        result = run_cli(adb, phone, server, tmp_path, *extra)
        requests = server.requests

    assert result.exit_code == 0, result.output
    state = phone.phone.state()
    assert state["foreground"]["package"] == "com.ebay.mobile" and state["shop"]["query"] == "earbuds"
    assert any("earbuds" in text for text in state["screen_texts"])

    assert len(requests) == 5 and all(r.stream is stream for r in requests)
    for request in requests:
        assert request.tools is not None and request.tool_choice == "auto"
        assert {"tap", "type_text", "launch", "finish"} <= {t["function"]["name"] for t in request.tools}
        assert "exactly one tool per turn" in request.messages[0]["content"]
        assert_valid_tool_history(request.messages)
    last = requests[-1].messages
    assert [m["role"] for m in last[1:]] == ["user", "assistant", "tool"] * 4 + ["user"]
    assert [m["content"] for m in last if m["role"] == "tool"] == ["done"] * 4
    assert last[2]["content"] == "Open eBay first."
    assert last[2]["tool_calls"][0]["function"] == {"name": "launch", "arguments": '{"app": "eBay"}'}
    assert '"current_app": "eBay"' in requests[1].messages[-1]["content"][0]["text"]

    records = read_trace(only_run_dir(tmp_path))
    assert records[0]["dialect"] == "tools"
    steps = [r for r in records if r["type"] == "step"]
    assert [s["action"]["action"] for s in steps] == ["Launch", "Tap", "Type", "Tap", "finish"]
    assert steps[1]["points"] == [[540, 349]]
    assert steps[0]["thinking"] == "Open eBay first." and "[tool call launch]" in steps[0]["reply"]
    assert records[-1]["status"] == "finished"


def test_tools_dialect_recovers_from_two_calls_at_once(adb: AdbServer, phone: PhoneSession, tmp_path: Path) -> None:
    steps = [
        {"tool_calls": [{"name": "launch", "arguments": {"app": "eBay"}}, {"name": "home"}]},
        *EBAY_SEARCH_BY_TOOLS,
    ]
    with ReplayModelServer(ReplayScript.model_validate({"replies": steps})) as server:
        result = run_cli(adb, phone, server, tmp_path, "--dialect", "tools")
        requests = server.requests
    assert result.exit_code == 0, result.output
    assert phone.phone.state()["shop"]["query"] == "earbuds"
    retry = requests[1].messages
    assert [m["role"] for m in retry[-3:]] == ["assistant", "tool", "tool"]
    assert "exactly one tool per turn" in retry[-1]["content"]
    for request in requests:
        assert_valid_tool_history(request.messages)


def test_unknown_dialect_is_a_setup_error(adb: AdbServer, phone: PhoneSession, tmp_path: Path) -> None:
    with ReplayModelServer(ReplayScript.model_validate({"replies": []})) as server:
        result = run_cli(adb, phone, server, tmp_path, "--dialect", "json")
    assert result.exit_code == 2 and "dialect" in result.output
