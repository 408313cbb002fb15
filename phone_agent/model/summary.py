"""Answering a request about the pages the model noted during a run (the Call_API action)."""

from __future__ import annotations

from collections.abc import Sequence

from actions import ActionParseError, Finish, NoteEntry, parse_reply
from phone_agent.model.messages import ChatModel, Image, ask, prompt
from phone_agent.model.reply import visible_text


def summarize(model: ChatModel, instruction: str, notes: Sequence[NoteEntry]) -> str:
    """The model's plain-text answer to ``instruction`` about the noted pages, each shown with its note."""
    parts: list[str | Image] = [instruction]
    for entry in notes:
        parts += [f"Noted page: {entry.message}", Image(entry.screenshot.png)]
    reply = ask(model, prompt("summary_en.md"), *parts)
    try:
        parsed = parse_reply(reply)
    except ActionParseError:
        return visible_text(reply)
    return parsed.action.message if isinstance(parsed.action, Finish) else parsed.answer
