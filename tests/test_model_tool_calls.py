"""The chat client in the tool-calling dialect, through httpx.MockTransport: tools sent, tool calls collected."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from phone_agent.errors import ModelResponseError
from phone_agent.model.reply import ToolCall
from tests.test_model_client import (
    DONE,
    MESSAGES,
    FakeClock,
    RecordingStream,
    Server,
    event,
    make_client,
    serve,
    split_at,
    sse,
)

TOOLS: list[dict[str, Any]] = [
    {"type": "function", "function": {"name": "tap", "parameters": {"type": "object", "properties": {}}}},
    {"type": "function", "function": {"name": "back", "parameters": {"type": "object", "properties": {}}}},
]


def call_piece(index: int | None = None, *, id: str | None = None, name: str | None = None,
               arguments: str | None = None) -> dict[str, Any]:
    """One streamed piece of a tool call, as ``delta.tool_calls[i]``."""
    piece: dict[str, Any] = {}
    if index is not None:
        piece["index"] = index
    if id is not None:
        piece.update(id=id, type="function")
    function = {key: value for key, value in (("name", name), ("arguments", arguments)) if value is not None}
    if function:
        piece["function"] = function
    return piece


def calls(*pieces: dict[str, Any], finish: str | None = None) -> bytes:
    return event(tool_calls=list(pieces), finish=finish)


def test_tools_are_sent_with_tool_choice_auto() -> None:
    server = Server(sse(calls(call_piece(0, id="c1", name="back", arguments="{}")), event(finish="tool_calls"), DONE))

    make_client(server).complete(MESSAGES, tools=TOOLS)

    body = json.loads(server.requests[0].content)
    assert body["tools"] == TOOLS and body["tool_choice"] == "auto"


def test_no_tools_means_no_tool_fields() -> None:
    server = Server(sse(event('finish(message="ok")'), DONE))

    make_client(server).complete(MESSAGES)

    assert "tools" not in json.loads(server.requests[0].content)
    assert "tool_choice" not in json.loads(server.requests[0].content)


def test_streamed_tool_call_with_arguments_in_fragments() -> None:
    body = (
        event("I will tap the search box.")
        + calls(call_piece(0, id="call_a1", name="tap", arguments=""))
        + calls(call_piece(0, arguments='{"elem'))
        + calls(call_piece(0, arguments='ent": [500,'))
        + calls(call_piece(0, arguments=" 145]}"))
        + event(finish="tool_calls")
        + DONE
    )
    # Network chunks that also cut events in half.
    chunks = split_at(body, b'"elem', b"data: {", b"145")
    seen: list[str] = []

    completion = make_client(Server(serve(RecordingStream(chunks)))).complete(MESSAGES, seen.append, tools=TOOLS)

    assert completion.tool_calls == (ToolCall("call_a1", "tap", '{"element": [500, 145]}'),)
    assert completion.text == "I will tap the search box."
    assert seen == ["I will tap the search box."]  # argument fragments are not shown as text


def test_two_streamed_tool_calls_interleaved_by_index() -> None:
    server = Server(
        sse(
            calls(call_piece(0, id="c0", name="tap", arguments='{"element": ')),
            calls(call_piece(1, id="c1", name="back", arguments="")),
            calls(call_piece(0, arguments="[1, 2]}")),
            calls(call_piece(1, arguments="{}"), finish="tool_calls"),
            DONE,
        )
    )

    completion = make_client(server).complete(MESSAGES, tools=TOOLS)

    assert completion.tool_calls == (
        ToolCall("c0", "tap", '{"element": [1, 2]}'),
        ToolCall("c1", "back", "{}"),
    )
    assert completion.text == ""


def test_pieces_without_index_follow_their_call_and_missing_ids_are_made_up() -> None:
    server = Server(
        sse(
            calls(call_piece(name="tap", arguments='{"element"')),
            calls(call_piece(arguments=": [3, 4]}")),
            calls(call_piece(id="x9", name="back", arguments="{}")),
            DONE,
        )
    )

    completion = make_client(server).complete(MESSAGES, tools=TOOLS)

    assert completion.tool_calls == (ToolCall("call_0", "tap", '{"element": [3, 4]}'), ToolCall("x9", "back", "{}"))


def test_with_tools_the_stream_is_read_past_an_answer_tag_until_finish() -> None:
    stream = RecordingStream(
        [
            event("<answer>do(action=\"Back\")</answer>"),
            calls(call_piece(0, id="c1", name="back", arguments="{}")),
            event(finish="tool_calls"),
            DONE,
        ]
    )

    completion = make_client(Server(serve(stream))).complete(MESSAGES, tools=TOOLS)

    assert completion.tool_calls == (ToolCall("c1", "back", "{}"),)
    assert stream.read == 3 and stream.closed


def test_stream_with_tools_that_ends_without_finish_or_done_is_retried() -> None:
    broken = calls(call_piece(0, id="c1", name="tap", arguments='{"element": [1'))
    whole = calls(call_piece(0, id="c2", name="tap", arguments='{"element": [1, 2]}'), finish="tool_calls")
    server = Server(sse(broken), sse(whole, DONE))
    sleeps: list[float] = []

    completion = make_client(server, sleeps).complete(MESSAGES, tools=TOOLS)

    assert completion.tool_calls == (ToolCall("c2", "tap", '{"element": [1, 2]}'),) and completion.retries == 1


def test_reasoning_then_tool_call_times_the_thinking() -> None:
    clock = FakeClock()

    def tick(index: int) -> None:
        clock.now += 1.0

    stream = RecordingStream(
        [event(reasoning="look"), calls(call_piece(0, id="c", name="back", arguments="{}")), DONE],
        before_chunk=tick,
    )
    completion = make_client(Server(serve(stream)), clock=clock).complete(MESSAGES, tools=TOOLS)

    assert completion.text == "<think>look</think>"
    assert completion.time_to_first_token == 1.0 and completion.thinking_time == 2.0


def test_non_streamed_tool_calls_are_read_from_the_message() -> None:
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "tap", "arguments": '{"element": [5, 6]}'}},
            {"id": "call_2", "type": "function", "function": {"name": "finish", "arguments": {"message": "完成"}}},
        ],
    }
    body = {"choices": [{"message": message, "finish_reason": "tool_calls"}]}
    server = Server(lambda r: httpx.Response(200, json=body))

    completion = make_client(server, stream=False).complete(MESSAGES, tools=TOOLS)

    assert completion.text == ""
    assert completion.tool_calls == (
        ToolCall("call_1", "tap", '{"element": [5, 6]}'),
        ToolCall("call_2", "finish", '{"message": "完成"}'),
    )
    assert json.loads(server.requests[0].content)["tools"] == TOOLS


def test_non_streamed_text_reply_has_no_tool_calls() -> None:
    body = {"choices": [{"message": {"content": "finish()"}, "finish_reason": "stop"}]}
    completion = make_client(Server(lambda r: httpx.Response(200, json=body)), stream=False).complete(
        MESSAGES, tools=TOOLS
    )
    assert completion.text == "finish()" and completion.tool_calls == ()


def test_reply_with_neither_text_nor_tool_calls_is_an_error() -> None:
    server = Server(sse(event(finish="stop"), DONE))
    with pytest.raises(ModelResponseError, match="empty reply"):
        make_client(server).complete(MESSAGES, tools=TOOLS)
