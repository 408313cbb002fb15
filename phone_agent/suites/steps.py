"""Carrying out scripted suite steps on a phone, and checking a case's expectations from the device."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from actions import to_pixels
from actions.device import Screenshot, SuiteDevice
from actions.execute import launch_app
from apps_registry import App, Registry, UnknownAppError
from phone_agent.cancellation import Cancellation
from phone_agent.device.settle import Settler
from phone_agent.loop.results import RunResult
from phone_agent.suites import spec
from phone_agent.suites.judge import Verdict
from phone_agent.suites.locate import Element, ElementNotFound, find, on_screen, parse_hierarchy, text_visible

# 0-999 points of a swipe that moves the content by about half a screen.
_SWIPES = {
    "up": ((500, 750), (500, 250)),
    "down": ((500, 250), (500, 750)),
    "left": ((800, 500), (200, 500)),
    "right": ((200, 500), (800, 500)),
}
_POLL_SECONDS = 0.3


class StepFailed(AssertionError):
    """A step could not be carried out; the message says what was on screen instead."""


@dataclass(frozen=True)
class CheckResult:
    """One expectation and whether the device met it."""

    name: str
    passed: bool
    detail: str


@dataclass
class StepRunner:
    """Runs steps on one phone. ``run_ai`` runs a natural-language sub-task with the agent.

    Once ``cancellation`` is cancelled, the next step, check or ``wait_for`` poll raises ``Cancelled``.
    """

    device: SuiteDevice
    registry: Registry
    settler: Settler
    run_ai: Callable[[str, int], RunResult]
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    cancellation: Cancellation

    def run(self, step: spec.Step) -> str:
        """Carry out one step and describe what was done.

        Raises:
            StepFailed: the element, app or text was not found, or the sub-task did not finish.
            Cancelled: the run was cancelled.
        """
        self.cancellation.check()
        match step:
            case spec.Launch(launch=name):
                # As the agent's Launch: by the app list's name, else by the label on the phone's home screen.
                launched, note = launch_app(name, self.device, self.registry)
                if not launched:
                    raise StepFailed(note or f"{name} did not come to the front after launching it")
                return f"launched {name}" + (f" ({note})" if note else "")
            case spec.Clear(clear=name):
                package = self._package(self._app(name))
                self.device.clear_app(package)
                return f"cleared {package}"
            case spec.TapStep(tap=where):
                self.device.tap(*self._point(where))
                return self._settled(f"tapped {where}")
            case spec.LongPressStep(long_press=where):
                self.device.long_press(*self._point(where), 800)
                return self._settled(f"long-pressed {where}")
            case spec.TypeStep(type=text):
                self.device.type_text(text)
                return self._settled(f"typed {text!r}")
            case spec.Key():
                self.device.press_key(step.code)
                return self._settled(f"pressed {step.key}")
            case spec.Swipe(swipe=direction):
                label: str = direction if isinstance(direction, str) else "by points"
                start, end = _SWIPES[direction] if isinstance(direction, str) else (direction.start, direction.end)
                self._swipe(start, end)
                return self._settled(f"swiped {label}")
            case spec.ScrollUntil(scroll_until=until):
                return self._scroll_until(until)
            case spec.Back():
                self.device.back()
                return self._settled("pressed Back")
            case spec.Home():
                self.device.home()
                return self._settled("pressed Home")
            case spec.WaitFor(wait_for=wait):
                return self._wait_for(wait)
            case spec.Shell(shell=command):
                shell = self.device.run_shell(command)
                if shell.exit_code not in (0, None):
                    raise StepFailed(f"`{command}` exited with {shell.exit_code}: {shell.output.strip()[:300]}")
                return f"ran `{command}`"
            case spec.Ai(ai=sub_task):
                result = self.run_ai(sub_task.task, sub_task.max_steps)
                if result.status != "finished":
                    raise StepFailed(f"the AI step {sub_task.task!r} ended {result.status}: {result.message}")
                return f"AI step done: {result.message}"
        raise AssertionError(f"unhandled step {step!r}")

    def check(self, expect: spec.Expect, suite_dir: Path, judge: Callable[[str, bytes], Verdict]) -> list[CheckResult]:
        """Check every expectation on the device as it is now.

        Raises:
            Cancelled: the run was cancelled.
        """
        self.cancellation.check()
        checks = []
        if expect.app is not None:
            app, package = self._app(expect.app), self.device.current_app()
            checks.append(
                CheckResult("app", package in app.packages, f"{package or 'nothing'} is in front (expected {app.name})")
            )
        if expect.text_visible or expect.text_absent or expect.checked:
            elements = parse_hierarchy(self.device.ui_hierarchy())
            for text in expect.text_visible:
                shown = text_visible(elements, text)
                detail = f"{text!r} is on screen" if shown else f"{text!r} is not on screen. {on_screen(elements)}"
                checks.append(CheckResult("text_visible", shown, detail))
            for text in expect.text_absent:
                shown = text_visible(elements, text)
                checks.append(
                    CheckResult("text_absent", not shown, f"{text!r} {'is' if shown else 'is not'} on screen")
                )
            for name, wanted in expect.checked.items():
                checks.append(_checked(elements, name, wanted))
        if expect.image is not None or expect.judge is not None:
            screenshot = self.device.screenshot()
            if expect.image is not None:
                checks.append(_match_template(screenshot, suite_dir / expect.image.template, expect.image.threshold))
            if expect.judge is not None:
                verdict = judge(expect.judge, screenshot.png)
                checks.append(CheckResult("judge", verdict.passed, f"{expect.judge!r}: {verdict.reason}"))
        return checks

    def _app(self, name: str) -> App:
        try:
            return self.registry.resolve(name)
        except UnknownAppError as exc:
            raise StepFailed(str(exc)) from None

    def _package(self, app: App) -> str:
        package = app.installed_package(self.device.installed_packages())
        if package is None:
            raise StepFailed(f"{app.name} is not installed (looked for {', '.join(app.packages)})")
        return package

    def _point(self, where: spec.Locator) -> tuple[int, int]:
        if where.point is not None:
            width, height = self.device.screen_size()
            return to_pixels(where.point, width, height)
        try:
            return find(parse_hierarchy(self.device.ui_hierarchy()), text=where.text, resource_id=where.id).centre
        except ElementNotFound as exc:
            raise StepFailed(str(exc)) from None

    def _swipe(self, start: tuple[int, int], end: tuple[int, int]) -> None:
        width, height = self.device.screen_size()
        (x1, y1), (x2, y2) = to_pixels(start, width, height), to_pixels(end, width, height)
        self.device.swipe(x1, y1, x2, y2, 500)

    def _settled(self, description: str) -> str:
        self.settler.wait(self.device, None)
        return description

    def _scroll_until(self, until: spec.ScrollUntilSpec) -> str:
        for swipes in range(until.max_swipes + 1):
            elements = parse_hierarchy(self.device.ui_hierarchy())
            if text_visible(elements, until.text):
                return f"scrolled until {until.text!r} showed ({swipes} swipes)"
            if swipes < until.max_swipes:
                self._swipe(*_SWIPES[until.direction])
                self.settler.wait(self.device, None)
        raise StepFailed(
            f"{until.text!r} did not show after {until.max_swipes} swipes {until.direction}. {on_screen(elements)}"
        )

    def _wait_for(self, wait: spec.WaitForSpec) -> str:
        deadline = self.clock() + wait.timeout
        while True:
            elements = parse_hierarchy(self.device.ui_hierarchy())
            if text_visible(elements, wait.text):
                return f"{wait.text!r} showed"
            if self.clock() >= deadline:
                raise StepFailed(f"{wait.text!r} did not show within {wait.timeout:g} s. {on_screen(elements)}")
            self.sleep(_POLL_SECONDS)
            self.cancellation.check()  # a long wait must not hold up a stop


def _checked(elements: list[Element], name: str, wanted: bool) -> CheckResult:
    """Whether the switch or checkbox named by its resource-id (or else its label) is in the wanted state."""
    try:
        element = find(elements, resource_id=name)
    except ElementNotFound:
        try:
            element = find(elements, text=name)
        except ElementNotFound as exc:
            return CheckResult("checked", False, str(exc))
        if not element.checkable:
            # A label ("Wi-Fi") sits beside its switch: use the checkable element on the same row.
            row = (element.bounds[1] + element.bounds[3]) // 2
            element = next((e for e in elements if e.checkable and e.bounds[1] <= row <= e.bounds[3]), element)
    state = "on" if element.checked else "off"
    return CheckResult(
        "checked", element.checked == wanted, f"{name} is {state} (expected {'on' if wanted else 'off'})"
    )


def _match_template(screenshot: Screenshot, template_path: Path, threshold: float) -> CheckResult:
    """Look for the template image anywhere on the screenshot (normalised cross-correlation)."""
    template = cv2.imread(str(template_path), cv2.IMREAD_GRAYSCALE)
    if template is None:
        return CheckResult("image", False, f"cannot read the template {template_path}")
    screen = cv2.imdecode(np.frombuffer(screenshot.png, np.uint8), cv2.IMREAD_GRAYSCALE)
    if screen is None or screen.shape[0] < template.shape[0] or screen.shape[1] < template.shape[1]:
        return CheckResult("image", False, f"the screenshot cannot contain {template_path.name}")
    if float(template.std()) < 1.0:
        # A flat template has no pattern to correlate: score by the closest mean squared difference.
        best = float(cv2.minMaxLoc(cv2.matchTemplate(screen, template, cv2.TM_SQDIFF))[0])
        score = 1.0 - (best / template.size) ** 0.5 / 255.0
    else:
        score = float(cv2.minMaxLoc(cv2.matchTemplate(screen, template, cv2.TM_CCOEFF_NORMED))[1])
    return CheckResult(
        "image",
        score >= threshold,
        f"{template_path.name} matches at {score:.3f} (needs {threshold:g}; templates are per screen resolution)",
    )
