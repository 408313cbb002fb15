"""What a run reports: each step, the end result, and the listener interface for progress."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from actions import Action, ActionParseError, Screenshot
from phone_agent.errors import PhoneAgentError
from phone_agent.loop.stuck import Detection

RunStatus = Literal["finished", "needs_human", "stuck", "blocked", "max_steps", "failed", "interrupted"]


@dataclass(frozen=True)
class StepResult:
    """One step as it happened: what was seen, thought, done, and how long each phase took."""

    index: int
    current_app: str
    screen_size: tuple[int, int]
    secure: bool
    thinking: str
    answer: str
    reply: str
    first_token: float
    action: Action
    points: list[tuple[int, int]]
    feedback: str | None
    parse_retries: int
    request_messages: int
    image_bytes: int
    settled: bool
    settle_frames: int
    timings: dict[str, float]


@dataclass
class RunResult:
    """The end of a run: status, the final message for the person, every step, total time."""

    task: str
    status: RunStatus
    message: str
    steps: list[StepResult]
    duration: float
    error: PhoneAgentError | None = None


class Listener:
    """Receives progress as the run goes. Subclass and override what you need."""

    def run_started(self, task: str) -> None:
        """A run begins."""

    def run_finished(self, result: RunResult) -> None:
        """A run has ended, whatever the reason."""

    def step_started(self, index: int) -> None:
        """A step begins."""

    def model_text(self, piece: str) -> None:
        """A piece of the model's reply has arrived."""

    def parse_failed(self, reply: str, error: ActionParseError) -> None:
        """The model's reply was not a valid action; it is being asked again."""

    def step_finished(self, step: StepResult, screenshot: Screenshot) -> None:
        """A step is done; ``screenshot`` is what the model saw."""

    def stuck_detected(self, detection: Detection, response: str) -> None:
        """The run was going round in circles; ``response`` says what was done about it."""

    def foreign_app(self, package: str, app: str) -> None:
        """An app outside the allowlist came to the front; the run stops or a person steps in next."""


class Fanout(Listener):
    """Passes every event to several listeners, in order."""

    def __init__(self, listeners: Sequence[Listener]) -> None:
        self._listeners = list(listeners)

    def run_started(self, task: str) -> None:
        for listener in self._listeners:
            listener.run_started(task)

    def run_finished(self, result: RunResult) -> None:
        for listener in self._listeners:
            listener.run_finished(result)

    def step_started(self, index: int) -> None:
        for listener in self._listeners:
            listener.step_started(index)

    def model_text(self, piece: str) -> None:
        for listener in self._listeners:
            listener.model_text(piece)

    def parse_failed(self, reply: str, error: ActionParseError) -> None:
        for listener in self._listeners:
            listener.parse_failed(reply, error)

    def step_finished(self, step: StepResult, screenshot: Screenshot) -> None:
        for listener in self._listeners:
            listener.step_finished(step, screenshot)

    def stuck_detected(self, detection: Detection, response: str) -> None:
        for listener in self._listeners:
            listener.stuck_detected(detection, response)

    def foreign_app(self, package: str, app: str) -> None:
        for listener in self._listeners:
            listener.foreign_app(package, app)
