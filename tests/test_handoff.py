"""The person in the loop: console prompts and the unattended policy."""

from __future__ import annotations

from collections.abc import Callable

from phone_agent.handoff import ConsoleHandOff, NonInteractiveHandOff


def console(answers: list[str | None]) -> tuple[ConsoleHandOff, list[str]]:
    shown: list[str] = []

    def read(prompt: str) -> str:
        shown.append(prompt)
        answer = answers.pop(0)
        if answer is None:
            raise EOFError
        return answer

    write: Callable[[str], None] = shown.append
    return ConsoleHandOff(read=read, write=write), shown


def test_confirm_needs_an_explicit_yes() -> None:
    for answer, expected in (("y", True), ("YES", True), ("", False), ("n", False), ("sure", False), (None, False)):
        handoff, shown = console([answer])
        assert handoff.confirm("Pay $20") is expected
        assert "Pay $20" in shown[0]


def test_take_over_waits_for_enter_and_stop_ends_it() -> None:
    handoff, shown = console([""])
    assert handoff.take_over("Please sign in") is True
    assert any("Please sign in" in line for line in shown)
    assert console(["stop"])[0].take_over("x") is False
    assert console([None])[0].take_over("x") is False


def test_ask_repeats_until_an_answer() -> None:
    handoff, _ = console(["", "  the red one  "])
    assert handoff.ask("Which colour?") == "the red one"
    assert console([None])[0].ask("Which colour?") is None


def test_non_interactive_never_waits() -> None:
    handoff = NonInteractiveHandOff()
    assert handoff.confirm("Pay") is False
    assert handoff.take_over("Sign in") is False
    assert handoff.ask("Which?") is None


def test_stuck_offers_take_over_continue_or_stop() -> None:
    assert console(["c"])[0].stuck("tapped 3 times") == "continue"
    assert console(["t", ""])[0].stuck("tapped 3 times") == "take_over"
    assert console(["t", "stop"])[0].stuck("tapped 3 times") == "stop"
    assert console(["s"])[0].stuck("tapped 3 times") == "stop"
    assert console([None])[0].stuck("tapped 3 times") == "stop"
    handoff, shown = console(["c"])
    handoff.stuck("tapped 3 times")
    assert any("tapped 3 times" in line for line in shown)
    assert NonInteractiveHandOff().stuck("x") == "stop"
