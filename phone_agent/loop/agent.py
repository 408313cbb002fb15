"""The perceive-plan-act loop: each step observes, decides, acts, settles and records.

``PhoneAgent.run`` is a bounded loop over ``_step``; each phase is one method below. Settings, state
and what the phases hand each other are in ``phone_agent.loop.step``; the policies (stuck guard, app
allowlist, dialect) in their own modules. Progress goes to a ``Listener``; nothing here prints.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence

from actions import Action, Context, Device, Outcome, TakeOver, Tap, Wait, execute
from apps_registry import Registry, default_registry
from phone_agent.cancellation import Cancellation
from phone_agent.device.frames import Frame, frame_of
from phone_agent.device.settle import Settled, Settler
from phone_agent.errors import PhoneAgentError
from phone_agent.handoff import HandOff, NonInteractiveHandOff
from phone_agent.loop.dialect import ask_until_understood
from phone_agent.loop.environment import LoopEnvironment
from phone_agent.loop.results import Fanout, Listener, RunResult, StepResult
from phone_agent.loop.step import AgentSettings, Decided, Observation, PhaseTimer, RunState, Stop, step_result
from phone_agent.model.messages import ChatModel, Image, screen_text


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
        self.device, self.model = device, model
        self.settings = settings or AgentSettings()
        self.handoff = handoff or NonInteractiveHandOff()
        self.registry = registry or default_registry()
        self.listener: Listener = Fanout(listeners)
        self._clock = clock
        self._settler = Settler(self.settings.settle, clock, sleep, max_wait=self.settings.settle_max_wait)
        self._environment = LoopEnvironment(
            model, self.handoff, self.listener, self._release_input, sleep, self.settings.lang
        )

    def run(self, task: str, *, deadline: float | None = None, cancellation: Cancellation | None = None) -> RunResult:
        """Work on ``task`` until the model finishes, a person is needed, or ``max_steps`` is reached.

        Errors from the phone or the model end the run with status ``failed`` (the error is kept in
        ``RunResult.error``); so does passing ``deadline`` (a time on the agent's clock), checked
        before each step. Ctrl-C ends it with status ``interrupted``; so does ``cancellation``, checked before each
        step (and by a model client given it, during its requests). Steps done so far are kept.
        """
        start = self._clock()
        self.listener.run_started(task)
        state = RunState.start(self.settings, self.device)
        stop = Stop("max_steps", f"Stopped after {self.settings.max_steps} steps without finishing the task.")
        error: PhoneAgentError | None = None
        try:
            for index in range(1, self.settings.max_steps + 1):
                if cancellation is not None:
                    cancellation.check()
                if deadline is not None and self._clock() >= deadline:
                    stop = Stop("failed", f"Out of time after {index - 1} steps.")
                    break
                if (ended := self._step(task, index, state)) is not None:
                    stop = ended
                    break
        except KeyboardInterrupt as exc:
            # The CLI turns SIGTERM and SIGHUP into an interrupt that names the signal.
            stop = Stop("interrupted", str(exc) or "Stopped by the person (Ctrl-C).")
        except PhoneAgentError as exc:
            stop, error = Stop("failed", str(exc)), exc
        except Exception as exc:
            # A bug or an environment failure (a full disk): still close the trace, then let it surface.
            message = f"{type(exc).__name__}: {exc}"
            self.listener.run_finished(RunResult(task, "failed", message, state.steps, self._clock() - start))
            raise
        finally:
            self._release_input()
        result = RunResult(task, stop.status, stop.message, state.steps, self._clock() - start, error)
        self.listener.run_finished(result)
        return result

    def _release_input(self) -> None:
        """Give the person their keyboard back; a phone that is gone cannot need it."""
        with contextlib.suppress(PhoneAgentError):
            self.device.release_input()

    def _step(self, task: str, index: int, state: RunState) -> Stop | None:
        self.listener.step_started(index)
        timer = PhaseTimer(self._clock)
        seen = self._observe(state, timer)
        if isinstance(seen, Stop):
            return seen
        timer.lap("capture")
        decided = self._decide(task if index == 1 else None, seen, state, timer)
        outcome = self._act(decided.decision.action, seen, state)
        timer.lap("act")
        state.feedback = state.dialect.report(state.conversation, decided.decision, outcome.feedback)
        settled = self._settle(decided.decision.action, seen, outcome, state)
        timer.lap("settle")
        self._record(step_result(index, seen, decided, outcome, settled, timer.seconds), seen, state)
        if outcome.status is not None:
            return Stop(outcome.status, outcome.message or "")
        escalation = state.guard.watch(decided.decision.action, seen.frame, state.next_frame) if state.guard else None
        return self._environment.stuck(escalation, state, decided.decision.action) if escalation else None

    def _observe(self, state: RunState, timer: PhaseTimer) -> Observation | Stop:
        """Observe: the screen (the last step's settled frame, if any), the app in front, and the image to send."""
        frame, package = self._capture(state)
        if not state.steps and state.front is not None and state.front.is_foreign(package):
            # A phone left in another app is no violation: start from the home screen, where an allowed app launches.
            self.device.home()
            state.next_frame = self._settler.wait(self.device, frame).frame
            frame, package = self._capture(state)
        while state.front is not None and state.front.is_foreign(package):
            app, allowed = self.registry.name_of(package), state.front.allowed.names
            if (stop := self._environment.foreign_app(state, package, app, allowed)) is not None:
                return stop
            timer.restart()
            frame, package = self._capture(state)
        image, mime = self.settings.images.encode(lambda: frame.png, frame.pixels)  # preparing it is part of observing
        return Observation(frame, package, self.registry.name_of(package), Image(image, mime))

    def _capture(self, state: RunState) -> tuple[Frame, str]:
        """The frame (the last settled one, or captured now) and the app in front (devices ask for it meanwhile)."""
        frame = state.next_frame or frame_of(self.device.screenshot())
        return frame, self.device.current_app()

    def _decide(self, task: str | None, seen: Observation, state: RunState, timer: PhaseTimer) -> Decided:
        """Decide: show the model the screen and understand its reply."""
        shot = seen.frame
        text = screen_text(seen.app, task=task, note=state.feedback, secure=shot.secure, failure=shot.failure)
        state.conversation.add_screen(text, seen.image)
        request_messages, lap = len(state.conversation.turns), timer.lap
        decided = ask_until_understood(
            self.model, state.conversation, state.dialect, self.listener, lap, self.settings.max_parse_retries
        )
        return Decided(*decided, request_messages)

    def _act(self, action: Action, seen: Observation, state: RunState) -> Outcome:
        """Act: carry out the action on the phone, unless the allowlist refuses it."""
        allowed, phone_apps = self.settings.allowed_apps, self.device.launchable_apps
        if allowed is not None and (refusal := allowed.refusal(action, self.registry, phone_apps)) is not None:
            return Outcome(feedback=refusal)
        return execute(action, self.device, self._environment, Context(seen.frame, self.registry, state.notes))

    def _settle(self, action: Action, seen: Observation, outcome: Outcome, state: RunState) -> Settled:
        """Settle: wait until the screen the action moved is still; that frame is the next observation."""
        if outcome.status is not None or isinstance(action, Wait | TakeOver):
            settled = Settled(None, 0.0, True, 0)  # the run ends, time passed or a person acted: look again
        elif not action.changes_screen or (isinstance(action, Tap) and not outcome.points):
            settled = Settled(seen.frame, 0.0, True, 0)  # nothing moved: a Note, an answer, a declined sensitive tap
        else:
            settled = self._settler.wait(self.device, seen.frame)
        state.next_frame = settled.frame
        if settled.frame is None and state.guard is not None and outcome.status is None and action.changes_screen:
            state.next_frame = frame_of(self.device.screenshot())  # --settle off/fixed: the stuck guard compares it
        return settled

    def _record(self, step: StepResult, seen: Observation, state: RunState) -> None:
        """Record: keep the step and tell the listeners (the trace among them)."""
        state.steps.append(step)
        self.listener.step_finished(step, seen.frame)
