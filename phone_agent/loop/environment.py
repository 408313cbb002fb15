"""Execution's link to the world besides the phone: the clock, the person, and the model for summaries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from actions import NoteEntry
from phone_agent.handoff import HandOff
from phone_agent.model.messages import ChatModel
from phone_agent.model.summary import summarize


@dataclass(frozen=True)
class LoopEnvironment:
    """The ``actions.Environment`` of a run; ``release_input`` gives the person their keyboard back."""

    model: ChatModel
    handoff: HandOff
    release_input: Callable[[], None]
    sleep: Callable[[float], None]

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
