"""Tests for the chat client, through httpx.MockTransport: streaming, timings, retries, errors."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest

from phone_agent.errors import (
    ArrearsError,
    AuthenticationError,
    ConfigError,
    ContentRefusedError,
    ModelError,
    ModelResponseError,
    ModelUnreachableError,
    RateLimitError,
    UnknownModelError,
)
from phone_agent.model.client import ChatClient
from phone_agent.model.connections import Connections
from phone_agent.model.messages import User
from phone_agent.model.providers import PROVIDERS, Provider, resolve_api_key
from phone_agent.model.reply import Completion
from tests.support import FakeClock

BASE = "https://models.test/v1"
MODEL = "autoglm-phone-9b-multilingual"
KEY = "sk-test-3c1f9e7b-never-show-me"
THOUGHT = "The search box is at the top."
ACT = '<answer>do(action="Tap", element=[500,80])</answer>'
ANSWER = f"<think>{THOUGHT}</think>{ACT}"
MESSAGES = [User(("open the shop",))]
WIRE_MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "open the shop"}]  # MESSAGES as sent

Handler = Callable[[httpx.Request], httpx.Response]


# -- helpers --------------------------------------------------------------------------------------


def event(
    content: str | None = None, *, reasoning: str | None = None, finish: str | None = None, **extra: Any
) -> bytes:
    """One SSE event carrying a chat.completion.chunk."""
    delta: dict[str, Any] = {}
    if content is not None:
        delta["content"] = content
    if reasoning is not None:
        delta["reasoning_content"] = reasoning
    delta.update(extra)
    payload = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


DONE = b"data: [DONE]\n\n"


class RecordingStream(httpx.SyncByteStream):
    """A response body that records how many chunks were read and whether it was closed."""

    def __init__(self, chunks: list[bytes], before_chunk: Callable[[int], None] | None = None) -> None:
        self.chunks = chunks
        self.before_chunk = before_chunk
        self.read = 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for index, chunk in enumerate(self.chunks):
            if self.before_chunk is not None:
                self.before_chunk(index)
            self.read += 1
            yield chunk

    def close(self) -> None:
        self.closed = True


class Server:
    """A scripted endpoint: answers requests in order from a list of handlers, and keeps them."""

    def __init__(self, *handlers: Handler) -> None:
        self.handlers = list(handlers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.handlers.pop(0) if len(self.handlers) > 1 else self.handlers[0]
        return handler(request)


def serve(stream: httpx.SyncByteStream) -> Handler:
    """A handler that answers with the given body as an event stream."""
    return lambda request: httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)


def sse(*chunks: bytes) -> Handler:
    """A handler that streams the given chunks as an event stream, afresh for each request."""
    return lambda request: serve(RecordingStream(list(chunks)))(request)


def fail(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Handler:
    """A handler that answers with an error status and a JSON (or text) body."""
    if isinstance(body, str):
        return lambda request: httpx.Response(status, text=body, headers=headers)
    return lambda request: httpx.Response(status, json=body if body is not None else {}, headers=headers)


def zai_error(code: str | int, message: str = "provider says no") -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def make_client(server: Handler, sleeps: list[float] | None = None, **options: Any) -> ChatClient:
    recorded = sleeps if sleeps is not None else []
    options.setdefault("api_key", KEY)
    return ChatClient(BASE, MODEL, transport=httpx.MockTransport(server), sleep=recorded.append, **options)


def split_at(data: bytes, *markers: bytes) -> list[bytes]:
    """Cut data in the middle of each marker, so a chunk boundary falls inside it."""
    chunks, start = [], 0
    for marker in markers:
        cut = data.index(marker, start) + len(marker) // 2
        chunks.append(data[start:cut])
        start = cut
    chunks.append(data[start:])
    return chunks


# -- streaming ------------------------------------------------------------------------------------


def test_stream_split_mid_data_line_and_mid_marker_gives_pieces_in_order() -> None:
    pieces = [
        "<think>The search box",
        " is at the top.</think><ans",
        'wer>do(action="Tap", ',
        "element=[500,80])</answer>",
    ]
    body = b"".join(event(piece) for piece in pieces) + event(finish="stop") + DONE
    # Network chunks that cut a "data:" prefix, a JSON payload and the "<answer>" marker in half.
    chunks = split_at(body, b"data:", b'"content"', b"<ans", b"data: {", b"</answer>")
    seen: list[str] = []
    server = Server(serve(RecordingStream(chunks)))

    completion = make_client(server).complete(MESSAGES, on_text=seen.append)

    assert completion.text == ANSWER
    assert seen == pieces


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_stream_read_one_byte_at_a_time_with_any_line_ending(eol: str) -> None:
    body = (event("<answer>do(action=") + event('"Back")</answer>') + DONE).replace(b"\n", eol.encode())
    server = Server(sse(*[body[i : i + 1] for i in range(len(body))]))

    completion = make_client(server).complete(MESSAGES)

    assert completion.text == '<answer>do(action="Back")</answer>'


def test_stream_event_with_several_data_lines_split_between_cr_and_lf() -> None:
    payload = json.dumps({"choices": [{"delta": {"content": "<answer>wait()</answer>"}}]})
    head, tail = payload.split(":", 1)
    body = f"data: {head}:\r\ndata: {tail}\r\n\r\n".encode() + DONE
    cut = body.index(b"\r\n") + 1  # one chunk ends on the CR, the next starts with the LF
    server = Server(sse(body[:cut], body[cut:]))

    assert make_client(server).complete(MESSAGES).text == "<answer>wait()</answer>"


def test_markers_split_across_pieces_still_time_thinking_and_stop_the_stream() -> None:
    clock = FakeClock(0.0)

    def tick(index: int) -> None:
        clock.now += 1.0

    chunks = [event("<think>x</thi"), event("nk><answer>wait()</ans"), event("wer>"), event(" more"), DONE]
    stream = RecordingStream(chunks, before_chunk=tick)
    server = Server(serve(stream))

    completion = make_client(server, clock=clock).complete(MESSAGES)

    assert completion.text == "<think>x</think><answer>wait()</answer>"
    assert completion.thinking_time == 2.0
    assert stream.read == 3


def test_stream_keeps_unicode_line_separators_inside_content() -> None:
    # U+2028 is legal raw inside JSON strings; splitting lines on it would corrupt the event.
    text = '<answer>finish(message="a\u2028b\u0085c")</answer>'
    server = Server(sse(event(text), DONE))

    assert make_client(server).complete(MESSAGES).text == text


def test_stream_keeps_every_non_sse_line_break_when_read_one_byte_at_a_time() -> None:
    # Each of these ends a line for str.splitlines but not for SSE, and each is several UTF-8 bytes,
    # so one-byte chunks also cut through characters.
    text = '<answer>finish(message="a\u2028b\u2029c\u0085d 搜索 🔍")</answer>'
    body = event(text) + DONE
    server = Server(sse(*[body[i : i + 1] for i in range(len(body))]))

    assert make_client(server).complete(MESSAGES).text == text


def test_stream_is_read_as_utf8_whatever_charset_the_header_claims() -> None:
    body = event('<answer>finish(message="已打开")</answer>') + DONE
    headers = {"content-type": "text/event-stream; charset=iso-8859-1"}
    server = Server(lambda request: httpx.Response(200, headers=headers, stream=RecordingStream([body])))

    assert make_client(server).complete(MESSAGES).text == '<answer>finish(message="已打开")</answer>'


def test_stream_ignores_comments_and_other_fields() -> None:
    body = b": keep-alive\n\nevent: message\nid: 7\n" + event("<answer>wait()</answer>") + DONE
    server = Server(sse(body))

    assert make_client(server).complete(MESSAGES).text == "<answer>wait()</answer>"


def test_stream_skips_keep_alives_and_events_without_data_after_an_id() -> None:
    # After an "id:" line every blank line ends an event, even one with no data; there is nothing to parse.
    body = b"id: 1\n" + event("<think>x</think>") + b": ping\n\n\nretry: 3000\n\ndata:\n\n" + event(ACT) + DONE
    server = Server(sse(body))

    assert make_client(server).complete(MESSAGES).text == f"<think>x</think>{ACT}"


def test_stream_answered_with_another_content_type_is_a_response_error() -> None:
    body = event(ANSWER) + DONE
    server = Server(lambda request: httpx.Response(200, headers={"content-type": "text/plain"}, content=body))
    sleeps: list[float] = []

    with pytest.raises(ModelResponseError, match="instead of an event stream; try again with --no-stream"):
        make_client(server, sleeps).complete(MESSAGES)
    assert len(server.requests) == 1
    assert sleeps == []


def test_stream_stops_reading_and_closes_once_the_answer_is_closed() -> None:
    stream = RecordingStream(
        [event('<answer>do(action="Home")</answer>'), event(" trailing words"), event(finish="stop"), DONE]
    )
    seen: list[str] = []
    server = Server(serve(stream))

    completion = make_client(server).complete(MESSAGES, on_text=seen.append)

    assert completion.text == '<answer>do(action="Home")</answer>'
    assert seen == ['<answer>do(action="Home")</answer>']
    assert stream.read == 1  # the later chunks were never pulled from the network
    assert stream.closed


def test_stream_stops_at_finish_reason_without_waiting_for_done() -> None:
    def explode(index: int) -> None:
        if index == 2:
            raise AssertionError("read past finish_reason")

    stream = RecordingStream([event('finish(message="ok")'), event(finish="stop"), DONE], before_chunk=explode)
    server = Server(serve(stream))

    completion = make_client(server).complete(MESSAGES)

    assert completion.text == 'finish(message="ok")'
    assert stream.read == 2
    assert stream.closed


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_sent_apart_is_wrapped_in_think_tags(field: str) -> None:
    def reasoning(text: str) -> bytes:
        return event(**{field: text})

    server = Server(sse(reasoning("The search box"), reasoning(" is at the top."), event(ACT), DONE))
    seen: list[str] = []

    completion = make_client(server).complete(MESSAGES, on_text=seen.append)

    assert completion.text == ANSWER
    assert seen == ["<think>", "The search box", " is at the top.", "</think>", ACT]
    assert "".join(seen) == completion.text


def test_reasoning_only_reply_is_closed() -> None:
    server = Server(sse(event(reasoning="hmm"), event(finish="stop"), DONE))

    assert make_client(server).complete(MESSAGES).text == "<think>hmm</think>"


def test_timings_come_from_the_injected_clock() -> None:
    clock = FakeClock(100.0)

    def tick(index: int) -> None:
        clock.now += 1.0  # each chunk arrives one second after the previous one

    chunks = [event("<think>look"), event("</think><answer>"), event('do(action="Back")</answer>'), DONE]
    stream = RecordingStream(chunks, before_chunk=tick)
    server = Server(serve(stream))

    completion = make_client(server, clock=clock).complete(MESSAGES)

    assert completion.time_to_first_token == 1.0
    assert completion.thinking_time == 2.0
    assert completion.total_time == 3.0
    assert completion.retries == 0


def test_thinking_time_is_none_without_markers() -> None:
    server = Server(sse(event('do(action="Back")'), event(finish="stop")))

    assert make_client(server).complete(MESSAGES).thinking_time is None


# -- request shape and non-streaming --------------------------------------------------------------


def test_request_body_headers_and_size() -> None:
    server = Server(sse(event(ANSWER), DONE))

    completion = make_client(server, max_tokens=1234, temperature=0.25).complete(MESSAGES)

    (request,) = server.requests
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert json.loads(request.content) == {
        "model": MODEL,
        "messages": WIRE_MESSAGES,
        "stream": True,
        "max_tokens": 1234,
        "temperature": 0.25,
    }
    assert completion.request_bytes == len(request.content)
    assert request.headers["accept"] == "text/event-stream"


def test_no_authorization_header_without_a_key() -> None:
    server = Server(sse(event(ANSWER), DONE))

    make_client(server, api_key=None).complete(MESSAGES)

    assert "authorization" not in server.requests[0].headers


def test_non_streaming_reads_message_content() -> None:
    body = {"choices": [{"message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}]}
    server = Server(lambda r: httpx.Response(200, json=body))
    seen: list[str] = []

    completion = make_client(server, stream=False).complete(MESSAGES, on_text=seen.append)

    assert json.loads(server.requests[0].content)["stream"] is False
    assert completion.text == ANSWER
    assert seen == [ANSWER]
    assert isinstance(completion, Completion)


def test_non_streaming_wraps_reasoning_content() -> None:
    message = {"content": "<answer>wait()</answer>", "reasoning_content": "loading"}
    server = Server(lambda r: httpx.Response(200, json={"choices": [{"message": message}]}))

    completion = make_client(server, stream=False).complete(MESSAGES)

    assert completion.text == "<think>loading</think><answer>wait()</answer>"


def test_server_that_ignores_stream_and_sends_json_is_understood() -> None:
    server = Server(lambda r: httpx.Response(200, json={"choices": [{"message": {"content": ANSWER}}]}))

    assert make_client(server).complete(MESSAGES).text == ANSWER


def test_list_models() -> None:
    models = {"object": "list", "data": [{"id": "autoglm-phone"}, {"id": "glm-4.6v"}]}
    server = Server(lambda r: httpx.Response(200, json=models))

    assert make_client(server).list_models() == ["autoglm-phone", "glm-4.6v"]
    (request,) = server.requests
    assert (request.method, str(request.url)) == ("GET", f"{BASE}/models")
    assert request.headers["accept"] == "application/json"
    assert request.headers["authorization"] == f"Bearer {KEY}"


def test_list_models_404_is_not_an_unknown_model() -> None:
    server = Server(fail(404, {"detail": "Not Found"}))

    with pytest.raises(ModelResponseError, match="does not list its models"):
        make_client(server).list_models()


def test_context_manager_closes_the_http_client() -> None:
    with make_client(Server(sse(DONE))) as client:
        pass
    with pytest.raises(RuntimeError):
        client.complete(MESSAGES)  # httpx refuses to send on a closed client


# -- errors that are not retried ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, {"error": {"message": "invalid key"}}, AuthenticationError),
        (403, None, AuthenticationError),
        # z.ai may send its key codes under a 400; the code alone must decide.
        *[(400, zai_error(code), AuthenticationError) for code in ("1000", "1001", "1002", "1003", "1004")],
        (401, zai_error(1002), AuthenticationError),
        (429, zai_error("1113"), ArrearsError),
        (400, zai_error(1113), ArrearsError),
        (404, {"error": {"message": "model not found"}}, UnknownModelError),
        (400, zai_error("1211"), UnknownModelError),
        (400, zai_error("1301"), ContentRefusedError),
        (400, zai_error("1214", "bad parameter"), ModelResponseError),
        (422, "<html>unprocessable</html>", ModelResponseError),
    ],
)
def test_final_errors_are_mapped_and_not_retried(status: int, body: Any, expected: type[ModelError]) -> None:
    server = Server(fail(status, body))
    sleeps: list[float] = []

    with pytest.raises(expected) as caught:
        make_client(server, sleeps).complete(MESSAGES)

    assert type(caught.value) is expected
    assert len(server.requests) == 1
    assert sleeps == []


def test_rejected_key_message_names_every_key_source() -> None:
    server = Server(fail(401, zai_error("1002", "Authorization Token非法")))

    with pytest.raises(AuthenticationError) as caught:
        make_client(server, api_key_env=PROVIDERS["zai"].api_key_env).complete(MESSAGES)

    message = str(caught.value)
    assert "the API key was rejected" in message
    assert "--api-key / PHONE_AGENT_API_KEY / ZAI_API_KEY" in message


def test_missing_key_message_says_one_is_required() -> None:
    server = Server(fail(401, {}))

    with pytest.raises(AuthenticationError, match="requires an API key"):
        make_client(server, api_key=None).complete(MESSAGES)


def test_unknown_model_message_names_model_and_next_step() -> None:
    server = Server(fail(404, {}))

    with pytest.raises(UnknownModelError) as caught:
        make_client(server).complete(MESSAGES)

    assert MODEL in str(caught.value)
    assert "phone-agent doctor" in str(caught.value)
    assert "--model" in str(caught.value)


def test_body_without_choices_is_a_response_error() -> None:
    server = Server(lambda r: httpx.Response(200, json={"id": "x", "object": "chat.completion"}))

    with pytest.raises(ModelResponseError, match="without any choices"):
        make_client(server, stream=False).complete(MESSAGES)
    assert len(server.requests) == 1


def test_body_that_is_not_json_is_a_response_error() -> None:
    server = Server(lambda r: httpx.Response(200, text="<html>gateway</html>"))

    with pytest.raises(ModelResponseError, match="not JSON"):
        make_client(server, stream=False).complete(MESSAGES)


def test_empty_reply_is_a_response_error() -> None:
    server = Server(sse(event(finish="stop"), DONE))

    with pytest.raises(ModelResponseError, match="empty reply"):
        make_client(server).complete(MESSAGES)


@pytest.mark.parametrize("finish", ["sensitive", "content_filter"])
def test_moderation_finish_reason_in_stream_is_a_refusal(finish: str) -> None:
    server = Server(sse(event("<think>"), event(finish=finish), DONE))

    with pytest.raises(ContentRefusedError):
        make_client(server).complete(MESSAGES)


def test_error_event_inside_a_stream_is_mapped() -> None:
    server = Server(sse(event("<think>"), f"data: {json.dumps(zai_error('1301'))}\n\n".encode()))

    with pytest.raises(ContentRefusedError):
        make_client(server).complete(MESSAGES)


# -- retries --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (429, zai_error("1302"), RateLimitError),
        (429, zai_error(1303), RateLimitError),
        (429, zai_error("1305"), RateLimitError),
        (400, zai_error("1302"), RateLimitError),
        (429, {}, RateLimitError),
        (500, {}, ModelResponseError),
        (503, "Service Unavailable", ModelResponseError),
    ],
)
def test_transient_errors_are_retried_with_backoff_then_raised(
    status: int, body: Any, expected: type[ModelError]
) -> None:
    server = Server(fail(status, body))
    sleeps: list[float] = []

    with pytest.raises(expected) as caught:
        make_client(server, sleeps, max_retries=4).complete(MESSAGES)

    assert type(caught.value) is expected
    assert len(server.requests) == 5
    assert sleeps == [1.0, 2.0, 4.0, 8.0]
    assert "gave up after 4 retries" in str(caught.value)


def test_retry_after_seconds_are_honoured_and_capped() -> None:
    server = Server(
        fail(429, zai_error("1302"), headers={"Retry-After": "7"}),
        fail(503, {}, headers={"Retry-After": "3600"}),
        fail(429, {}, headers={"Retry-After": "Wed, 21 Oct 2037 07:28:00 GMT"}),
        sse(event(ANSWER), DONE),
    )
    sleeps: list[float] = []

    completion = make_client(server, sleeps).complete(MESSAGES)

    # A date form is not honoured, so the third wait falls back to the backoff (third try: 4 s).
    assert sleeps == [7.0, 60.0, 4.0]
    assert completion.retries == 3
    assert completion.text == ANSWER


def test_sleeping_counts_in_total_time() -> None:
    clock = FakeClock(0.0)

    def sleep(seconds: float) -> None:
        clock.now += seconds

    server = Server(fail(429, {}, headers={"Retry-After": "5"}), sse(event(ANSWER), DONE))
    client = ChatClient(BASE, MODEL, KEY, transport=httpx.MockTransport(server), sleep=sleep, clock=clock)

    completion = client.complete(MESSAGES)

    assert completion.total_time == 5.0
    assert completion.retries == 1


def test_no_retries_when_max_retries_is_zero() -> None:
    server = Server(fail(500, {}))
    sleeps: list[float] = []

    with pytest.raises(ModelResponseError, match="with no retry"):
        make_client(server, sleeps, max_retries=0).complete(MESSAGES)
    assert sleeps == []


@pytest.mark.parametrize(
    ("error", "wording"),
    [
        (httpx.ConnectError, "connection failed"),
        (httpx.ConnectTimeout, "timed out"),
        (httpx.ReadTimeout, "timed out"),
    ],
)
def test_unreachable_endpoint_is_retried_then_named(error: type[httpx.TransportError], wording: str) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise error("[Errno 111] Connection refused", request=request)

    server = Server(refuse)
    sleeps: list[float] = []

    with pytest.raises(ModelUnreachableError) as caught:
        make_client(server, sleeps, max_retries=2).complete(MESSAGES)

    assert f"{BASE}/chat/completions" in str(caught.value)
    assert wording in str(caught.value)
    assert isinstance(caught.value.__cause__, error)
    assert len(server.requests) == 3
    assert sleeps == [1.0, 2.0]


def test_connection_recovers_after_retries() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    server = Server(refuse, refuse, sse(event(ANSWER), DONE))

    completion = make_client(server).complete(MESSAGES)

    assert completion.retries == 2
    assert completion.text == ANSWER


def test_stream_that_drops_is_retried_once_then_raised() -> None:
    cut_short = sse(event("<think>half a tho"))  # no [DONE], no finish_reason, no </answer>
    server = Server(cut_short)
    sleeps: list[float] = []

    with pytest.raises(ModelResponseError, match="ended before the answer was complete"):
        make_client(server, sleeps).complete(MESSAGES)

    assert len(server.requests) == 2
    assert sleeps == [1.0]


def test_stream_that_breaks_with_a_read_error_is_retried() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        def chunks() -> Iterator[bytes]:
            yield event("<think>")
            raise httpx.ReadError("connection reset", request=request)

        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=chunks())

    server = Server(broken, sse(event(ANSWER), DONE))
    seen: list[str] = []

    completion = make_client(server).complete(MESSAGES, on_text=seen.append)

    assert completion.text == ANSWER
    assert completion.retries == 1
    assert seen == ["<think>", ANSWER]  # the caller sees the new attempt from its start


def test_stream_that_breaks_twice_is_raised_with_its_cause() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        def chunks() -> Iterator[bytes]:
            yield event("<think>")
            raise httpx.RemoteProtocolError("peer closed connection", request=request)

        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=chunks())

    server = Server(broken)

    with pytest.raises(ModelResponseError, match="broke off") as caught:
        make_client(server).complete(MESSAGES)

    assert isinstance(caught.value.__cause__, httpx.RemoteProtocolError)
    assert len(server.requests) == 2


# -- the key never leaks --------------------------------------------------------------------------


def _echoing(status: int, code: str | None) -> Handler:
    """A server that, like some real ones, repeats the key it was given in its error message."""
    body: dict[str, Any] = {"error": {"message": f"bad request for key {KEY}"}}
    if code is not None:
        body["error"]["code"] = code
    return fail(status, body)


def _leak_scenarios() -> list[tuple[str, Handler, bool]]:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused while sending {request.headers['authorization']}", request=request)

    cases: list[tuple[str, Handler, bool]] = [
        (f"http-{status}-{code}", _echoing(status, code), True)
        for status, code in [
            (401, None),
            (403, None),
            (401, "1001"),
            (429, "1113"),
            (404, None),
            (400, "1211"),
            (400, "1301"),
            (429, "1302"),
            (500, None),
            (400, None),
        ]
    ]
    cases += [
        ("unreachable", refuse, True),
        ("dropped", sse(event("<think>")), True),
        ("no-choices", lambda r: httpx.Response(200, json={"id": KEY}), False),
        ("not-json", lambda r: httpx.Response(200, text=f"oops {KEY}"), False),
        ("stream-error-event", sse(f"data: {json.dumps(zai_error('1302', KEY))}\n\n".encode()), True),
    ]
    return cases


@pytest.mark.parametrize(
    ("name", "handler", "stream"), _leak_scenarios(), ids=lambda v: v if isinstance(v, str) else None
)
def test_api_key_never_appears_in_errors_reprs_or_logs(
    name: str, handler: Handler, stream: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(Server(handler), stream=stream, api_key_env=("ZAI_API_KEY",))

    with pytest.raises(ModelError) as caught:
        client.complete(MESSAGES)
    with pytest.raises(ModelError) as caught_listing:
        client.list_models()

    for exc in (caught.value, caught_listing.value):
        assert KEY not in str(exc)
        assert KEY not in repr(exc)
    assert KEY not in repr(client)
    assert KEY not in caplog.text


def test_repr_says_whether_a_key_is_set() -> None:
    assert "api_key=set" in repr(make_client(Server(sse(DONE))))
    assert "api_key=none" in repr(make_client(Server(sse(DONE)), api_key=None))


ODD_KEY = "sk-7b/2 Q=x'y\"z\\w"  # header-safe, yet repr(), JSON and URL encoding each spell it differently


def test_every_spelling_of_the_key_is_redacted() -> None:
    spellings = [ODD_KEY, repr(ODD_KEY)[1:-1], json.dumps(ODD_KEY)[1:-1], quote(ODD_KEY, safe=""), quote_plus(ODD_KEY)]
    assert len(set(spellings)) == 5
    echo = fail(401, {"error": {"message": " | ".join(spellings)}})
    with pytest.raises(AuthenticationError) as caught:
        make_client(Server(echo), api_key=ODD_KEY).complete(MESSAGES)
    message = str(caught.value)
    assert "*** | *** | *** | *** | ***" in message
    assert not any(spelling in message for spelling in spellings)


@pytest.mark.parametrize("cut", [200, 300])
def test_a_key_in_a_plain_text_error_body_is_redacted_before_the_body_is_cut(cut: int) -> None:
    body = "x" * (cut - 10) + KEY + " trailing words"  # the key straddles the cut, whichever length it has
    with pytest.raises(AuthenticationError) as caught:
        make_client(Server(fail(401, body))).complete(MESSAGES)
    message = str(caught.value)
    assert "xxx***" in message and KEY[:10] not in message


def test_a_request_that_cannot_be_written_is_not_retried_and_not_quoted() -> None:
    def unwritable(request: httpx.Request) -> httpx.Response:
        raise httpx.LocalProtocolError(f"Illegal header value {request.headers['authorization'].encode()!r}")

    sleeps: list[float] = []
    server = Server(unwritable)
    with pytest.raises(ModelResponseError) as caught:
        make_client(server, sleeps).complete(MESSAGES)
    assert sleeps == [] and len(server.requests) == 1
    assert "could not send a request" in str(caught.value) and KEY not in str(caught.value)
    assert caught.value.__cause__ is None  # httpx's message quotes the header


@pytest.mark.parametrize("key", ["sk-line\r\nbreak-123", "sk-ctrl\x1b-123", "sk-café-12345"])
def test_a_key_that_cannot_go_in_a_header_is_refused_up_front(key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_client(Server(sse(DONE)), api_key=key, api_key_env=("ZAI_API_KEY",))
    assert "ZAI_API_KEY" in str(caught.value) and key not in str(caught.value) and "123" not in str(caught.value)


def test_credentials_in_the_base_url_are_sent_but_never_shown() -> None:
    server = Server(fail(500, {"error": {"message": "no luck for user:pw-secret-99"}}))
    url = "https://user:pw-secret-99@models.test/v1"
    client = ChatClient(url, MODEL, transport=httpx.MockTransport(server), sleep=lambda s: None, max_retries=1)
    with pytest.raises(ModelResponseError) as caught:
        client.complete(MESSAGES)
    assert server.requests[0].headers["authorization"].startswith("Basic ")  # httpx sends the user info
    assert "pw-secret-99" not in str(caught.value) + repr(client)
    assert "https://models.test/v1/chat/completions" in str(caught.value)


# -- providers ------------------------------------------------------------------------------------


def test_provider_presets() -> None:
    assert set(PROVIDERS) == {"zai", "bigmodel", "local", "novita", "parasail"}
    assert PROVIDERS["zai"] == Provider(
        "zai", "https://api.z.ai/api/paas/v4", "autoglm-phone-multilingual", ("ZAI_API_KEY",)
    )
    assert PROVIDERS["bigmodel"].api_key_env == ("ZHIPUAI_API_KEY", "BIGMODEL_API_KEY")
    assert PROVIDERS["local"].api_key_env == ()
    assert PROVIDERS["novita"].model == "zai-org/autoglm-phone-9b-multilingual"
    assert PROVIDERS["parasail"].base_url == "https://api.parasail.io/v1"
    for name, provider in PROVIDERS.items():
        assert provider.name == name
        assert not provider.base_url.endswith("/")


def test_resolve_api_key_order() -> None:
    bigmodel = PROVIDERS["bigmodel"]
    env = {"PHONE_AGENT_API_KEY": "generic", "ZHIPUAI_API_KEY": "zhipu", "BIGMODEL_API_KEY": "big"}

    assert resolve_api_key(bigmodel, env) == ("generic", "PHONE_AGENT_API_KEY")
    both = {"BIGMODEL_API_KEY": "big", "ZHIPUAI_API_KEY": "zhipu"}
    assert resolve_api_key(bigmodel, both) == ("zhipu", "ZHIPUAI_API_KEY")
    blank_first = {"BIGMODEL_API_KEY": "big\r\n", "ZHIPUAI_API_KEY": " "}
    assert resolve_api_key(bigmodel, blank_first) == ("big", "BIGMODEL_API_KEY")
    assert resolve_api_key(PROVIDERS["local"], {"ZAI_API_KEY": "z"}) is None
    assert resolve_api_key(None, {"PHONE_AGENT_API_KEY": "generic"}) == ("generic", "PHONE_AGENT_API_KEY")


class _Stream:
    """The one part of an httpcore network stream that Connections uses."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def get_extra_info(self, name: str) -> object:
        return self.sock if name == "socket" else None


def test_a_cut_reaches_connections_through_a_proxy_and_those_still_connecting() -> None:
    connections = Connections()
    pairs = [socket.socketpair() for _ in range(2)]
    try:
        proxied, late = (_Stream(ours) for ours, _theirs in pairs)
        connections.trace("proxy.start_tls.complete", {"return_value": proxied})  # TLS through an HTTPS proxy
        connections.cut()
        connections.trace("connection.connect_tcp.complete", {"return_value": late})  # connected after the cut
        for _ours, theirs in pairs:
            theirs.settimeout(5)
            assert theirs.recv(1) == b""  # shut down: the server sees us leave
    finally:
        for pair in pairs:
            for end in pair:
                end.close()
