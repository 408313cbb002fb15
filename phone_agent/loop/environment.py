"""The loop's link to the world besides the phone: the person, the listeners, the model for summaries, the clock.

Execution uses it as its ``actions.Environment``; the loop asks the person through it when a policy needs
them (a loop that goes on, an app outside the allowlist in front).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from actions import Action, NoteEntry
from phone_agent.handoff import HandOff
from phone_agent.loop.results import Listener
from phone_agent.loop.step import RunState, Stop
from phone_agent.loop.stuck import Escalation
from phone_agent.model.messages import ChatModel, Language
from phone_agent.model.summary import summarize


@dataclass(frozen=True)
class LoopEnvironment:
    """One agent's environment; ``release_input`` gives the person their keyboard back."""

    model: ChatModel
    handoff: HandOff
    listener: Listener
    release_input: Callable[[], None]
    sleep: Callable[[float], None]
    lang: Language

    def confirm(self, message: str) -> bool:
        """Ask the person to approve a sensitive action."""
        return self.handoff.confirm(message)

    def take_over(self, message: str) -> bool:
        """Let the person act by hand; they may need to type (a password) with their own keyboard."""
        self.release_input()
        return self.handoff.take_over(message)

    def ask(self, question: str) -> str | None:
        """Ask the person a question."""
        return self.handoff.ask(question)

    def summarize(self, instruction: str, notes: Sequence[NoteEntry]) -> str:
        """Ask the model about the noted pages."""
        return summarize(self.model, instruction, notes)

    def foreign_app(self, state: RunState, package: str, app: str, allowed: str) -> Stop | None:
        """A foreign app is in front: stop unattended, or let the person go back to an allowed app."""
        self.listener.foreign_app(package, app)
        situation = f"{app} ({package}) came to the front, but this task may only use {allowed}."
        if not self.take_over(f"{situation} Go back to an allowed app on the phone."):
            return Stop("blocked", f"Stopped: {situation}")
        state.next_frame = None
        state.add_feedback(f"{app} is not among the apps this task may use ({allowed}); the person went back and "
                           "handed the phone back. Look at the screen again and do not open other apps.")
        return None

    def stuck(self, escalation: Escalation, state: RunState, action: Action) -> Stop | None:
        """A loop was found: note it to the model, or ask the person (who may stop the run or step in)."""
        response = None
        if escalation.ask_person:
            self.release_input()
            response = self.handoff.stuck(escalation.situation(state.steps[-1].current_app, action))
        self.listener.stuck_detected(escalation.detection, response or "note")
        if response == "stop":
            return Stop("stuck", escalation.stop_message())
        if response == "take_over":
            state.next_frame = None  # look again at what the person left
        state.add_feedback(escalation.feedback(response == "take_over", self.lang))
        return None
