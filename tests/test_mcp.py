"""``phone-agent mcp`` as an MCP client meets it: a real subprocess spoken to by the mcp SDK's own stdio client.

The phone is the virtual one behind a real adb server (or started by ``--sim``), the model the replay server.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from mcp import Client, StdioServerParameters
from mcp_types import CallToolResult, ImageContent, TextContent
from PIL import Image, ImageChops, ImageStat

from phone_agent.sim.model_server import ReplayModelServer, ReplayScript
from phone_agent.sim.testing import AdbServer, PhoneSession, running_phone
from phone_agent.trace import read_trace
from tests.test_cli_process import ADB_KEYBOARD, TYPED_THEN_WAITING, wait_until
from tests.test_end_to_end import EBAY_SEARCH

T = TypeVar("T")
TOOLS = {
    "screenshot", "tap", "long_press", "double_tap", "swipe", "type_text", "press_key", "back", "home", "launch",
    "list_apps", "current_app", "ui_tree", "run_task",
}
SEARCH_FIELD = "com.ebay.mobile:id/search_src_text"


def server_env(tmp_path: Path) -> dict[str, str]:
    """What the client passes on top of its small default environment: our code, and a home of the test's own."""
    env = {"PHONE_AGENT_HOME": str(tmp_path / "home"), "PHONE_AGENT_CONFIG": str(tmp_path / "no-config.yaml")}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def server_args(adb: AdbServer, phone: PhoneSession, tmp_path: Path, *extra: str) -> list[str]:
    return ["-m", "phone_agent", "mcp", "--device", phone.phone.serial, "--adb-port", str(adb.port),
            "--runs-dir", str(tmp_path / "runs"), *extra]


def talk(args: list[str], tmp_path: Path, conversation: Callable[[Client], Awaitable[T]]) -> T:
    """Start ``python ARGS`` as an MCP server, hold the conversation with it, and close it."""

    async def main() -> T:
        params = StdioServerParameters(command=sys.executable, args=args, env=server_env(tmp_path))
        async with Client(params, read_timeout_seconds=120) as client:
            return await conversation(client)

    return asyncio.run(main())


