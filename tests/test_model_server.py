"""The replay model server, driven through the real chat client over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from phone_agent.errors import ArrearsError, ModelResponseError
from phone_agent.loop.agent import PhoneAgent
from phone_agent.model.client import ChatClient
from phone_agent.model.messages import Image, System, Turn, User
from phone_agent.model.reply import ToolCall
from phone_agent.sim.model_server import ReplayModelServer, ReplayScript, load_script
from tests.support import FakeClock, FakeDevice, png

REPLY = '<think>Search box at the top; 搜索 🎧.</think><answer>do(action="Type", text="earbuds \\"pro\\"")</answer>'


def serve(*steps: object, model: str = "autoglm-phone-multilingual") -> ReplayModelServer:
    return ReplayModelServer(ReplayScript.model_validate({"model": model, "replies": list(steps)}))


def client(server: ReplayModelServer, sleeps: list[float] | None = None, **kwargs: object) -> ChatClient:
    record = sleeps.append if sleeps is not None else (lambda s: None)
    return ChatClient(server.base_url, "autoglm-phone-multilingual", "sk-test", sleep=record, **kwargs)  # type: ignore[arg-type]


def screen_messages() -> list[Turn]:
    return [System("sys"), User(("t", Image(png())))]


def test_streamed_reply_arrives_in_pieces_and_the_request_is_recorded() -> None:
    pieces: list[str] = []
    with serve(REPLY) as server, client(server) as chat:
        completion = chat.complete(screen_messages(), on_text=pieces.append)
        recorded = server.requests
    assert completion.text == REPLY
    assert len(pieces) > 5
    assert recorded[0].stream and recorded[0].image_count == 1
    assert recorded[0].image_bytes == [len(png())]
    assert recorded[0].authorization and recorded[0].body_bytes == completion.request_bytes


def test_plain_json_reply_and_model_listing() -> None:
    with serve(REPLY, model="my-model") as server, client(server, stream=False) as chat:
        assert chat.complete(screen_messages()).text == REPLY
        assert chat.list_models() == ["my-model"]
        assert server.requests[0].stream is False


def test_rate_limit_with_retry_after_is_waited_out() -> None:
    sleeps: list[float] = []
    with serve({"error": {"status": 429, "retry_after": 2}}, REPLY) as server, client(server, sleeps) as chat:
        completion = chat.complete(screen_messages())
    assert completion.text == REPLY and completion.retries == 1 and sleeps == [2.0]


def test_zai_business_rate_limit_and_server_error_are_retried() -> None:
    sleeps: list[float] = []
    steps = [{"error": {"status": 429, "code": "1302", "message": "busy"}}, {"error": {"status": 500}}, REPLY]
    with serve(*steps) as server, client(server, sleeps) as chat:
        assert chat.complete(screen_messages()).retries == 2
    assert len(sleeps) == 2


def test_dropped_stream_is_retried_once() -> None:
    with serve({"drop": True}, REPLY) as server, client(server) as chat:
        assert chat.complete(screen_messages()).text == REPLY
        assert len(server.requests) == 2


def test_zai_arrears_fails_at_once() -> None:
    with serve({"error": {"status": 429, "code": "1113", "message": "no balance"}}) as server, client(server) as chat:
        with pytest.raises(ArrearsError):
            chat.complete(screen_messages())
        assert len(server.requests) == 1


def test_exhausted_script_is_an_error() -> None:
    with serve() as server, client(server) as chat, pytest.raises(ModelResponseError, match="no more replies"):
        chat.complete(screen_messages())


def test_latency_goes_through_the_injected_sleep() -> None:
    waits: list[float] = []
    script = ReplayScript.model_validate({"replies": [{"reply": REPLY, "latency_ms": 250}]})
    with ReplayModelServer(script, sleep=waits.append) as server, client(server) as chat:
        chat.complete(screen_messages())
    assert waits == [0.25]


def test_script_file_errors_name_the_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("replies:\n  - error: {status: 200}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.yaml.*replies\.0\.error\.status"):
        load_script(bad)
    good = tmp_path / "good.json"
    good.write_text('{"replies": ["finish(message=\\"ok\\")", {"drop": true}]}', encoding="utf-8")
    assert len(load_script(good).replies) == 2


def test_agent_over_real_http_recovers_from_a_malformed_reply() -> None:
    steps = ["I will tap somewhere", '<answer>do(action="Back")</answer>', '<answer>finish(message="done")</answer>']
    clock = FakeClock()
    with serve(*steps) as server, client(server) as chat:
        device = FakeDevice()
        result = PhoneAgent(device, chat, clock=clock, sleep=clock.sleep).run("go back")
        requests = server.requests
    assert result.status == "finished" and device.calls == [("back",)]
    assert "contains no action" in requests[1].messages[-1]["content"]
    assert [r.image_count for r in requests] == [1, 1, 1]


TOOLS = [{"type": "function", "function": {"name": "tap", "parameters": {"type": "object"}}}]
TAP = {"tool_call": {"name": "tap", "arguments": {"element": [500, 145], "message": "搜索 \"pro\""}},
       "reply": "The search box is at the top."}


def test_streamed_tool_call_arrives_in_fragments_and_the_tools_are_recorded() -> None:
    pieces: list[str] = []
    with serve(TAP) as server, client(server) as chat:
        completion = chat.complete(screen_messages(), on_text=pieces.append, tools=TOOLS)
        (recorded,) = server.requests
    arguments = '{"element": [500, 145], "message": "搜索 \\"pro\\""}'
    assert completion.tool_calls == (ToolCall("call_1", "tap", arguments),)
    assert completion.text == "The search box is at the top." and "".join(pieces) == completion.text
    assert recorded.tools == TOOLS and recorded.tool_choice == "auto"


def test_plain_json_tool_calls_with_ids_unique_across_the_script() -> None:
    steps = [TAP, {"tool_calls": [{"name": "back"}, {"name": "home", "id": "mine", "arguments": "{}"}]}]
    with serve(*steps) as server, client(server, stream=False) as chat:
        first = chat.complete(screen_messages(), tools=TOOLS)
        second = chat.complete(screen_messages())
        requests = server.requests
    assert first.tool_calls[0].id == "call_1" and first.text == "The search box is at the top."
    assert second.tool_calls == (ToolCall("call_2", "back", "{}"), ToolCall("mine", "home", "{}"))
    assert second.text == ""
    assert requests[0].tools == TOOLS and requests[1].tools is None


def test_a_dropped_stream_of_a_tool_call_is_retried() -> None:
    with serve({"drop": True}, TAP) as server, client(server) as chat:
        assert chat.complete(screen_messages(), tools=TOOLS).tool_calls[0].name == "tap"


@pytest.mark.parametrize(
    "step",
    [
        {"tool_call": {"name": "back"}, "tool_calls": [{"name": "home"}]},
        {"tool_call": {"name": "back"}, "error": {"status": 500}},
        {"tool_call": {"name": "back", "args": {}}},
        {"tool_calls": []},
    ],
)
def test_bad_tool_call_steps_are_refused(step: dict) -> None:
    with pytest.raises(ValueError):
        ReplayScript.model_validate({"replies": [step]})
