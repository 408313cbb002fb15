"""Asking the vision model whether a statement about the screen holds, with its reason."""

from __future__ import annotations

import re
from dataclasses import dataclass

from phone_agent.agent import ChatModel
from phone_agent.model.messages import image_part

JUDGE_PROMPT = (
    "You check statements about an Android phone screen for a test suite. Look at the screenshot and "
    "answer on one line: YES or NO, a colon, then a short reason naming what you see."
)
_VERDICT = re.compile(r"\b(yes|no|是|否)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    """The model's answer: whether the statement holds, why, and its raw reply."""

    passed: bool
    reason: str
    reply: str


def judge(model: ChatModel, statement: str, screenshot_png: bytes) -> Verdict:
    """Ask the model about ``statement``; an answer with neither yes nor no counts as a failure."""
    content = [{"type": "text", "text": f"Statement: {statement}"}, image_part(screenshot_png)]
    reply = model.complete([{"role": "system", "content": JUDGE_PROMPT}, {"role": "user", "content": content}]).text
    visible = re.sub(r"<think>.*?</think>|</?answer>", "", reply, flags=re.DOTALL).strip()
    match = _VERDICT.search(visible)
    if match is None:
        return Verdict(False, f"the model gave no yes/no answer: {visible[:200]!r}", reply)
    passed = match.group(1).lower() in ("yes", "是")
    reason = visible[match.end() :].lstrip(" :.-，：") or visible
    return Verdict(passed, reason.strip(), reply)
