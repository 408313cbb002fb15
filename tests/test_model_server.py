"""The replay model server, driven through the real chat client over real HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from phone_agent.cancellation import Cancellation, Cancelled
from phone_agent.errors import ArrearsError, ModelResponseError
from phone_agent.loop.agent import PhoneAgent
from phone_agent.loop.results import RunResult
from phone_agent.model.client import ChatClient
from phone_agent.model.messages import Assistant, Image, System, Turn, User
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


def test_per_conversation_answers_each_conversation_from_its_own_place() -> None:
    first, second = '<answer>do(action="Back")</answer>', '<answer>finish(message="done")</answer>'
    script = ReplayScript.model_validate({"replies": [first, second]})
    sleeps: list[float] = []
    with ReplayModelServer(script, per_conversation=True) as server, client(server, sleeps) as chat:
        # Three identical conversations, interleaved as three phones would ask.
        openings = [chat.complete(screen_messages()).text for _ in range(3)]
        follow_up = [*screen_messages(), Assistant(first), screen_messages()[1]]
        endings = [chat.complete(follow_up).text for _ in range(3)]
        too_far = [*follow_up, Assistant(second), screen_messages()[1]]
        with pytest.raises(ModelResponseError, match="no more replies"):
            chat.complete(too_far)
    assert openings == [first] * 3 and endings == [second] * 3


def test_per_conversation_serves_an_injected_failure_once() -> None:
    script = ReplayScript.model_validate({"replies": [{"error": {"status": 429, "retry_after": 1}}, REPLY]})
    sleeps: list[float] = []
    with ReplayModelServer(script, per_conversation=True) as server, client(server, sleeps) as chat:
        assert chat.complete(screen_messages()).retries == 1
        assert chat.complete(screen_messages()).retries == 0
        assert len(server.requests) == 3
    assert sleeps == [1.0]


def test_in_order_by_default_whoever_asks() -> None:
    with serve("one", "two") as server, client(server) as chat:
        assert [chat.complete(screen_messages()).text for _ in range(2)] == ["one", "two"]


def in_thread(work: Callable[[], object]) -> Callable[[], BaseException | None]:
    """Start ``work`` in a thread; the returned function waits (30 s at most) and gives what it raised."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            raised.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def outcome() -> BaseException | None:
        thread.join(timeout=30)
        assert not thread.is_alive(), "still running"
        return raised[0] if raised else None

    return outcome


@pytest.mark.parametrize("stream", [True, False])
def test_a_cancel_cuts_a_request_the_model_is_still_thinking_about(stream: bool) -> None:
    cancellation, release = Cancellation(), threading.Event()

    def think(seconds: float) -> None:  # the server holds the reply: cancel meanwhile, from its thread
        cancellation.cancel("Stopped.")
        release.wait(seconds)

    # The first reply opens a connection a non-streamed request reuses: the cut must find that one too.
    script = ReplayScript.model_validate({"replies": [REPLY, {"reply": REPLY, "latency_ms": 600_000}]})
    with ReplayModelServer(script, sleep=think) as server, client(server, stream=stream, timeout=600,
                                                                   cancellation=cancellation) as chat:
        try:
            chat.complete(screen_messages())
            raised = in_thread(lambda: chat.complete(screen_messages()))()
        finally:
            release.set()
    assert isinstance(raised, Cancelled) and str(raised) == "Stopped."
    assert len(server.requests) == 2  # not asked again


def test_a_cancelled_client_stops_reading_a_stream_and_sends_nothing_more() -> None:
    cancellation, pieces = Cancellation(), []

    def piece(text: str) -> None:
        pieces.append(text)
        cancellation.cancel("Stopped.")

    with serve(REPLY, REPLY) as server, client(server, cancellation=cancellation) as chat:
        with pytest.raises(Cancelled):
            chat.complete(screen_messages(), on_text=piece)
        with pytest.raises(Cancelled):
            chat.complete(screen_messages())
        assert len(server.requests) == 1
    assert len(pieces) == 1


def test_a_cancel_ends_the_wait_before_a_retry(caplog: pytest.LogCaptureFixture) -> None:
    cancellation = Cancellation()
    with serve({"error": {"status": 429, "retry_after": 60}}, REPLY) as server:
        with ChatClient(server.base_url, "autoglm-phone-multilingual", cancellation=cancellation) as chat:  # real waits
            outcome = in_thread(lambda: chat.complete(screen_messages()))
            while "retry 1 of 4 in 60.0 s" not in caplog.text:  # logged as the wait begins
                time.sleep(0.01)
            cancellation.cancel("Stopped.")
            assert isinstance(outcome(), Cancelled)
        assert len(server.requests) == 1


def test_a_cancel_wakes_a_wait_on_the_phone_and_the_run_keeps_that_step() -> None:
    cancellation = Cancellation()

    def sleep(seconds: float) -> None:
        if seconds == 60:  # the Wait: cancel once it has surely begun
            threading.Timer(0.2, cancellation.cancel, ["Stopped."]).start()
        cancellation.sleep(seconds)

    steps = ['<answer>do(action="Wait", duration="60 seconds")</answer>', '<answer>finish(message="done")</answer>']
    with serve(*steps) as server, client(server, cancellation=cancellation) as chat:
        agent = PhoneAgent(FakeDevice(), chat, sleep=sleep)
        results: list[RunResult] = []
        assert in_thread(lambda: results.append(agent.run("wait", cancellation=cancellation)))() is None
        assert len(server.requests) == 1
    (result,) = results
    assert result.status == "interrupted" and result.message == "Stopped."
    assert [step.action.action for step in result.steps] == ["Wait"]
