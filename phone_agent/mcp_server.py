"""``phone-agent mcp``: the phone's screen, touches and the whole agent as MCP tools over stdio.

Claude Desktop, Cursor and other MCP clients start this as a subprocess and speak JSON-RPC on its
stdin and stdout, so stdout belongs to the protocol: everything else (ours, a library's, a child
process's) is sent to stderr. Device calls block, so each runs in a worker thread, one at a time:
a phone does one thing at once, and the server keeps answering while it does. A cancelled ``run_task``
(the client's ``notifications/cancelled``, or the server closing) stops before its next step, cutting
a model request in flight, and ends as ``interrupted`` with its report before the next call runs.
The run's hand-offs ask the person through the client when it takes elicitations (see ``mcp_handoff``).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread
from mcp.server.elicitation import AcceptedElicitation
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import ImageContent, TextContent
from pydantic import Field

from actions import Device, Screenshot, SuiteDevice, format_action, to_grid, to_pixels
from actions.execute import LONG_PRESS_MS, launch_app, swipe_duration_ms
from apps_registry import Registry
from phone_agent.cancellation import Cancellation
from phone_agent.device.settle import SettleMode, Settler
from phone_agent.errors import PhoneAgentError
from phone_agent.handoff import HandOff, NonInteractiveHandOff
from phone_agent.loop.results import Listener, StepResult
from phone_agent.mcp_handoff import Elicit, ElicitingHandOff, M, can_elicit
from phone_agent.model.images import ImageOptions
from phone_agent.session import TaskRecord
from phone_agent.suites.locate import parse_hierarchy
from phone_agent.suites.spec import KEYS

T = TypeVar("T")
X = Annotated[int, Field(description="Across: 0-999 of the screenshot's width (or a pixel with pixels=true).")]
Y = Annotated[int, Field(description="Down: 0-999 of the screenshot's height (or a pixel with pixels=true).")]
Pixels = Annotated[bool, Field(description="x and y are screen pixels instead of the 0-999 grid.")]
INSTRUCTIONS = (
    "Operates an Android phone. Take a screenshot first. Points are x, y on a 0-999 grid over the last "
    "screenshot (0,0 top left, 999,999 bottom right) unless pixels=true. run_task hands a whole task to the "
    "phone agent's own model."
)
CANCELLED = "The MCP client cancelled the task."
# Runs a task: its text, what stops it, who hears of each step, and who answers its hand-offs.
RunTask = Callable[[str, Cancellation, Listener, HandOff], TaskRecord]


class StepProgress(Listener):
    """Tells ``report`` (step number, the action) after each step, until the run is cancelled."""

    def __init__(self, report: Callable[[int, str], None], cancellation: Cancellation) -> None:
        self._report = report
        self._cancellation = cancellation

    def step_finished(self, step: StepResult, screenshot: Screenshot) -> None:
        if not self._cancellation.cancelled:  # a cancelled request gets no more messages
            self._report(step.index, f"Step {step.index}: {format_action(step.action)}")


@dataclass
class PhoneTools:
    """What the tools do, as plain blocking calls on one phone.

    ``device`` is what touches and captures go through (the session's channel); ``adb`` answers what only
    adb can (key events, the UI hierarchy). ``run_task`` runs the agent loop on the phone.
    """

    device: Device
    adb: SuiteDevice
    registry: Registry
    run_task: RunTask
    images: ImageOptions = ImageOptions()
    settler: Settler = field(default_factory=lambda: Settler(SettleMode("auto"), time.monotonic, time.sleep))
    last: Screenshot | None = field(default=None, init=False)  # the grid's frame
    settled: Screenshot | None = field(default=None, init=False)  # the screen once the last action's effect showed

    def screenshot(self) -> tuple[Screenshot, str]:
        """The screen now (the frame the last action settled on, if no screenshot was taken since), and the app."""
        self.last, self.settled = self.settled or self.device.screenshot(), None
        return self.last, self.device.current_app()

    def act(self, action: Callable[[], T]) -> T:
        """Do an action, then wait as the agent does until the screen shows its effect, so the next screenshot does."""
        done = action()
        self.settled = self.settler.wait(self.device, self.last).frame
        return done

    def frame(self) -> Screenshot:
        """The last screenshot, taken now if there is none yet: the grid lies over it."""
        return self.last or self.screenshot()[0]

    def point(self, x: int, y: int, pixels: bool) -> tuple[int, int]:
        """A tool's point in screen pixels.

        Raises:
            ToolError: the point is off the grid or off the screen.
        """
        frame = self.frame()
        if pixels:
            if not (0 <= x < frame.width and 0 <= y < frame.height):
                raise ToolError(f"({x}, {y}) is off the {frame.width}x{frame.height} screen.")
            return x, y
        if not (0 <= x <= 999 and 0 <= y <= 999):
            raise ToolError(f"({x}, {y}) is off the 0-999 grid; give pixels=true for screen pixels.")
        return to_pixels((x, y), frame.width, frame.height)

    def swipe(self, start: tuple[int, int], end: tuple[int, int], duration_ms: int | None) -> None:
        """Swipe between two pixels, slower the longer it is unless a duration is given."""
        duration = duration_ms or swipe_duration_ms(*start, *end, self.frame())
        self.device.swipe(*start, *end, duration)

    def launch(self, name: str) -> str:
        """Open an app by its name in the app list.

        Raises:
            ToolError: unknown (with close matches), not installed, or it did not come to the front.
        """
        launched, note = launch_app(name, self.device, self.registry)
        if not launched:
            raise ToolError(note or f"{name} did not open.")
        return note or f"{self.app_label(self.device.current_app(), on_phone=True)} is in front."

    def press_key(self, key: str) -> None:
        """Send one key by name (ENTER, BACK, ...) or Android keycode."""
        name = key.strip().upper().removeprefix("KEYCODE_")
        if not name.isdigit() and name not in KEYS:
            raise ToolError(f"Unknown key {key!r}: use one of {', '.join(KEYS)} or a keycode number.")
        self.adb.press_key(int(name) if name.isdigit() else KEYS[name])

    def list_apps(self) -> str:
        """The apps of the list installed on the phone, then the phone's other launchable apps, one a line."""
        installed = self.device.installed_packages()
        lines = []
        for app in self.registry.apps:
            package = app.installed_package(installed)
            if package is not None:
                aliases = f" ({', '.join(app.aliases)})" if app.aliases else ""
                lines.append(f"{app.name}{aliases}: {package}")
        others = [app for app in self.device.launchable_apps() if self.registry.by_package(app.package) is None]
        if others:
            lines.append("Other apps on this phone (launch them by label or package):")
            lines += [f"{app.label}: {app.package}" if app.label else app.package for app in others]
        return "\n".join(lines) or "No launchable app is installed."

    def app_label(self, package: str, on_phone: bool = False) -> str:
        """A package with its app's name when the list knows it, or (``on_phone``) the phone's label for it.

        The phone's labels are listed once per device, at a cost: only a launch, which has listed them for an
        app the list does not know, asks for them.
        """
        app = self.registry.by_package(package)
        if app is not None:
            return f"{app.name} ({package})"
        labels = {app.package: app.label for app in self.device.launchable_apps()} if on_phone and package else {}
        return f"{labels[package]} ({package})" if labels.get(package) else package or "unknown app"

    def ui_tree(self, pixels: bool) -> str:
        """The elements on screen that show text or have an id, one a line, with the point to tap them."""
        try:
            elements = parse_hierarchy(self.adb.ui_hierarchy())
        except ValueError as exc:
            raise ToolError(f"uiautomator gave no usable hierarchy: {exc}") from None
        frame = self.frame()
        # uiautomator counts display pixels; a scrcpy frame may be smaller (rounded to multiples of 8, or downsized).
        display_width, display_height = self.adb.screen_size()
        lines = []
        for element in elements:
            if not (element.text or element.description or element.resource_id):
                continue
            centre_x, centre_y = element.centre
            centre = (centre_x * frame.width // display_width, centre_y * frame.height // display_height)
            x, y = centre if pixels else to_grid(centre, frame.width, frame.height)
            parts = [repr(element.text) if element.text else ""]
            parts += [f"desc={element.description!r}"] if element.description else []
            parts += [f"id={element.resource_id.rpartition(':id/')[2]}"] if element.resource_id else []
            parts += [("checked" if element.checked else "unchecked")] if element.checkable else []
            lines.append(f"{' '.join(p for p in parts if p)} at ({x}, {y})")
        return "\n".join(lines) or "No element with text or an id is on screen."

    def task(self, task: str, cancellation: Cancellation, progress: Listener, handoff: HandOff) -> dict[str, Any]:
        """Run the agent loop on a task until it ends or is cancelled: its status, final message, actions and report.

        Raises:
            ToolError: the task is empty, or the run ended on an error (the message says which).
            PhoneAgentError: the run could not start.
        """
        if not task.strip():
            raise ToolError("The task is empty. Say what to do, e.g. 'open Settings'.")
        record = self.run_task(task, cancellation, progress, handoff)
        result = record.result
        if result.error is not None:
            raise ToolError(f"{result.error} Report: {record.report}")
        return {
            "status": result.status,
            "message": result.message,
            "steps": [format_action(step.action) for step in result.steps],
            "report": str(record.report),
        }


def build_server(phone: PhoneTools) -> MCPServer:
    """The MCP server whose tools act on ``phone``, one call at a time."""
    server = MCPServer("phone-agent", instructions=INSTRUCTIONS)
    lock = anyio.Lock()

    async def call(fn: Callable[..., T], *args: Any, cancellation: Cancellation | None = None) -> T:
        async with lock:
            try:
                if cancellation is None:
                    return await anyio.to_thread.run_sync(fn, *args)  # a cancel waits until it has ended
                return await until_cancelled(lambda: fn(*args), cancellation)
            except PhoneAgentError as exc:  # a message for the person or the calling agent, as the CLI gives it
                raise ToolError(str(exc)) from None

    @server.tool(structured_output=False)
    async def screenshot() -> list[ImageContent | TextContent]:
        """The phone's screen as an image, with its size and the app in front."""
        shot, package = await call(phone.screenshot)
        if shot.secure:
            why = shot.failure or "the screen is black: a secure window (e.g. a payment page) or the screen is off"
            return [TextContent(type="text", text=f"No usable screenshot: {why}. App in front: "
                                f"{phone.app_label(package)}.")]
        data, mime = await call(phone.images.encode, shot.png)
        note = f"{shot.width}x{shot.height} pixels; in front: {phone.app_label(package)}."
        return [ImageContent(type="image", data=base64.b64encode(data).decode(), mime_type=mime),
                TextContent(type="text", text=note)]

    @server.tool()
    async def tap(x: X, y: Y, pixels: Pixels = False) -> str:
        """Tap a point."""
        await call(phone.act, lambda: phone.device.tap(*phone.point(x, y, pixels)))
        return "Tapped."

    @server.tool()
    async def long_press(x: X, y: Y, pixels: Pixels = False, duration_ms: int = LONG_PRESS_MS) -> str:
        """Touch and hold a point."""
        await call(phone.act, lambda: phone.device.long_press(*phone.point(x, y, pixels), duration_ms))
        return "Long-pressed."

    @server.tool()
    async def double_tap(x: X, y: Y, pixels: Pixels = False) -> str:
        """Tap a point twice quickly."""
        await call(phone.act, lambda: phone.device.double_tap(*phone.point(x, y, pixels)))
        return "Double-tapped."

    @server.tool()
    async def swipe(x1: X, y1: Y, x2: X, y2: Y, pixels: Pixels = False, duration_ms: int | None = None) -> str:
        """Swipe from (x1, y1) to (x2, y2); swiping up scrolls the content down."""
        start, end = (x1, y1), (x2, y2)
        await call(phone.act, lambda: phone.swipe(phone.point(*start, pixels), phone.point(*end, pixels), duration_ms))
        return "Swiped."

    @server.tool()
    async def type_text(text: str) -> str:
        """Replace the text of the focused field (tap the field first)."""
        await call(phone.act, lambda: phone.device.type_text(text))
        return "Typed."

    @server.tool()
    async def press_key(key: str) -> str:
        """Press a key: ENTER, BACK, HOME, DEL, TAB, SEARCH, MENU, APP_SWITCH, or an Android keycode number."""
        await call(phone.act, lambda: phone.press_key(key))
        return f"Pressed {key}."

    @server.tool()
    async def back() -> str:
        """Go back."""
        await call(phone.act, phone.device.back)
        return "Went back."

    @server.tool()
    async def home() -> str:
        """Go to the home screen."""
        await call(phone.act, phone.device.home)
        return "Home screen."

    @server.tool()
    async def launch(app: str) -> str:
        """Open an app by name, e.g. "Settings" or "eBay", or by its label or package on the phone (see list_apps)."""
        return await call(phone.act, lambda: phone.launch(app))

    @server.tool()
    async def list_apps() -> str:
        """The apps launch knows on the phone: name (aliases): package, then the phone's other apps: label: package."""
        return await call(phone.list_apps)

    @server.tool()
    async def current_app() -> str:
        """The app in front."""
        return phone.app_label(await call(phone.device.current_app))

    @server.tool()
    async def ui_tree(pixels: Pixels = False) -> str:
        """The screen's elements with text or an id (from uiautomator), each with the point that taps it."""
        return await call(phone.ui_tree, pixels)

    @server.tool()
    async def run_task(task: str, ctx: Context) -> dict[str, Any]:
        """Let the phone agent's own model do a whole task, e.g. "open eBay and search earbuds" (can take minutes).

        When the client supports elicitation the person is asked to approve sensitive taps, take over for a login,
        answer the agent's questions and say what to do when it is stuck; otherwise sensitive taps are refused and
        a needed person ends the task (status needs_human). Each step is reported as progress; cancelling the call
        stops the task.
        """
        cancellation = Cancellation()

        def report(index: int, message: str) -> None:  # from the run's thread
            anyio.from_thread.run(ctx.report_progress, index, None, message)

        progress = StepProgress(report, cancellation)
        loop = asyncio.get_running_loop()
        handoff = ElicitingHandOff(elicit_from_thread(loop, ctx, cancellation)) if can_elicit(ctx) else (
            NonInteractiveHandOff())
        return await call(phone.task, task, cancellation, progress, handoff, cancellation=cancellation)

    return server


async def until_cancelled(fn: Callable[[], T], cancellation: Cancellation) -> T:
    """Run ``fn`` in a worker thread; if this call is cancelled, cancel ``cancellation`` and wait for ``fn`` to end.

    A thread cannot be stopped from outside: the cancellation asks the run to end at its next safe point, and the
    call returns once it has (trace and report written, keyboard given back), so the next call finds the phone free.
    """
    ended = threading.Event()

    def run() -> T:
        try:
            return fn()
        finally:
            ended.set()

    try:
        return await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
    except anyio.get_cancelled_exc_class():  # the client's notifications/cancelled, or the server closing
        cancellation.cancel(CANCELLED)
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(ended.wait)
        raise


def elicit_from_thread(loop: asyncio.AbstractEventLoop, ctx: Context, cancellation: Cancellation) -> Elicit:
    """Elicitation for the run's thread: the form is sent from the event loop, and a cancelled run withdraws it.

    The request runs as a task of its own, outside the call's cancel scope, so only the run's cancellation
    (which a cancelled call sets) ends it, and the run then stops as ``interrupted``.
    """

    def elicit(message: str, schema: type[M]) -> M | None:
        future = asyncio.run_coroutine_threadsafe(ctx.elicit(message, schema), loop)
        outcome = None

        def withdraw() -> None:
            future.cancel()

        # Withdrawn on a cancel, failed by the client, or a form that does not fit: no answer.
        with cancellation.on_cancel(withdraw), contextlib.suppress(
            concurrent.futures.CancelledError, MCPError, ValueError
        ):
            outcome = future.result()
        cancellation.check()  # a run cancelled while the person was asked stops before acting on the answer
        return outcome.data if isinstance(outcome, AcceptedElicitation) else None

    return elicit


def take_stdout() -> int:
    """Point stdout at stderr for everything from now on; return a descriptor of the real stdout, for the protocol."""
    sys.stdout.flush()
    wire = os.dup(1)
    os.dup2(2, 1)
    return wire


def serve(server: MCPServer, wire: int) -> None:
    """Speak MCP over stdin and the ``wire`` until the client closes stdin."""
    os.dup2(wire, 1)  # the SDK takes fd 1 for the protocol and points it at stderr again while it serves
    try:
        server.run("stdio")
    finally:
        os.dup2(2, 1)
