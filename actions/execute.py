"""Executing a typed action against a :class:`~actions.device.Device`.

One function per action, dispatched with ``match``. Anything the phone cannot do by itself (asking
the person, sleeping, asking the model to summarise) goes through the :class:`Environment` the
caller provides, so this module has no I/O of its own and tests need no real clock.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, assert_never

from actions.coords import to_pixels
from actions.device import Device, Screenshot
from actions.labels import fold_label, resolve_app
from actions.models import (
    Action,
    Back,
    CallAPI,
    DoubleTap,
    Finish,
    Home,
    Interact,
    Launch,
    LongPress,
    Note,
    Swipe,
    TakeOver,
    Tap,
    Type,
    TypeName,
    Wait,
)
from apps_registry import AmbiguousAppError, Registry, UnknownAppError

MAX_WAIT_SECONDS = 60.0
LONG_PRESS_MS = 800
MAX_NOTES = 5

Status = Literal["finished", "needs_human"]


@dataclass(frozen=True)
class NoteEntry:
    """A page the model asked to remember: its note and the screenshot it saw."""

    message: str
    screenshot: Screenshot


@dataclass
class Outcome:
    """What executing one action led to.

    ``feedback`` is text for the model's next turn (a refusal, the person's answer, a summary, an
    unknown app); ``status`` is set when the run ends here; ``points`` are the pixels touched.
    """

    feedback: str | None = None
    status: Status | None = None
    message: str | None = None
    points: list[tuple[int, int]] = field(default_factory=list)


class Environment(Protocol):
    """What execution needs from the world besides the phone."""

    def sleep(self, seconds: float) -> None:
        """Pause the run (an injected clock in tests)."""
        ...

    def confirm(self, message: str) -> bool:
        """Ask the person to approve a sensitive action."""
        ...

    def take_over(self, message: str) -> bool:
        """Let the person act by hand; False when nobody can (the run then needs a human)."""
        ...

    def ask(self, question: str) -> str | None:
        """Ask the person to choose; None when nobody can answer."""
        ...

    def summarize(self, instruction: str, notes: Sequence[NoteEntry]) -> str:
        """Ask the model to act on the noted pages and return its text."""
        ...


@dataclass
class Context:
    """Per-run inputs of execution: the screen the action refers to, the apps, the notes so far."""

    screenshot: Screenshot
    registry: Registry
    notes: list[NoteEntry] = field(default_factory=list)

    def pixel(self, point: tuple[int, int]) -> tuple[int, int]:
        """A 0-999 point in pixels of the screenshot the model saw."""
        return to_pixels(point, self.screenshot.width, self.screenshot.height)


def execute(action: Action, device: Device, env: Environment, ctx: Context) -> Outcome:
    """Carry out one action.

    Raises:
        DeviceError subclasses from the device (a launch failure is fed back to the model instead).
    """
    match action:
        case Launch():
            return Outcome(feedback=launch_app(action.app, device, ctx.registry)[1])
        case Tap():
            return _tap(action, device, env, ctx)
        case Type() | TypeName():
            device.type_text(action.text)
            return Outcome()
        case Swipe():
            return _swipe(action, device, ctx)
        case LongPress():
            x, y = ctx.pixel(action.element)
            device.long_press(x, y, LONG_PRESS_MS)
            return Outcome(points=[(x, y)])
        case DoubleTap():
            x, y = ctx.pixel(action.element)
            device.double_tap(x, y)
            return Outcome(points=[(x, y)])
        case Wait():
            env.sleep(min(action.seconds, MAX_WAIT_SECONDS))
            return Outcome()
        case Back():
            device.back()
            return Outcome()
        case Home():
            device.home()
            return Outcome()
        case TakeOver():
            return _take_over(action, env)
        case Interact():
            return _interact(action, env)
        case Note():
            return _note(action, ctx)
        case CallAPI():
            return Outcome(feedback=f"Result of Call_API: {env.summarize(action.instruction, ctx.notes)}")
        case Finish():
            return Outcome(status="finished", message=action.message)
        case _:
            assert_never(action)


def launch_app(name: str, device: Device, registry: Registry) -> tuple[bool, str | None]:
    """Open an app by name: whether it came to the front, and what to tell whoever asked (why not, or a guess made)."""
    try:
        app = resolve_app(name, registry, device.launchable_apps)
    except AmbiguousAppError as exc:
        return False, f"{exc} Launch one by its package name."
    except UnknownAppError as exc:
        return False, str(exc)
    package = app.installed_package(device.installed_packages())
    if package is None:
        return False, (
            f"{app.name} is not installed on this phone (looked for {', '.join(app.packages)}). "
            "Use another app, or finish and say it is missing."
        )
    activity = app.activity if package == app.package else None
    if not device.launch(package, activity):
        return False, _not_in_front(app.name, package)
    if name.strip() == package or fold_label(name) in {fold_label(other) for other in app.names}:
        return True, None
    return True, f'"{name}" is not in the app list; opened the installed package {package}.'


def _not_in_front(name: str, package: str) -> str:
    return (
        f"{name} ({package}) did not come to the front. Look at the screen and open it "
        "from the launcher, or finish and say why you cannot."
    )


def _tap(action: Tap, device: Device, env: Environment, ctx: Context) -> Outcome:
    x, y = ctx.pixel(action.element)
    if action.message is not None and not env.confirm(action.message):
        return Outcome(
            feedback=f"The person declined this sensitive action ({action.message}); it was not done. "
            "Do not repeat it: find another way or finish and explain."
        )
    device.tap(x, y)
    return Outcome(points=[(x, y)])


def _swipe(action: Swipe, device: Device, ctx: Context) -> Outcome:
    x1, y1 = ctx.pixel(action.start)
    x2, y2 = ctx.pixel(action.end)
    device.swipe(x1, y1, x2, y2, swipe_duration_ms(x1, y1, x2, y2, ctx.screenshot))
    return Outcome(points=[(x1, y1), (x2, y2)])


def swipe_duration_ms(x1: int, y1: int, x2: int, y2: int, screen: Screenshot) -> int:
    """A swipe's duration from its length: 300 ms for a short flick up to 1000 ms across the screen.

    Long, slow swipes scroll a predictable distance instead of flinging a list to its end.
    """
    diagonal = math.hypot(screen.width, screen.height)
    fraction = math.hypot(x2 - x1, y2 - y1) / diagonal if diagonal else 0.0
    return int(300 + 700 * min(fraction, 1.0))


def _take_over(action: TakeOver, env: Environment) -> Outcome:
    if env.take_over(action.message):
        return Outcome(feedback="The person finished the manual step and handed the phone back. Continue the task.")
    return Outcome(status="needs_human", message=action.message or "The task needs a person to take over.")


def _interact(action: Interact, env: Environment) -> Outcome:
    answer = env.ask(action.message or "Which option should I choose?")
    if answer is None:
        return Outcome(status="needs_human", message=action.message or "The task needs a person to choose.")
    return Outcome(feedback=f"The person answered: {answer}")


def _note(action: Note, ctx: Context) -> Outcome:
    ctx.notes.append(NoteEntry(action.message, ctx.screenshot))
    del ctx.notes[:-MAX_NOTES]
    return Outcome(feedback=f"Noted this page ({len(ctx.notes)} noted so far).")
