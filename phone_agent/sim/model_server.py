"""The replay model server: a real local HTTP server that answers chat completions from a script.

It speaks the OpenAI-compatible API (``POST /v1/chat/completions`` streamed as server-sent events or
as one JSON body, and ``GET /v1/models``), answers the scripted replies in order, can inject the
failures real providers produce, and records every request for tests to inspect.

A script is YAML or JSON::

    model: autoglm-phone-multilingual
    replies:
      - '<think>Open the shop.</think><answer>do(action="Launch", app="eBay")</answer>'
      - reply: '<answer>do(action="Back")</answer>'
        latency_ms: 300                               # wait before answering
      - error: {status: 429, retry_after: 1}          # rate limited, with Retry-After
      - error: {status: 500}
      - error: {status: 429, code: "1302", message: "Rate limit reached"}   # a z.ai business error
      - drop: true                                    # the stream breaks off half-way
      - tool_call: {name: tap, arguments: {element: [500, 145]}}   # an OpenAI tool call
        reply: The search box is at the top.          # optional text sent with it (the reasoning)
      - tool_calls: [{name: back}, {name: home}]      # several calls in one reply

A reply may hold half of a surrogate pair (``"\\ud83d"``), as servers that count UTF-16 code units
send when a chunk boundary splits an emoji; it goes out as the JSON escape such servers write.

Tool calls are streamed the way OpenAI-compatible servers do: the id and name first, then the
arguments in small fragments, then ``finish_reason: "tool_calls"``. Whether a request offered
``tools`` is recorded.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CHUNK_CHARS = 6  # small chunks, so markers such as </answer> are split across events


class ScriptError(BaseModel):
    """An injected failure: an HTTP status, optionally with a provider error code and Retry-After."""

    model_config = ConfigDict(extra="forbid")
    status: int = Field(ge=400, le=599)
    code: str | None = None
    message: str = "injected error"
    retry_after: float | None = None


class ScriptToolCall(BaseModel):
    """A tool call to answer with; ``arguments`` is an object (sent as JSON) or text sent as it is."""

    model_config = ConfigDict(extra="forbid")
    name: str
    arguments: dict[str, Any] | str = Field(default_factory=dict)
    id: str | None = None

    def arguments_json(self) -> str:
        """The arguments as the JSON text a server sends."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, ensure_ascii=False)


class ScriptStep(BaseModel):
    """One scripted answer: a reply and/or tool calls, an error, or a stream that drops."""

    model_config = ConfigDict(extra="forbid")
    reply: str | None = None
    tool_call: ScriptToolCall | None = None
    tool_calls: list[ScriptToolCall] | None = None
    error: ScriptError | None = None
    drop: bool = False
    latency_ms: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _one_kind(self) -> ScriptStep:
        if self.tool_call is not None and self.tool_calls is not None:
            raise ValueError("give tool_call or tool_calls, not both")
        answer = self.reply is not None or self.tool_call is not None or bool(self.tool_calls)
        if sum((answer, self.error is not None, self.drop)) != 1:
            raise ValueError("each step needs exactly one of: reply and/or tool_call(s), error, drop")
        return self

    def calls(self) -> list[ScriptToolCall]:
        """The step's tool calls, if any."""
        return [self.tool_call] if self.tool_call is not None else list(self.tool_calls or [])


class ReplayScript(BaseModel):
    """The model name to serve and the ordered steps."""

    model_config = ConfigDict(extra="forbid")
    model: str = "autoglm-phone-multilingual"
    replies: list[ScriptStep]

    @model_validator(mode="before")
    @classmethod
    def _plain_strings_are_replies(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("replies"), list):
            data = {**data, "replies": [{"reply": r} if isinstance(r, str) else r for r in data["replies"]]}
        return data


