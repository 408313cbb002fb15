"""The perceive-plan-act loop: observe the phone, ask the model, parse, act, record.

``PhoneAgent.run`` is a bounded loop over ``_step``; each step is five named phases. Settings
(``AgentSettings``, immutable) are kept apart from the state of one run (``RunState``, mutable).
Progress is reported through a ``Listener``; nothing here prints. How replies are read and the
history is kept depends on the dialect (``phone_agent.loop.dialect``): AutoGLM text or OpenAI tool calls.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from actions import (
    Action,
    ActionParseError,
    Back,
    Context,
    Device,
    DoubleTap,
    Finish,
    Home,
    Launch,
    LongPress,
    NoteEntry,
    Outcome,
    Screenshot,
    Swipe,
    TakeOver,
    Tap,
    Type,
    TypeName,
    Wait,
    execute,
    format_action,
    parse_reply,
)
from apps_registry import Registry, default_registry
from phone_agent.allowlist import AllowList
from phone_agent.device.frames import Frame
from phone_agent.device.settle import Settled, SettleMode, Settler
from phone_agent.errors import PhoneAgentError, RunAborted
from phone_agent.handoff import HandOff, NonInteractiveHandOff
from phone_agent.loop.dialect import Decision, Dialect, TextDialect, dialect_for, raw_reply
from phone_agent.loop.results import Fanout, Listener, RunResult, RunStatus, StepResult
from phone_agent.loop.stuck import SCREEN_ACTIONS, StuckGuard, StuckSettings
from phone_agent.model.client import Completion
from phone_agent.model.images import ImageOptions
from phone_agent.model.messages import (
    Conversation,
    DialectName,
    Language,
    image_part,
    screen_text,
    system_prompt,
)

SUMMARY_PROMPT = (
    "You read screenshots of phone screens noted during a task and answer the request about them in plain "
    "text. Do not output actions."
)


class ChatModel(Protocol):
    """What the loop needs from a model client (``phone_agent.model.client.ChatClient``)."""

    def complete(
        self,
        messages: list[dict[str, Any]],
        on_text: Callable[[str], None] | None = None,
        tools: list[dict[str, Any]] | None = None,
    ) -> Completion:
        """The model's reply to ``messages``; with ``tools`` it may call one of them."""
        ...


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
    next_frame: Frame | None = None
    feedback: str | None = None
    warned: bool = False
    phone_apps: frozenset[str] | None = None  # the home app and keyboard, asked at most once per run

    def add_feedback(self, text: str) -> None:
        """Add a line to what the next user turn tells the model."""
        self.feedback = f"{self.feedback}\n{text}" if self.feedback else text


@dataclass(frozen=True)
class _Stop:
    status: RunStatus
    message: str


