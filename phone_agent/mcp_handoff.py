"""The person in the loop over MCP: ``run_task``'s hand-offs asked through the client as form elicitations.

Each hand-off is one ``elicitation/create`` with a one-field form. Only an accepted form with a yes lets a
sensitive action happen; a decline, a cancel or a failed request counts as nobody answering, which is what
``NonInteractiveHandOff`` assumes, so the run ends as ``needs_human`` or ``stuck`` rather than guessing.
"""

from __future__ import annotations

from typing import Literal, Protocol, TypeVar

from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from phone_agent.handoff import StuckResponse

M = TypeVar("M", bound=BaseModel)


class Elicit(Protocol):
    """Ask the person to fill ``schema``'s form: what they accepted, or None (declined, dismissed, unanswerable)."""

    def __call__(self, message: str, schema: type[M]) -> M | None: ...


class Approval(BaseModel):
    """The form for a sensitive action."""

    allow: bool = Field(title="Allow it", description="Let the phone agent do this action.")


class Handback(BaseModel):
    """The form for a turn on the phone."""

    next: Literal["done", "stop"] = Field(
        title="When you are done", description="done: the agent carries on from where you leave the phone; stop."
    )


class Answer(BaseModel):
    """The form for the agent's question."""

    answer: str = Field(title="Your answer", min_length=1)


class StuckChoice(BaseModel):
    """The form for an agent going round in circles."""

    choice: Literal["continue", "take_over", "stop"] = Field(
        title="What now", description="continue: let it try again; take_over: fix it on the phone yourself; stop."
    )


class ElicitingHandOff:
    """Asks the person through the MCP client (``elicit``); no answer is never a yes."""

    def __init__(self, elicit: Elicit) -> None:
        self._elicit = elicit

    def confirm(self, message: str) -> bool:
        """Allowed only when the person accepted the form with allow checked."""
        form = self._elicit(f"The phone agent wants to do a sensitive action: {message}", Approval)
        return form is not None and form.allow

    def take_over(self, message: str) -> bool:
        """True once the person says done; stop, decline or cancel ends the run as ``needs_human``."""
        what = message or "The phone agent needs you to act on the phone."
        form = self._elicit(f"Your turn on the phone: {what}\nDo it on the phone, then choose done (or stop).",
                            Handback)
        return form is not None and form.next == "done"

    def ask(self, question: str) -> str | None:
        """The person's answer; None when they declined or dismissed the question."""
        form = self._elicit(f"The phone agent asks: {question}", Answer)
        return form.answer.strip() or None if form is not None else None

    def stuck(self, message: str) -> StuckResponse:
        """Continue, take over (then a turn on the phone) or stop; no answer stops."""
        form = self._elicit(f"The phone agent seems stuck: {message}", StuckChoice)
        choice = form.choice if form is not None else "stop"
        if choice == "take_over":
            return "take_over" if self.take_over("Fix it on the phone.") else "stop"
        return choice


def can_elicit(ctx: Context) -> bool:
    """Whether the client takes form elicitations mid-call: it declared them, and its protocol has server requests.

    The 2026-07-28 protocol has none (a tool asks by returning ``InputRequiredResult``), so there the run is
    unattended, as without the capability.
    """
    capability = ctx.client_capabilities.elicitation if ctx.client_capabilities else None
    # An empty elicitation capability means form mode (the spec's rule for clients older than url mode).
    form = capability is not None and (capability.form is not None or capability.url is None)
    return form and ctx.session.can_send_request
