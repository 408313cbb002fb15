"""The replay model server: a real local HTTP server that answers chat completions from a script.

It speaks the OpenAI-compatible API (``POST /v1/chat/completions`` streamed as server-sent events or
as one JSON body, and ``GET /v1/models``), answers the scripted replies in order, can inject the
failures real providers produce, and records every request for tests to inspect.

The script's format is described in `phone_agent.sim.replay_script`.

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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from phone_agent.sim.replay_script import (
    RecordedRequest,
    ReplayScript,
    ScriptCursor,
    ScriptError,
    ScriptStep,
    load_script,
)

# The script's side is imported from here by the tools and tests that start a server.
__all__ = ["CHUNK_CHARS", "RecordedRequest", "ReplayModelServer", "ReplayScript", "load_script"]

CHUNK_CHARS = 6  # small chunks, so markers such as </answer> are split across events


class ReplayModelServer:
    """Serves one script on ``127.0.0.1`` (a free port unless given). Use as a context manager.

    With ``per_conversation`` each conversation is answered from its own place in the script (see `replay_script`).
    """

    def __init__(
        self,
        script: ReplayScript,
        *,
        port: int = 0,
        sleep: Callable[[float], None] = time.sleep,
        per_conversation: bool = False,
    ) -> None:
        self._cursor = ScriptCursor(script, per_conversation)
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
        """How many scripted steps are still to be answered (in order, without ``per_conversation``)."""
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
    cursor: ScriptCursor
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
            return self.cursor.next_step(body)

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
