"""The conversation sent to the model: system prompt, then alternating screen turns and replies.

Only the latest user turn carries a screenshot; older ones keep their text. Images dominate the
request size, and the model needs the current screen, not the history of pixels.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from importlib import resources
from typing import Any, Literal

Language = Literal["en", "zh"]
DialectName = Literal["autoglm", "tools"]


def system_prompt(lang: Language, dialect: DialectName = "autoglm") -> str:
    """The system prompt in the run's language, for answers in AutoGLM text or as tool calls."""
    name = f"system_{lang}.md" if dialect == "autoglm" else f"system_tools_{lang}.md"
    return resources.files("phone_agent.model").joinpath(f"prompts/{name}").read_text("utf-8")


def screen_text(
    current_app: str,
    *,
    task: str | None = None,
    note: str | None = None,
    secure: bool = False,
    failure: str | None = None,
) -> str:
    """The text part of a user turn: the task (first turn only), screen info, and feedback."""
    info: dict[str, Any] = {"current_app": current_app or "unknown"}
    if failure:
        info["screenshot"] = f"unavailable: {failure} (the image is black)"
    elif secure:
        info["screenshot"] = "unavailable: the screen is protected (e.g. a payment or password page) and shows black"
    parts = []
    if task is not None:
        parts.append(f"Task: {task}")
    if note:
        parts.append(note)
    parts.append("Screen info: " + json.dumps(info, ensure_ascii=False))
    return "\n\n".join(parts)


def image_part(image: bytes, mime: str = "image/png") -> dict[str, Any]:
    """An OpenAI-style image content part carrying the image inline as a data URL."""
    url = f"data:{mime};base64,{base64.b64encode(image).decode('ascii')}"
    return {"type": "image_url", "image_url": {"url": url}}


class Conversation:
    """The message history of one run, in OpenAI chat format."""

    def __init__(self, system: str) -> None:
        self.messages: list[dict[str, Any]] = [{"role": "system", "content": system}]

    def add_screen(self, text: str, image: bytes, mime: str = "image/png") -> None:
        """Append a user turn with the current screenshot, dropping images from earlier turns."""
        for message in self.messages:
            if message["role"] == "user" and isinstance(message["content"], list):
                message["content"] = [part for part in message["content"] if part["type"] == "text"]
        self.messages.append({"role": "user", "content": [{"type": "text", "text": text}, image_part(image, mime)]})

    def add_text(self, text: str) -> None:
        """Append a user turn without an image (e.g. a parse error to correct)."""
        self.messages.append({"role": "user", "content": text})

    def add_reply(self, content: str) -> None:
        """Append the model's reply as the model should see it next time."""
        self.messages.append({"role": "assistant", "content": content})

    def add_tool_calls(self, content: str, calls: Sequence[tuple[str, str, str]]) -> None:
        """Append an assistant turn that calls tools, each given as ``(id, name, arguments JSON)``."""
        self.messages.append(
            {
                "role": "assistant",
                "content": content or None,
                "tool_calls": [
                    {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
                    for call_id, name, arguments in calls
                ],
            }
        )

    def add_tool_result(self, call_id: str, content: str) -> None:
        """Append the result of one tool call; each call needs one before the next user turn."""
        self.messages.append({"role": "tool", "tool_call_id": call_id, "content": content})
