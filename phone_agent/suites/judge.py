"""Asking the vision model whether a statement about the screen holds, with its reason."""

from __future__ import annotations

import re
from dataclasses import dataclass

from phone_agent.model.messages import ChatModel, Image, ask, prompt
from phone_agent.model.reply import visible_text

_LEADING = re.compile(r"^\W*(yes|no|是|否|不是)(?![A-Za-z])", re.IGNORECASE)
_ANYWHERE = re.compile(r"(?<![A-Za-z])(yes|no)(?![A-Za-z])|(不是|是|否)", re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    """The model's answer: whether the statement holds, why, and its raw reply."""

    passed: bool
    reason: str
    reply: str


def judge(model: ChatModel, statement: str, screenshot_png: bytes) -> Verdict:
    """Ask the model about ``statement``; an answer with neither yes nor no counts as a failure."""
    reply = ask(model, prompt("judge_en.md"), f"Statement: {statement}", Image(screenshot_png))
    visible = visible_text(reply)
    # The answer leads ("YES: ..."); failing that, the last yes/no wins ("... there is no error. YES").
    match = _LEADING.search(visible) or next(reversed(list(_ANYWHERE.finditer(visible))), None)
    if match is None:
        return Verdict(False, f"the model gave no yes/no answer: {visible[:200]!r}", reply)
    word = (match.group(1) or match.group(2) or "").lower()
    passed = word in ("yes", "是")
    reason = (visible[match.end() :] if match.start() < 3 else visible[: match.start()]).strip(" :.-,，：。") or visible
    return Verdict(passed, reason, reply)