class PhoneAgent:
    """Runs tasks on one phone with one model. Each agent owns its device: no global state."""

    def __init__(
        self,
        device: Device,
        model: ChatModel,
        *,
        settings: AgentSettings | None = None,
        handoff: HandOff | None = None,
        registry: Registry | None = None,
        listeners: Sequence[Listener] = (),
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.device = device
        self.model = model
        self.settings = settings or AgentSettings()
        self.handoff = handoff or NonInteractiveHandOff()
        self.registry = registry or default_registry()
        self.listener: Listener = Fanout(listeners)
        self._clock = clock
        self._sleep = sleep
        self._settler = Settler(self.settings.settle, clock, sleep, max_wait=self.settings.settle_max_wait)

    def run(self, task: str, *, deadline: float | None = None) -> RunResult:
        """Work on ``task`` until the model finishes, a person is needed, or ``max_steps`` is reached.

        Errors from the phone or the model end the run with status ``failed`` (the error is kept in
        ``RunResult.error``); so does passing ``deadline`` (a time on the agent's clock), checked
        before each step. Ctrl-C ends it with status ``interrupted``. Steps done so far are kept.
        """
        start = self._clock()
        self.listener.run_started(task)
        dialect = self.settings.dialect
        state = RunState(Conversation(system_prompt(self.settings.lang, dialect)), dialect_for(dialect))
        if self.settings.stuck is not None:
            state.guard = StuckGuard(self.settings.stuck, self.settings.lang)
        status: RunStatus = "max_steps"
        message = f"Stopped after {self.settings.max_steps} steps without finishing the task."
        error: PhoneAgentError | None = None
        try:
            for index in range(1, self.settings.max_steps + 1):
                if deadline is not None and self._clock() >= deadline:
                    status, message = "failed", f"Out of time after {index - 1} steps."
                    break
                stop = self._step(task, index, state)
                if stop is not None:
                    status, message = stop.status, stop.message
                    break
        except KeyboardInterrupt:
            status, message = "interrupted", "Stopped by the person (Ctrl-C)."
        except PhoneAgentError as exc:
            status, message, error = "failed", str(exc), exc
        except Exception as exc:
            # A bug or an environment failure (a full disk): still close the trace, then let it surface.
            self.listener.run_finished(RunResult(task, "failed", f"{type(exc).__name__}: {exc}", state.steps,
                                                 self._clock() - start))
            raise
        finally:
            self._release_input()
        result = RunResult(task, status, message, state.steps, self._clock() - start, error)
        self.listener.run_finished(result)
        return result

    def _release_input(self) -> None:
        """Give the person their keyboard back; a phone that is gone cannot need it."""
        with contextlib.suppress(PhoneAgentError):
            self.device.release_input()

    def _step(self, task: str, index: int, state: RunState) -> _Stop | None:
        self.listener.step_started(index)
        timings: dict[str, float] = {}

        began = self._clock()
        frame, package = self._observe(state)
        while self._is_foreign(state, package):
            stop = self._hand_off_foreign_app(state, package)
            if stop is not None:
                return stop
            began = self._clock()
            frame, package = self._observe(state)
        app = self._app_name(package)
        screenshot = frame.screenshot

        text = screen_text(
            app,
            task=task if index == 1 else None,
            note=state.feedback,
            secure=screenshot.secure,
            failure=screenshot.failure,
        )
        image, mime = self.settings.images.encode(screenshot.png)
        timings["capture"] = self._clock() - began  # preparing the image is part of observing
        began = self._clock()
        state.conversation.add_screen(text, image, mime)
        request_messages = len(state.conversation.messages)
        decision, completion, retries, parse_seconds = self._decide(state)
        timings["model"] = self._clock() - began - parse_seconds
        timings["parse"] = parse_seconds

        began = self._clock()
        context = Context(screenshot, self.registry, state.notes)
        outcome = self._refuse_launch(decision.action) or execute(
            decision.action, self.device, _Environment(self), context
        )
        timings["act"] = self._clock() - began

        began = self._clock()
        state.feedback = state.dialect.report(state.conversation, decision, outcome.feedback)
        settled = self._next_observation(decision.action, screenshot, outcome)
        if settled.screenshot is screenshot:
            state.next_frame = frame
        else:
            state.next_frame = Frame(settled.screenshot) if settled.screenshot is not None else None
        guarded = state.guard is not None and outcome.status is None and isinstance(decision.action, SCREEN_ACTIONS)
        if state.next_frame is None and guarded:
            # --settle off/fixed: the loop guard compares screens, and this capture is the next observation.
            state.next_frame = Frame(self.device.screenshot())
        timings["settle"] = self._clock() - began

        step = StepResult(
            index=index,
            current_app=app,
            screen_size=(screenshot.width, screenshot.height),
            secure=screenshot.secure,
            thinking=decision.thinking,
            answer=decision.answer,
            reply=raw_reply(completion),
            first_token=completion.time_to_first_token,
            action=decision.action,
            points=outcome.points,
            feedback=outcome.feedback,
            parse_retries=retries,
            request_messages=request_messages,
            image_bytes=len(image),
            settled=settled.settled,
            settle_frames=settled.frames,
            timings=timings,
        )
        state.steps.append(step)
        self.listener.step_finished(step, screenshot)
        if outcome.status is not None:
            return _Stop(outcome.status, outcome.message or "")
        return self._watch_for_loops(state, decision.action, frame)

    def _observe(self, state: RunState) -> tuple[Frame, str]:
        """Phase 1: the screen (the settled frame of the last step when there is one) and the package in front."""
        if state.next_frame is not None:
            frame, package = state.next_frame, self.device.current_app()
        else:
            # Two independent round trips: ask for the app in front while the screen is captured.
            with ThreadPoolExecutor(max_workers=1) as pool:
                front = pool.submit(self.device.current_app)
                frame = Frame(self.device.screenshot())
                package = front.result()
        return frame, package

    def _app_name(self, package: str) -> str:
        """The registry's name for a package, or the package itself."""
        app = self.registry.by_package(package)
        return app.name if app else package

    def _is_foreign(self, state: RunState, package: str) -> bool:
        """True when an allowlist is set and ``package`` belongs neither to it nor to the phone itself."""
        allowed = self.settings.allowed_apps
        if allowed is None or not package or allowed.allows_package(package):
            return False
        if state.phone_apps is None:  # launchers and keyboards differ by vendor: ask the phone, only when needed
            state.phone_apps = self.device.home_and_keyboard()
        return package not in state.phone_apps

    def _hand_off_foreign_app(self, state: RunState, package: str) -> _Stop | None:
        """A foreign app is in front: stop unattended, or let the person go back to an allowed app."""
        assert self.settings.allowed_apps is not None
        allowed, app = self.settings.allowed_apps.names, self._app_name(package)
        self.listener.foreign_app(package, app)
        self._release_input()
        situation = f"{app} ({package}) came to the front, but this task may only use {allowed}."
        if not self.handoff.take_over(f"{situation} Go back to an allowed app on the phone."):
            return _Stop("blocked", f"Stopped: {situation}")
        state.next_frame = None
        state.add_feedback(
            f"{app} is not among the apps this task may use ({allowed}); the person went back and handed the phone "
            "back. Look at the screen again and do not open other apps."
        )
        return None

    def _refuse_launch(self, action: Action) -> Outcome | None:
        """A Launch of an app outside the allowlist, refused with the reason for the model; None to go ahead."""
        allowed = self.settings.allowed_apps
        if allowed is None or not isinstance(action, Launch):
            return None
        refusal = allowed.launch_refusal(action.app, self.registry)
        return None if refusal is None else Outcome(feedback=refusal)

    def _decide(self, state: RunState) -> tuple[Decision, Completion, int, float]:
        """Phases 2 and 3: ask the model, parse its answer, and send parse errors back to it.

        Returns the understood reply, the model's completion, how many times the model was asked again,
        and the seconds spent parsing.

        Raises:
            RunAborted: the reply was malformed more than ``max_parse_retries`` times in a row.
        """
        conversation, dialect = state.conversation, state.dialect
        retries = 0
        parse_seconds = 0.0
        while True:
            completion = self._ask(conversation.messages, dialect.tools)
            began = self._clock()
            try:
                decision = dialect.parse(completion)
            except ActionParseError as exc:
                parse_seconds += self._clock() - began
                reply = raw_reply(completion)
                self.listener.parse_failed(reply, exc)
                if retries >= self.settings.max_parse_retries:
                    raise RunAborted(
                        f"The model's reply could not be understood {retries + 1} times in a row ({exc}). "
                        f"Its last reply was:\n{reply}"
                    ) from None
                retries += 1
                dialect.reject(conversation, completion, exc)
                continue
            parse_seconds += self._clock() - began
            dialect.accept(conversation, decision)
            return decision, completion, retries, parse_seconds

    def _ask(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> Completion:
        """One model request, streaming its text to the listener; tools are offered only in the tools dialect."""
        if tools is None:  # a model client that predates tool calling need not accept the argument
            return self.model.complete(messages, on_text=self.listener.model_text)
        return self.model.complete(messages, on_text=self.listener.model_text, tools=tools)

    def _next_observation(self, action: Action, screenshot: Screenshot, outcome: Outcome) -> Settled:
        """Phase 5: wait for the screen to settle where the action moved it; the frame to observe next.

        A ``Settled`` without a screenshot means: capture afresh at the next step.
        """
        if outcome.status is not None:
            return Settled(None, 0.0, True, 0)
        match action:
            case Tap() if not outcome.points:
                return Settled(screenshot, 0.0, True, 0)  # a declined sensitive tap changed nothing
            case Launch() | Tap() | Type() | TypeName() | Swipe() | LongPress() | DoubleTap() | Back() | Home():
                return self._settler.wait(self.device, screenshot)
            case Wait() | TakeOver():
                return Settled(None, 0.0, True, 0)  # time passed or a person acted: look again
            case _:
                return Settled(screenshot, 0.0, True, 0)  # Note, Call_API and Interact change nothing


    def _watch_for_loops(self, state: RunState, action: Action, before: Frame) -> _Stop | None:
        """After a step: note a loop to the model once, then hand off (or stop) if it goes on."""
        if state.guard is None or not isinstance(action, SCREEN_ACTIONS):
            return None
        if state.next_frame is None:
            return None  # a person acted or time passed: nothing to compare
        detection = state.guard.record(action, before, state.next_frame)
        if detection is None:
            state.warned = False
            return None
        if not state.warned:
            state.warned = True
            state.add_feedback(detection.note(self.settings.lang))
            self.listener.stuck_detected(detection, "note")
            return None
        self._release_input()
        app = state.steps[-1].current_app if state.steps else "unknown app"
        situation = f"{detection.description} The phone shows {app}; the last action was {format_action(action)}."
        response = self.handoff.stuck(situation)
        self.listener.stuck_detected(detection, response)
        state.warned = False
        state.guard.reset()
        if response == "stop":
            return _Stop("stuck", f"Stopped: the agent was going round in circles. {detection.description}")
        if response == "take_over":
            state.next_frame = None
            state.add_feedback("The person stepped in and handed the phone back. Look at the screen again.")
        else:
            state.add_feedback(detection.note(self.settings.lang))
        return None


class _Environment:
    """Execution's link to the world: the agent's clock, hand-off and model."""

    def __init__(self, agent: PhoneAgent) -> None:
        self._agent = agent

    def sleep(self, seconds: float) -> None:
        self._agent._sleep(seconds)

    def confirm(self, message: str) -> bool:
        return self._agent.handoff.confirm(message)

    def take_over(self, message: str) -> bool:
        self._agent._release_input()  # the person may need to type (a password) with their own keyboard
        return self._agent.handoff.take_over(message)

    def ask(self, question: str) -> str | None:
        return self._agent.handoff.ask(question)

    def summarize(self, instruction: str, notes: Sequence[NoteEntry]) -> str:
        content: list[dict[str, Any]] = [{"type": "text", "text": instruction}]
        for entry in notes:
            content += [{"type": "text", "text": f"Noted page: {entry.message}"}, image_part(entry.screenshot.png)]
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SUMMARY_PROMPT},
            {"role": "user", "content": content},
        ]
        reply = self._agent.model.complete(messages).text
        try:
            parsed = parse_reply(reply)
        except ActionParseError:
            return reply.split("</think>")[-1].replace("<answer>", "").replace("</answer>", "").strip()
        return parsed.action.message if isinstance(parsed.action, Finish) else parsed.answer