def load_script(path: Path) -> ReplayScript:
    """Read a replay script (YAML or JSON).

    Raises:
        ValueError: the file is not a valid script; the message names the file and the field.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return ReplayScript.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the replay script: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"{path}: invalid replay script: {problems}") from None


@dataclass(frozen=True)
class RecordedRequest:
    """What one chat request carried."""

    model: str
    stream: bool
    messages: list[dict[str, Any]]
    image_count: int
    image_bytes: list[int]
    image_sha256: list[str]
    body_bytes: int
    authorization: bool
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None


@dataclass
class _Cursor:
    script: ReplayScript
    position: int = 0
    calls_made: int = 0
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class ReplayModelServer:
    """Serves one script on ``127.0.0.1`` (a free port unless given). Use as a context manager."""

    def __init__(self, script: ReplayScript, *, port: int = 0, sleep: Callable[[float], None] = time.sleep) -> None:
        self._cursor = _Cursor(script)
        self._sleep = sleep
        handler = type("Handler", (_Handler,), {"cursor": self._cursor, "pause": staticmethod(sleep)})
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="replay-model", daemon=True
        )

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL, e.g. ``http://127.0.0.1:41234/v1``."""
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every chat request received so far, in order."""
        with self._cursor.lock:
            return list(self._cursor.requests)

    @property
    def remaining(self) -> int:
        """How many scripted steps are still to be answered."""
        with self._cursor.lock:
            return len(self._cursor.script.replies) - self._cursor.position

    def start(self) -> ReplayModelServer:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ReplayModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    cursor: _Cursor
    pause: Callable[[float], None]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Stay quiet: the recorded requests are the log."""

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            model = self.cursor.script.model
            self._json(200, {"object": "list", "data": [{"id": model, "object": "model", "owned_by": "replay"}]})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": f"no route {self.path}"}})
            return
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            body = json.loads(raw)
        except ValueError:
            self._json(400, {"error": {"message": "the body is not JSON"}})
            return
        step = self._record_and_advance(body, len(raw))
        if step is None:
            self._json(410, {"error": {"message": "the replay script has no more replies"}})
            return
        if step.latency_ms:
            self.pause(step.latency_ms / 1000)
        calls = self._tool_calls(step)
        if step.error is not None:
            self._error(step.error)
        elif body.get("stream"):
            self._stream(step.reply or "", calls, drop=step.drop)
        elif step.drop:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"choices": [')
            self.close_connection = True
        else:
            message: dict[str, Any] = {"role": "assistant", "content": step.reply}
            if calls:
                message["tool_calls"] = [
                    {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
                    for call_id, name, arguments in calls
                ]
            finish = "tool_calls" if calls else "stop"
            self._json(200, _completion(body, {"index": 0, "message": message, "finish_reason": finish}))

    def _tool_calls(self, step: ScriptStep) -> list[tuple[str, str, str]]:
        """The step's tool calls as (id, name, arguments JSON), with ids unique across the script."""
        result = []
        for call in step.calls():
            with self.cursor.lock:
                self.cursor.calls_made += 1
                number = self.cursor.calls_made
            result.append((call.id or f"call_{number}", call.name, call.arguments_json()))
        return result

    def _record_and_advance(self, body: dict[str, Any], size: int) -> ScriptStep | None:
        urls = [part for message in body.get("messages", []) for part in _image_parts(message)]
        images = [base64.b64decode(url.split(",", 1)[1]) if "," in url else b"" for url in urls]
        request = RecordedRequest(
            model=str(body.get("model")),
            stream=bool(body.get("stream")),
            messages=body.get("messages", []),
            image_count=len(images),
            image_bytes=[len(image) for image in images],
            image_sha256=[hashlib.sha256(image).hexdigest() for image in images],
            body_bytes=size,
            authorization="Authorization" in self.headers,
            tools=body.get("tools"),
            tool_choice=body.get("tool_choice"),
        )
        with self.cursor.lock:
            self.cursor.requests.append(request)
            steps = self.cursor.script.replies
            if self.cursor.position >= len(steps):
                return None
            self.cursor.position += 1
            return steps[self.cursor.position - 1]

    def _error(self, error: ScriptError) -> None:
        payload: dict[str, Any] = {"message": error.message}
        if error.code is not None:
            payload["code"] = error.code
        headers = {"Retry-After": f"{error.retry_after:g}"} if error.retry_after is not None else {}
        self._json(error.status, {"error": payload}, headers)

    def _stream(self, reply: str, calls: list[tuple[str, str, str]], *, drop: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if not reply and not calls:
            reply = '<think>The stream will break off.</think><answer>do(action="Back")</answer>'
        deltas: list[dict[str, Any]] = [
            {"content": reply[i : i + CHUNK_CHARS]} for i in range(0, len(reply), CHUNK_CHARS)
        ]
        for index, (call_id, name, arguments) in enumerate(calls):
            first = {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
            deltas.append({"tool_calls": [first]})
            deltas += [
                {"tool_calls": [{"index": index, "function": {"arguments": arguments[i : i + CHUNK_CHARS]}}]}
                for i in range(0, len(arguments), CHUNK_CHARS)
            ]
        if drop:
            deltas = deltas[: max(1, len(deltas) // 2)]
        try:
            for delta in deltas:
                self._event(_completion({}, {"index": 0, "delta": delta, "finish_reason": None}))
            if not drop:
                finish = "tool_calls" if calls else "stop"
                self._event(_completion({}, {"index": 0, "delta": {}, "finish_reason": finish}))
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stops reading once the answer is complete

    def _event(self, payload: dict[str, Any]) -> None:
        self.wfile.write(b"data: " + _encode(payload) + b"\n\n")
        self.wfile.flush()

    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = _encode(payload)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _encode(payload: dict[str, Any]) -> bytes:
    """The payload as UTF-8 JSON; half a surrogate pair, unencodable, becomes its JSON escape ``\\udXXX``."""
    return json.dumps(payload, ensure_ascii=False).encode("utf-8", "backslashreplace")


def _image_parts(message: dict[str, Any]) -> list[str]:
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [
        str(part.get("image_url", {}).get("url", ""))
        for part in content
        if isinstance(part, dict) and part.get("type") == "image_url"
    ]


def _completion(body: dict[str, Any], choice: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "replay",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "replay"),
        "choices": [choice],
    }