def text(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def image(result: CallToolResult, mime_type: str = "image/png") -> Image.Image:
    (block,) = [block for block in result.content if isinstance(block, ImageContent)]
    assert block.mime_type == mime_type
    return Image.open(io.BytesIO(base64.b64decode(block.data))).convert("RGB")


def same_image(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a, b.convert("RGB")).getbbox() is None


def shows(shot: Image.Image, screen: Image.Image) -> bool:
    """The screenshot shows the screen: exactly over adb, within video compression over scrcpy (maybe smaller)."""
    difference = ImageChops.difference(shot.convert("RGB"), screen.convert("RGB").resize(shot.size))
    return sum(ImageStat.Stat(difference).mean) / 3 < 3.0


def ok(result: CallToolResult) -> CallToolResult:
    assert not result.is_error, text(result)
    return result


def test_sim_lists_the_tools_and_the_next_screenshot_shows_a_launched_app(tmp_path: Path) -> None:
    async def conversation(client: Client) -> None:
        assert {tool.name for tool in (await client.list_tools()).tools} == TOOLS
        home = ok(await client.call_tool("screenshot"))
        assert "1080x2400 pixels" in text(home) and image(home, "image/jpeg").size == (540, 1200)
        assert "Settings (com.android.settings) is in front." in text(ok(await client.call_tool("launch", {
            "app": "Settings"})))
        settings = ok(await client.call_tool("screenshot"))
        assert "in front: Settings (com.android.settings)" in text(settings)
        assert not same_image(image(home, "image/jpeg"), image(settings, "image/jpeg"))

    args = ["-m", "phone_agent", "mcp", "--sim", "--image-format", "jpeg", "--image-max-side", "1200"]
    talk(args, tmp_path, conversation)


def test_the_screenshot_is_the_phones_screen_and_grid_points_land_where_the_loop_puts_them(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path
) -> None:
    async def conversation(client: Client) -> None:
        ok(await client.call_tool("launch", {"app": "eBay"}))
        shot = ok(await client.call_tool("screenshot"))
        assert shows(image(shot), phone.phone.screen_image())
        ok(await client.call_tool("tap", {"x": 500, "y": 145}))  # the search field, as the model taps it
        ok(await client.call_tool("type_text", {"text": "earbuds"}))
        ok(await client.call_tool("press_key", {"key": "enter"}))

    talk(server_args(adb, phone, tmp_path), tmp_path, conversation)
    assert phone.phone.state()["shop"]["query"] == "earbuds"


def test_ui_tree_gives_the_point_that_taps_an_element_on_the_grid_and_in_pixels(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path
) -> None:
    def point(tree: str, label: str) -> dict[str, int]:
        (line,) = [line for line in tree.splitlines() if label in line]
        x, y = line.rpartition(" at (")[2].rstrip(")").split(", ")
        return {"x": int(x), "y": int(y)}

    async def conversation(client: Client) -> None:
        ok(await client.call_tool("launch", {"app": "eBay"}))
        grid = text(ok(await client.call_tool("ui_tree")))
        pixels = text(ok(await client.call_tool("ui_tree", {"pixels": True})))
        assert point(grid, "id=search_src_text") != point(pixels, "id=search_src_text")
        ok(await client.call_tool("tap", point(grid, "id=search_src_text")))
        ok(await client.call_tool("type_text", {"text": "lamp"}))
        ok(await client.call_tool("tap", {**point(pixels, "id=search_src_text"), "pixels": True}))
        ok(await client.call_tool("type_text", {"text": "desk lamp"}))

    talk(server_args(adb, phone, tmp_path), tmp_path, conversation)
    assert phone.phone.state()["text_fields"][SEARCH_FIELD] == "desk lamp"


def test_ui_tree_points_are_in_the_frames_pixels_when_the_video_is_smaller_than_the_display(
    adb: AdbServer, tmp_path: Path
) -> None:
    with running_phone(adb, width=1080, height=2340) as phone:  # scrcpy's video: 1080x2336 (multiples of 8)
        async def conversation(client: Client) -> str:
            ok(await client.call_tool("home"))
            return text(ok(await client.call_tool("ui_tree", {"pixels": True})))

        tree = talk(server_args(adb, phone, tmp_path, "--channel", "scrcpy"), tmp_path, conversation)
        x1, y1, x2, y2 = map(int, re.findall(r"\d+", re.search(
            r'text="Settings"[^>]*bounds="([^"]+)"', phone.phone.ui.hierarchy_xml()).group(1)))  # type: ignore[union-attr]
    (line,) = [line for line in tree.splitlines() if line.startswith("'Settings'")]
    assert line.endswith(f"at ({(x1 + x2) // 2}, {(y1 + y2) // 2 * 2336 // 2340})")


def test_errors_are_tool_errors_with_the_clis_messages(adb: AdbServer, phone: PhoneSession, tmp_path: Path) -> None:
    async def conversation(client: Client) -> dict[str, CallToolResult]:
        return {
            "launch": await client.call_tool("launch", {"app": "Setings"}),
            "tap": await client.call_tool("tap", {"x": 1000, "y": 5}),
            "key": await client.call_tool("press_key", {"key": "SPACESHIP"}),
            "task": await client.call_tool("run_task", {"task": "open Settings"}),
            "after": await client.call_tool("current_app"),
        }

    results = talk(server_args(adb, phone, tmp_path), tmp_path, conversation)
    assert all(results[name].is_error for name in ("launch", "tap", "key", "task"))
    assert 'Unknown app "Setings". Did you mean: Settings' in text(results["launch"])
    assert "off the 0-999 grid" in text(results["tap"])
    assert "Unknown key 'SPACESHIP'" in text(results["key"])
    # No model configured: the same sentence `phone-agent run` prints, and the phone tools still work.
    assert "No API key for zai. Give one with" in text(results["task"])
    assert text(ok(results["after"])).endswith("(com.android.launcher3)")


def test_run_task_runs_the_agent_with_the_replay_model(adb: AdbServer, phone: PhoneSession, tmp_path: Path) -> None:
    script = ReplayScript.model_validate({"replies": EBAY_SEARCH})
    with ReplayModelServer(script) as model:
        args = server_args(adb, phone, tmp_path, "--base-url", model.base_url, "--model", script.model)

        async def conversation(client: Client) -> CallToolResult:
            async def progress(progress: float, total: float | None, message: str | None) -> None:
                steps.append((progress, message))

            return ok(await client.call_tool("run_task", {"task": "open eBay and search earbuds"},
                                             progress_callback=progress))

        steps: list[tuple[float, str | None]] = []
        result = talk(args, tmp_path, conversation)
    outcome = json.loads(text(result))
    assert steps == [(index, f"Step {index}: {action}") for index, action in enumerate(outcome["steps"], 1)]
    assert outcome["status"] == "finished"
    assert outcome["message"] == "Results for earbuds are on screen."
    assert outcome["steps"][0] == 'do(action="Launch", app="eBay")' and len(outcome["steps"]) == 5
    assert Path(outcome["report"]).is_file() and Path(outcome["report"]).parent.parent == tmp_path / "runs"
    assert phone.phone.state()["shop"]["query"] == "earbuds"


def test_the_server_answers_while_a_task_runs(adb: AdbServer, phone: PhoneSession, tmp_path: Path) -> None:
    release = threading.Event()

    def held_back(seconds: float) -> None:
        release.wait(seconds)

    script = ReplayScript.model_validate({"replies": [{"reply": EBAY_SEARCH[-1], "latency_ms": 60_000}]})
    with ReplayModelServer(script, sleep=held_back) as model:
        args = server_args(adb, phone, tmp_path, "--base-url", model.base_url, "--model", script.model)

        async def conversation(client: Client) -> str:
            async with asyncio.TaskGroup() as group:
                task = group.create_task(client.call_tool("run_task", {"task": "say done"}))
                while not model.requests:
                    await asyncio.sleep(0.05)
                tools = await client.list_tools()  # answered while the model is still thinking
                assert not task.done() and len(tools.tools) == len(TOOLS)
                release.set()
            return text(ok(task.result()))

        assert '"status": "finished"' in talk(args, tmp_path, conversation)


def test_a_cancelled_run_task_ends_as_interrupted_and_the_next_call_is_answered(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path
) -> None:
    original_ime = phone.phone.state()["ime"]["current"]
    release = threading.Event()
    held = [*TYPED_THEN_WAITING[:3], {**TYPED_THEN_WAITING[3], "latency_ms": 600_000}]  # held until the test ends

    def held_back(seconds: float) -> None:
        release.wait(seconds)

    script = ReplayScript.model_validate({"replies": held})
    with ReplayModelServer(script, sleep=held_back) as model:
        args = server_args(adb, phone, tmp_path, "--base-url", model.base_url, "--model", script.model,
                           "--channel", "adb")

        async def conversation(client: Client) -> str:
            task = asyncio.create_task(client.call_tool("run_task", {"task": "search earbuds"}))
            while len(model.requests) < 4:
                await asyncio.sleep(0.05)
            assert phone.phone.state()["ime"]["current"] == ADB_KEYBOARD  # typing switched keyboards
            task.cancel()  # the client sends notifications/cancelled
            with contextlib.suppress(asyncio.CancelledError):
                await task
            # Answered once the task has ended: it runs one call at a time. No reply comes to end it.
            return text(ok(await client.call_tool("current_app", read_timeout_seconds=30)))

        try:
            assert talk(args, tmp_path, conversation).endswith("(com.ebay.mobile)")
        finally:
            release.set()
    assert len(model.requests) == 4  # nothing more was asked once cancelled
    (run_dir,) = (tmp_path / "runs").iterdir()
    trace = read_trace(run_dir)
    assert trace[-1]["type"] == "result" and trace[-1]["status"] == "interrupted"
    assert trace[-1]["message"] == "The MCP client cancelled the task."
    assert len([line for line in trace if line["type"] == "step"]) == 3
    assert (run_dir / "report.html").is_file()
    assert phone.phone.state()["ime"]["current"] == original_ime


def test_closing_the_server_during_run_task_ends_the_run_as_interrupted(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path
) -> None:
    release = threading.Event()

    def held_back(seconds: float) -> None:
        release.wait(seconds)

    script = ReplayScript.model_validate({"replies": [{"reply": EBAY_SEARCH[-1], "latency_ms": 600_000}]})
    frames: list[dict[str, Any]] = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "run_task", "arguments": {"task": "x"}}},
    ]
    with ReplayModelServer(script, sleep=held_back) as model:
        args = server_args(adb, phone, tmp_path, "--base-url", model.base_url, "--model", script.model)
        process = subprocess.Popen([sys.executable, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=os.environ | server_env(tmp_path))
        try:
            assert process.stdin is not None
            process.stdin.write("".join(json.dumps(frame) + "\n" for frame in frames).encode())
            process.stdin.flush()
            wait_until(lambda: bool(model.requests), process)
            process.communicate(timeout=60)  # closes stdin; no reply comes to end the run
        finally:
            release.set()
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert read_trace(run_dir)[-1]["status"] == "interrupted"
    assert (run_dir / "report.html").is_file()


def test_stdout_carries_only_protocol_frames(adb: AdbServer, phone: PhoneSession, tmp_path: Path) -> None:
    script = ReplayScript.model_validate({"replies": ['<think>THINKING ALOUD</think>' + EBAY_SEARCH[-1]]})
    frames: list[dict[str, Any]] = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "launch", "arguments": {"app": "Nope"}}},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "run_task", "arguments": {"task": "x"}}},
    ]
    with ReplayModelServer(script) as model:
        args = server_args(adb, phone, tmp_path, "--base-url", model.base_url, "--model", script.model)
        process = subprocess.Popen([sys.executable, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=os.environ | server_env(tmp_path), text=True)
        answers: list[dict[str, Any]] = []
        assert process.stdin is not None and process.stdout is not None
        for frame in frames:  # one at a time: closing stdin ends the server, with answers still owed
            process.stdin.write(json.dumps(frame) + "\n")
            process.stdin.flush()
            if "id" in frame:
                answers.append(json.loads(process.stdout.readline()))
        out, err = process.communicate(timeout=60)
    assert out == "" and process.returncode == 0
    assert [answer["id"] for answer in answers] == [1, 2, 3]
    assert answers[2]["result"]["structuredContent"]["status"] == "finished"
    assert "THINKING ALOUD" not in json.dumps(answers)
    assert "Tool 'launch' failed" in err  # the SDK's log lines went to stderr


def test_take_stdout_sends_everything_else_to_stderr() -> None:
    program = (
        "import os, sys\n"
        "from phone_agent.mcp_server import take_stdout\n"
        "wire = take_stdout()\n"
        "print('from python')\n"
        "sys.stdout.flush()\n"
        "os.system('echo from a child')\n"
        "os.write(wire, b'frame\\n')\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert done.stdout == "frame\n"
    assert done.stderr == "from python\nfrom a child\n"
