"""Small in-process stand-ins used by unit tests of the loop (the ADB path uses the virtual phone)."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Callable, Sequence
from typing import Any

from PIL import Image
from typer.testing import CliRunner

from actions import LaunchableApp, Screenshot
from phone_agent.cli import app
from phone_agent.model.messages import ToolDefinition, Turn
from phone_agent.model.reply import Completion, ToolCall
from phone_agent.model.wire import wire_messages


def png(width: int = 108, height: int = 240, shade: int = 200) -> bytes:
    """A plain PNG of one gray level."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (shade, shade, shade)).save(buffer, "PNG")
    return buffer.getvalue()


class FakeClock:
    """A clock that moves only when something sleeps or a test moves it."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeDevice:
    """Records every call; the screen's shade changes with each action so settling sees a change."""

    serial = "fake-1"

    def __init__(self, width: int = 108, height: int = 240, packages: frozenset[str] | None = None) -> None:
        self.width, self.height = width, height
        self.calls: list[tuple[Any, ...]] = []
        self.foreground = "com.android.launcher3"
        self.packages = packages if packages is not None else frozenset({"com.ebay.mobile", "com.android.settings"})
        self.shade = 100
        self.secure = False
        self.captures = 0

    def screenshot(self) -> Screenshot:
        self.captures += 1
        return Screenshot(png(self.width, self.height, self.shade), self.width, self.height, self.secure)

    def current_app(self) -> str:
        return self.foreground

    def home_and_keyboard(self) -> frozenset[str]:
        self.home_queries = getattr(self, "home_queries", 0) + 1
        return frozenset({"com.android.launcher3", "com.google.android.inputmethod.latin"})

    def _act(self, *call: Any) -> None:
        self.calls.append(call)
        self.shade = (self.shade + 40) % 256

    def tap(self, x: int, y: int) -> None:
        self._act("tap", x, y)

    def double_tap(self, x: int, y: int) -> None:
        self._act("double_tap", x, y)

    def long_press(self, x: int, y: int, duration_ms: int = 800) -> None:
        self._act("long_press", x, y, duration_ms)

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int) -> None:
        self._act("swipe", x1, y1, x2, y2, duration_ms)

    def back(self) -> None:
        self._act("back")

    def home(self) -> None:
        self._act("home")

    def installed_packages(self) -> frozenset[str]:
        return self.packages

    def launchable_apps(self) -> tuple[LaunchableApp, ...]:
        return tuple(LaunchableApp("", package) for package in sorted(self.packages))  # as without scrcpy's list

    def launch(self, package: str, activity: str | None = None) -> bool:
        self._act("launch", package, activity)
        if package in self.packages:
            self.foreground = package
            return True
        return False

    def type_text(self, text: str) -> None:
        self._act("type", text)

    def release_input(self) -> None:
        self.releases = getattr(self, "releases", 0) + 1


def calls(*pairs: tuple[str, str], text: str = "") -> Completion:
    """A completion that calls tools, each given as (name, arguments JSON), with ids call_1, call_2, ..."""
    tool_calls = tuple(ToolCall(f"call_{i}", name, arguments) for i, (name, arguments) in enumerate(pairs, 1))
    return Completion(text, 0.0, 0.0, None, 0, 0, tool_calls)


class ScriptedModel:
    """Answers with the queued replies (text, or whole completions with tool calls) and keeps every request."""

    def __init__(self, replies: list[str | Completion]) -> None:
        self.replies = list(replies)
        self.requests: list[list[dict[str, Any]]] = []  # each request as the model client would send it
        self.tools: list[list[ToolDefinition] | None] = []

    def complete(
        self, turns: Sequence[Turn], on_text: Callable[[str], None] | None = None, tools: Sequence[ToolDefinition] = ()
    ) -> Completion:
        self.requests.append(wire_messages(turns))
        self.tools.append(list(tools) or None)
        if not self.replies:
            raise AssertionError("the model was asked more often than the script allows")
        reply = self.replies.pop(0)
        completion = reply if isinstance(reply, Completion) else Completion(reply, 0.0, 0.0, None, 0, 0)
        if on_text is not None and completion.text:
            on_text(completion.text)
        return completion


class ScriptedHandOff:
    """Answers hand-off questions from fixed values and records what was asked."""

    def __init__(self, confirm: bool = True, take_over: bool = True, answer: str | None = "the blue one") -> None:
        self._confirm, self._take_over, self._answer = confirm, take_over, answer
        self.asked: list[tuple[str, str]] = []

    def confirm(self, message: str) -> bool:
        self.asked.append(("confirm", message))
        return self._confirm

    def take_over(self, message: str) -> bool:
        self.asked.append(("take_over", message))
        return self._take_over

    def ask(self, question: str) -> str | None:
        self.asked.append(("ask", question))
        return self._answer


def assert_valid_tool_history(messages: list[dict[str, Any]]) -> None:
    """Check the OpenAI rule: each assistant tool call is answered by one tool message before any other turn."""
    pending: list[str] = []
    for message in messages:
        role = message["role"]
        if role == "tool":
            assert message["tool_call_id"] in pending, f"a tool message answers no open call: {message}"
            assert isinstance(message["content"], str) and message["content"]
            pending.remove(message["tool_call_id"])
            continue
        assert not pending, f"tool calls {pending} are unanswered before a {role} turn"
        if role == "assistant" and message.get("tool_calls"):
            for call in message["tool_calls"]:
                assert call["type"] == "function" and call["id"] and call["function"]["name"]
                assert isinstance(call["function"]["arguments"], str)
            pending = [call["id"] for call in message["tool_calls"]]
            assert len(set(pending)) == len(pending)


def invoke(*args: str, env: dict[str, str | None] | None = None) -> subprocess.CompletedProcess[str]:
    """``phone-agent ARGS`` run in this process (no interpreter start-up), with ``env`` on top of ours."""
    result = CliRunner().invoke(app, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a crash, which the real command would show as a traceback
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)
