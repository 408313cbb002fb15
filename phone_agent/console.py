"""Live terminal output of a run: the model's thinking as it streams, each action, per-step timings."""

from __future__ import annotations

import re
from typing import TextIO

from actions import ActionParseError, Screenshot, format_action
from phone_agent.loop.results import Listener, RunResult, StepResult
from phone_agent.loop.stuck import Detection

_TAGS = ("<think>", "</think>")
# Terminal control sequences: CSI (colours, cursor, clear screen), the string commands OSC, DCS, SOS, PM and
# APC (window title, clipboard via OSC 52, hyperlinks) ended by BEL or ST, and the short ESC forms.
_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[]PX^_].*?(?:\x07|\x1b\\)|\x1b(?![]\[PX^_])[ -/]*[0-~]", re.DOTALL)
# One still arriving at the end of streamed text: held back until it is complete, then dropped whole.
_PARTIAL_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|[]PX^_].*|[ -/]*)\Z", re.DOTALL)
# Whatever control characters are left (C0 but newline and tab, DEL, C1 such as the one-byte CSI \x9b).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """The text without anything a terminal would act on, so model text can only ever be read, not run."""
    return _CONTROL.sub("", _PARTIAL_ESCAPE.sub("", _ESCAPE.sub("", text)))


class ConsolePrinter(Listener):
    """Prints progress. ``verbosity``: 0 quiet (result only), 1 actions and thinking, 2 also timings."""

    def __init__(self, out: TextIO, verbosity: int = 1) -> None:
        self._out = out
        self._verbosity = verbosity
        self._reply = ""
        self._shown = 0
        self._line_open = False

    def step_started(self, index: int) -> None:
        self._reply, self._shown = "", 0
        if self._verbosity:
            self._write(f"\n── step {index} ──")

    def model_text(self, piece: str) -> None:
        """Show the thinking as it arrives; the answer is shown once parsed."""
        if not self._verbosity:
            return
        self._reply += piece
        thinking = self._reply.split("<answer>", 1)[0]
        for tag in _TAGS:
            thinking = thinking.replace(tag, "")
        thinking = printable(thinking)
        # Hold back a trailing partial tag such as "<ans" until the next piece completes it.
        cut = thinking.rfind("<")
        if cut != -1 and ">" not in thinking[cut:]:
            thinking = thinking[:cut]
        if len(thinking) > self._shown:
            self._write(thinking[self._shown :], end="")
            self._shown = len(thinking)

    def parse_failed(self, reply: str, error: ActionParseError) -> None:
        self._reply, self._shown = "", 0
        if self._verbosity:
            self._write(f"\n! the reply was not a valid action, asking again: {error}")

    def step_finished(self, step: StepResult, screenshot: Screenshot) -> None:
        if not self._verbosity:
            return
        where = f" at {', '.join(f'({x}, {y})' for x, y in step.points)}" if step.points else ""
        self._write(f"\n→ {format_action(step.action)}{where}   [{step.current_app or 'unknown app'}]")
        if step.feedback:
            self._write(f"  ↳ {step.feedback}")
        if self._verbosity > 1:
            self._write("  " + " · ".join(f"{name} {seconds:.2f}s" for name, seconds in step.timings.items()))

    def stuck_detected(self, detection: Detection, response: str) -> None:
        if self._verbosity:
            action = "told the model" if response == "note" else f"the person chose: {response}"
            self._write(f"! going round in circles ({detection.kind}): {detection.description} → {action}")

    def foreign_app(self, package: str, app: str) -> None:
        """Shown at every verbosity: an unattended run stops here, an attended one asks the person next."""
        self._write(f"\n! {app} ({package}) is in front: it is not an allowed app")

    def run_finished(self, result: RunResult) -> None:
        """The summary at the end of a run (shown at every verbosity)."""
        self._write(
            f"\n{result.status.upper()}: {result.message or '(no message)'}\n"
            f"{len(result.steps)} steps in {result.duration:.1f}s"
        )

    def end_line(self) -> None:
        """End a line of streamed thinking, so that what is printed next starts on a line of its own."""
        if self._line_open:
            self._write("")

    def _write(self, text: str, end: str = "\n") -> None:
        self._out.write(printable(text) + end)
        self._out.flush()
        self._line_open = not end
