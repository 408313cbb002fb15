"""The person in the loop: approving sensitive taps, taking over for logins, answering questions.

``ConsoleHandOff`` asks on the terminal. ``NonInteractiveHandOff`` never waits for anybody: it
denies sensitive actions and reports that a person is needed, so unattended runs never hang.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol

from phone_agent.console import printable

StuckResponse = Literal["continue", "take_over", "stop"]


class HandOff(Protocol):
    """How the agent reaches the person."""

    def confirm(self, message: str) -> bool:
        """Ask the person to approve a sensitive action."""
        ...

    def take_over(self, message: str) -> bool:
        """Let the person act on the phone; True once they hand it back, False when nobody can."""
        ...

    def ask(self, question: str) -> str | None:
        """Ask the person to choose; None when nobody can answer."""
        ...

    def stuck(self, message: str) -> StuckResponse:
        """The agent is going round in circles: let the person take over, let it continue, or stop."""
        ...


class ConsoleHandOff:
    """Asks on the terminal; the model's words are shown without control sequences. ``read``, ``write``: for tests."""

    def __init__(self, read: Callable[[str], str] = input, write: Callable[[str], None] = print) -> None:
        self._read = read
        self._write = write

    def confirm(self, message: str) -> bool:
        """Ask y/N; anything but yes denies."""
        answer = self._prompt(f"Sensitive action: {printable(message)}\nAllow it? [y/N] ")
        return answer is not None and answer.strip().lower() in ("y", "yes")

    def take_over(self, message: str) -> bool:
        """Wait for Enter; typing 'stop' (or end of input) ends the run instead."""
        self._write(f"Your turn: {printable(message) or 'the agent needs you to act on the phone.'}")
        answer = self._prompt("Do it on the phone, then press Enter to continue (or type 'stop'): ")
        return answer is not None and answer.strip().lower() not in ("stop", "q", "quit")

    def ask(self, question: str) -> str | None:
        """Ask until a non-empty answer; None at end of input."""
        self._write(f"The agent asks: {printable(question)}")
        while True:
            answer = self._prompt("Your answer: ")
            if answer is None or answer.strip():
                return None if answer is None else answer.strip()

    def stuck(self, message: str) -> StuckResponse:
        """Offer take over / continue / stop; end of input stops."""
        self._write(f"The agent seems stuck: {printable(message)}")
        answer = self._prompt("[t]ake over on the phone, [c]ontinue, or [s]top? ")
        choice = (answer or "s").strip().lower()[:1]
        if choice == "t":
            return "take_over" if self.take_over("Fix it on the phone.") else "stop"
        return "continue" if choice == "c" else "stop"

    def _prompt(self, text: str) -> str | None:
        try:
            return self._read(text)
        except EOFError:
            return None


class NonInteractiveHandOff:
    """The unattended policy: deny sensitive actions, and stop when a person is needed."""

    def confirm(self, message: str) -> bool:
        """Always deny."""
        return False

    def take_over(self, message: str) -> bool:
        """Nobody is there: the run ends with status ``needs_human``."""
        return False

    def ask(self, question: str) -> str | None:
        """Nobody is there to answer."""
        return None

    def stuck(self, message: str) -> StuckResponse:
        """Nobody can help: stop."""
        return "stop"
