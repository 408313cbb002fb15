"""An OpenAI-compatible chat client: streaming over SSE (httpx-sse), timings, retries and typed provider errors.

Every ``httpx`` failure and every error body is translated here, once, into the ``ModelError``
tree of ``phone_agent.errors``. Errors are classified by status code and by the provider's JSON
error code, never by their message text. The API key is kept out of every message and repr.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from types import TracebackType
from typing import Any

import httpx
from httpx_sse import EventSource, SSEError

from phone_agent.cancellation import Cancellation
from phone_agent.errors import (
    ArrearsError,
    AuthenticationError,
    ConfigError,
    ContentRefusedError,
    ModelResponseError,
    ModelUnreachableError,
    RateLimitError,
    UnknownModelError,
)
from phone_agent.model.connections import Connections
from phone_agent.model.credentials import Redactor, header_problem, public_url, url_secrets
from phone_agent.model.messages import ToolDefinition, Turn
from phone_agent.model.providers import key_hint
from phone_agent.model.reply import Completion, Reply
from phone_agent.model.retries import RETRY_AFTER_CAP, Retryable, with_retries
from phone_agent.model.wire import wire_messages

# z.ai / BigModel business codes, found in {"error": {"code": "1302", "message": ...}}.
_AUTH_CODES = range(1000, 1005)
_ARREARS_CODE = 1113
_UNKNOWN_MODEL_CODE = 1211
_REFUSED_CODE = 1301
_RATE_LIMIT_CODES = frozenset({1302, 1303, 1305})
# "sensitive" is how z.ai ends a stream its moderation cut off; "content_filter" is OpenAI's word.
_REFUSAL_FINISH_REASONS = frozenset({"sensitive", "content_filter"})
# How much of a server's error message a message quotes.
_QUOTED_CHARS = 300


class ChatClient:
    """Talks to one OpenAI-compatible chat endpoint over a single reused ``httpx.Client``."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        stream: bool = True,
        timeout: float = 60.0,
        max_retries: int = 4,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
        max_tokens: int = 3000,
        temperature: float = 0.0,
        api_key_env: Sequence[str] = (),
        api_key_source: str | None = None,
        cancellation: Cancellation | None = None,
    ) -> None:
        """Set up the client; ``api_key_env`` names the provider's key variables for error hints, ``api_key_source``
        where this key came from (a flag, a variable, a file), when the caller knows. Once ``cancellation`` is
        cancelled, a request in flight is cut and the next one does not start (both raise ``Cancelled``); waits
        between retries end early too, unless a ``sleep`` is given.

        Raises:
            ConfigError: the key cannot be sent in an HTTP header (a line break, a control or non-ASCII character).
        """
        self._key_hint = key_hint(tuple(api_key_env))
        problem = header_problem(api_key) if api_key else None
        if problem:
            where = f" from {api_key_source}" if api_key_source else ""
            raise ConfigError(
                f"The API key{where} cannot be sent in an HTTP header: it holds {problem}. Copy the key again, "
                f"without quotes or line breaks ({api_key_source or self._key_hint})."
            )
        self._endpoint = base_url.rstrip("/")
        # What messages show: user info and query can hold credentials.
        self.base_url = public_url(self._endpoint)
        self.model = model
        self.stream = stream
        self.max_retries = max_retries
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._api_key = api_key or None
        self._redact = Redactor(api_key, *url_secrets(self._endpoint))
        self._cancellation = cancellation or Cancellation()
        self._sleep = sleep or self._cancellation.wait
        self._connections = Connections()
        self._clock = clock
        self._http = httpx.Client(timeout=timeout, transport=transport)

    def __repr__(self) -> str:
        """Describe the client without its key."""
        key = "set" if self._api_key else "none"
        fields = f"base_url={self.base_url!r}, model={self.model!r}, stream={self.stream}, api_key={key}"
        return f"ChatClient({fields})"

    def __enter__(self) -> ChatClient:
        """Return the client itself."""
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close the connection pool."""
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def complete(
        self,
        turns: Sequence[Turn],
        on_text: Callable[[str], None] | None = None,
        tools: Sequence[ToolDefinition] = (),
    ) -> Completion:
        """Send the conversation and return the reply, passing each streamed piece of text to ``on_text``.

        With ``tools`` (OpenAI function definitions) the model may answer with tool calls, and a stream is
        read to its end; without, a stream is closed as soon as the AutoGLM ``</answer>`` has arrived.
        After a retried stream that broke off, ``on_text`` sees the new attempt's pieces from the start.

        Raises:
            ModelUnreachableError, AuthenticationError, ArrearsError, UnknownModelError,
            ContentRefusedError, RateLimitError, ModelResponseError.
            Cancelled: the client's cancellation was cancelled before or during the request.
        """
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": wire_messages(turns),
            "stream": self.stream,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }
        if tools:
            payload["tools"] = list(tools)
            payload["tool_choice"] = "auto"
        body = json.dumps(payload, ensure_ascii=False).encode()
        started = self._clock()

        def attempt() -> Reply:
            self._cancellation.check()
            reply = Reply(self._clock, started, on_text, stop_at_answer=not tools)
            with self._cancellation.on_cancel(self._connections.cut):
                try:
                    self._post_chat(body, reply)
                except Exception:
                    self._cancellation.check()  # the failure is the cut of a cancelled request
                    raise
            return reply

        reply, retries = with_retries(attempt, self.max_retries, self._sleep)
        reply.end()
        tool_calls = reply.tool_calls
        if not reply.text and not tool_calls:
            raise ModelResponseError(f"the model at {self.base_url} sent an empty reply")
        total = self._clock() - started
        return Completion(
            text=reply.text,
            time_to_first_token=reply.first_token_at if reply.first_token_at is not None else total,
            total_time=total,
            thinking_time=reply.thinking_at,
            retries=retries,
            request_bytes=len(body),
            tool_calls=tool_calls,
        )

    def list_models(self) -> list[str]:
        """Return the ids of the models the endpoint serves.

        Raises:
            ModelUnreachableError, AuthenticationError, RateLimitError, ModelResponseError.
        """
        path = "/models"
        url = self.base_url + path

        def attempt() -> list[str]:
            with closing(self._send("GET", path)) as response:
                self._check_status(response, url, listing=True)
                entries = self._read_json(response, url).get("data")
            if not isinstance(entries, list):
                raise ModelResponseError(f"{url} answered without a list of models")
            return [str(entry["id"]) for entry in entries if isinstance(entry, dict) and "id" in entry]

        models, _ = with_retries(attempt, self.max_retries, self._sleep)
        return models

    # -- one attempt ----------------------------------------------------------------------------

    def _post_chat(self, body: bytes, reply: Reply) -> None:
        """Make one chat request and feed the reply into ``reply``; close the response early when done."""
        path = "/chat/completions"
        url = self.base_url + path
        with closing(self._send("POST", path, content=body, event_stream=self.stream)) as response:
            self._check_status(response, url)
            content_type = response.headers.get("content-type", "")
            # Some servers ignore "stream" or report an error as a plain JSON body.
            if self.stream and not content_type.startswith("application/json"):
                self._read_stream(response, url, reply)
            else:
                self._read_whole(response, url, reply)

    def _send(
        self, method: str, path: str, content: bytes | None = None, *, event_stream: bool = False
    ) -> httpx.Response:
        """Open a response without reading its body; connection failures and timeouts become retryable."""
        url = self.base_url + path
        headers = {"Accept": "text/event-stream" if event_stream else "application/json"}
        if content is not None:
            headers["Content-Type"] = "application/json"
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        trace = {"trace": self._connections.trace}  # so that a cancel can cut the connection
        request = self._http.build_request(method, self._endpoint + path, content=content, headers=headers,
                                           extensions=trace)
        try:
            return self._http.send(request, stream=True)
        except httpx.UnsupportedProtocol as exc:
            raise ModelUnreachableError(f"{url} is not an http:// or https:// URL: check --base-url") from exc
        except httpx.LocalProtocolError as exc:
            # A request we cannot even write is no network hiccup: sending it again would fail the same way.
            detail = self._redact(str(exc) or type(exc).__name__)
            raise ModelResponseError(f"could not send a request to {url} ({detail})") from None
        except httpx.TransportError as exc:
            kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "connection failed"
            detail = self._redact(str(exc) or type(exc).__name__)
            raise Retryable(
                ModelUnreachableError,
                f"could not reach the model endpoint {url} ({kind}: {detail})",
                hint="is the server running, and is --base-url right?",
            ) from exc

    def _read_stream(self, response: httpx.Response, url: str, reply: Reply) -> None:
        """Consume server-sent events until the answer is complete, then stop reading."""
        response.encoding = "utf-8"  # an event stream is always UTF-8, whatever charset the header claims
        try:
            for event in EventSource(response).iter_sse():
                self._cancellation.check()
                if not event.data:
                    continue  # a keep-alive, or an id or retry field on its own
                if event.data.strip() == "[DONE]":
                    return
                chunk = _parse_json(event.data, url)
                if chunk.get("error"):
                    raise self._failure(response.status_code, chunk, None, url)
                choices = chunk.get("choices")
                if isinstance(choices, list) and choices and isinstance(choices[0], dict):
                    finish = reply.take_choice(choices[0], "delta")
                    if finish in _REFUSAL_FINISH_REASONS:
                        raise ContentRefusedError(_refused_message(f"finish_reason {finish!r}"))
                    if finish:
                        return
                if reply.complete:
                    return
        except SSEError as exc:
            content_type = response.headers.get("content-type", "")
            raise ModelResponseError(
                f"{url} answered {content_type!r} instead of an event stream; try again with --no-stream"
            ) from exc
        except httpx.TransportError as exc:
            raise Retryable(
                ModelResponseError,
                f"the reply stream from {url} broke off ({type(exc).__name__})",
                dropped=True,
            ) from exc
        raise Retryable(
            ModelResponseError,
            f"the reply stream from {url} ended before the answer was complete",
            dropped=True,
        )

    def _read_whole(self, response: httpx.Response, url: str, reply: Reply) -> None:
        """Read a non-streamed reply: ``choices[0].message``."""
        body = self._read_json(response, url)
        if body.get("error"):
            raise self._failure(response.status_code, body, None, url)
        choices = body.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise ModelResponseError(f"{url} answered without any choices")
        finish = reply.take_choice(choices[0], "message")
        if finish in _REFUSAL_FINISH_REASONS:
            raise ContentRefusedError(_refused_message(f"finish_reason {finish!r}"))

    def _read_json(self, response: httpx.Response, url: str) -> dict[str, Any]:
        """Read the whole body as a JSON object; a broken read is a dropped response."""
        try:
            raw = response.read()
        except httpx.TransportError as exc:
            raise Retryable(ModelResponseError, f"the response from {url} broke off", dropped=True) from exc
        return _parse_json(raw, url)

    # -- errors ---------------------------------------------------------------------------------

    def _check_status(self, response: httpx.Response, url: str, *, listing: bool = False) -> None:
        """Raise the mapped error for a non-2xx response."""
        if response.is_success:
            return
        try:
            raw = response.read()
        except httpx.TransportError:
            raw = b""  # the status alone still says what went wrong
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        retry_after = _retry_after(response.headers.get("retry-after"))
        raise self._failure(response.status_code, body, retry_after, url, listing=listing)

    def _failure(
        self, status: int, body: Any, retry_after: float | None, url: str, *, listing: bool = False
    ) -> Exception:
        """Map a status code and error body to the error to raise (retryable or final)."""
        code, server_message = _provider_error(body)
        detail = f"HTTP {status}" + (f", code {code}" if code is not None else "")
        if server_message:
            # Redact before cutting: a cut through the key would leave its start behind.
            detail += f": {self._redact(server_message)[:_QUOTED_CHARS]}"
        # The provider's own code is more precise than the status (z.ai sends arrears as a 429).
        if code in _AUTH_CODES:
            return self._auth_error(url, detail)
        if code == _ARREARS_CODE:
            return ArrearsError(f"the provider account has no balance left ({detail}): top it up and retry")
        if code == _UNKNOWN_MODEL_CODE or (status == 404 and not listing):
            return UnknownModelError(
                f"{self.base_url} does not serve the model {self.model!r} ({detail}): "
                "run `phone-agent doctor` to see the models it offers, then pass one with --model"
            )
        if code == _REFUSED_CODE:
            return ContentRefusedError(_refused_message(detail))
        if code in _RATE_LIMIT_CODES or status == 429:
            return Retryable(
                RateLimitError,
                f"{url} is rate-limiting us ({detail})",
                hint="wait a minute, or ask the provider for a higher limit",
                retry_after=retry_after,
            )
        if status in (401, 403):
            return self._auth_error(url, detail)
        if status >= 500:
            return Retryable(ModelResponseError, f"{url} failed ({detail})", retry_after=retry_after)
        if status == 404:
            return ModelResponseError(f"{url} does not list its models ({detail}); pass --model yourself")
        return ModelResponseError(f"{url} refused the request ({detail})")

    def _auth_error(self, url: str, detail: str) -> AuthenticationError:
        """Explain a rejected or missing key, naming every place a key can come from."""
        if not self._api_key:
            return AuthenticationError(f"{url} requires an API key ({detail}): set one with {self._key_hint}")
        return AuthenticationError(f"the API key was rejected ({detail}): check {self._key_hint}")


def _refused_message(detail: str) -> str:
    """Say that the provider refused the content."""
    return f"the provider refused to process this content ({detail}); rephrase the task or use another provider"


def _provider_error(body: Any) -> tuple[int | None, str | None]:
    """Pull (numeric code, message) out of an error body: ``{"error": {"code", "message"}}`` or flat."""
    if not isinstance(body, dict):
        text = " ".join(str(body).split()) if body else ""
        return None, text or None
    error = body.get("error")
    source = error if isinstance(error, dict) else body
    raw_code = source.get("code")
    message = source.get("message") or source.get("msg")
    if isinstance(error, str) and not message:
        message = error
    code: int | None = None
    if isinstance(raw_code, int) and not isinstance(raw_code, bool):
        code = raw_code
    elif isinstance(raw_code, str) and raw_code.strip().isdigit():
        code = int(raw_code)
    return code, str(message) if message else None


def _retry_after(value: str | None) -> float | None:
    """Read a Retry-After header given in seconds, capped; dates and junk are ignored."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    if seconds != seconds or seconds < 0:  # NaN or negative: no usable advice
        return None
    return min(seconds, RETRY_AFTER_CAP)


def _parse_json(raw: str | bytes, url: str) -> dict[str, Any]:
    """Parse a JSON object from the endpoint.

    Raises:
        ModelResponseError: the text is not a JSON object.
    """
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ModelResponseError(f"{url} sent something that is not JSON") from exc
    if not isinstance(value, dict):
        raise ModelResponseError(f"{url} sent JSON that is not an object")
    return value
