"""The parts of one step: the run's settings and state, what the phases hand each other, and their timings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from actions import Device, NoteEntry, Outcome
from phone_agent.allowlist import AllowList, FrontApps
from phone_agent.device.frames import Frame
from phone_agent.device.settle import Settled, SettleMode
from phone_agent.loop.dialect import Decision, Dialect, TextDialect, dialect_for, raw_reply
from phone_agent.loop.results import RunStatus, StepResult
from phone_agent.loop.stuck import StuckGuard, StuckSettings
from phone_agent.model.images import ImageOptions
from phone_agent.model.messages import Conversation, DialectName, Image, Language, system_prompt
from phone_agent.model.reply import Completion


@dataclass(frozen=True)
class AgentSettings:
    """How a run behaves; fixed for the run."""

    max_steps: int = 50
    lang: Language = "en"
    max_parse_retries: int = 3
    settle: SettleMode = SettleMode("auto")
    settle_max_wait: float = 3.0
    images: ImageOptions = ImageOptions()
    stuck: StuckSettings | None = StuckSettings()
    dialect: DialectName = "autoglm"
    allowed_apps: AllowList | None = None


@dataclass
class RunState:
    """What changes while one task runs."""

    conversation: Conversation
    dialect: Dialect = field(default_factory=TextDialect)
    notes: list[NoteEntry] = field(default_factory=list)
    steps: list[StepResult] = field(default_factory=list)
    guard: StuckGuard | None = None
    front: FrontApps | None = None
    next_frame: Frame | None = None
    feedback: str | None = None

    @classmethod
    def start(cls, settings: AgentSettings, device: Device) -> RunState:
        """The state of a new run: the system prompt, a fresh dialect, and the run's guards."""
        state = cls(Conversation(system_prompt(settings.lang, settings.dialect)), dialect_for(settings.dialect))
        state.guard = StuckGuard(settings.stuck, settings.lang) if settings.stuck is not None else None
        state.front = FrontApps(settings.allowed_apps, device) if settings.allowed_apps is not None else None
        return state

    def add_feedback(self, text: str) -> None:
        """Add a line to what the next user turn tells the model."""
        self.feedback = f"{self.feedback}\n{text}" if self.feedback else text


@dataclass(frozen=True)
class Stop:
    """The run ends after this step: how, and the message for the person."""

    status: RunStatus
    message: str


@dataclass(frozen=True)
class Observation:
    """What the observe phase saw: the frame, the app in front (package and name) and the image for the model."""

    frame: Frame
    package: str
    app: str
    image: Image


@dataclass(frozen=True)
class Decided:
    """What the decide phase settled on: the understood reply, the completion, retries, and the request's size."""

    decision: Decision
    completion: Completion
    retries: int
    request_messages: int


class PhaseTimer:
    """Seconds spent in each phase of one step, on the agent's clock."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._began = clock()
        self.seconds: dict[str, float] = {}

    def restart(self) -> None:
        """Start the current phase afresh (time spent waiting for a person does not count)."""
        self._began = self._clock()

    def lap(self, phase: str) -> None:
        """Add the time since the last lap to ``phase``, and start the next."""
        now = self._clock()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - self._began
        self._began = now


def step_result(
    index: int, seen: Observation, decided: Decided, outcome: Outcome, settled: Settled, timings: dict[str, float]
) -> StepResult:
    """The step as it happened, for the listener and the trace."""
    screenshot, decision = seen.frame, decided.decision
    return StepResult(
        index=index,
        current_app=seen.app,
        screen_size=(screenshot.width, screenshot.height),
        secure=screenshot.secure,
        thinking=decision.thinking,
        answer=decision.answer,
        reply=raw_reply(decided.completion),
        first_token=decided.completion.time_to_first_token,
        action=decision.action,
        points=outcome.points,
        feedback=outcome.feedback,
        parse_retries=decided.retries,
        request_messages=decided.request_messages,
        image_bytes=len(seen.image.data),
        settled=settled.settled,
        settle_frames=settled.frames,
        timings=timings,
    )
