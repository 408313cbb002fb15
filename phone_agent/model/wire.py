"""The typed turns in OpenAI chat format, as the client sends them."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, assert_never

from phone_agent.model.messages import Assistant, Image, System, ToolResult, Turn, User


def wire_messages(turns: Sequence[Turn]) -> list[dict[str, Any]]:
    """The turns in OpenAI chat format: images inline as data URLs, a text-only user turn as a plain string."""
    return [_wire_message(turn) for turn in turns]


def _wire_message(turn: Turn) -> dict[str, Any]:
    """One turn as an OpenAI chat message."""
    match turn:
        case System(text):
            return {"role": "system", "content": text}
        case User((str() as text,)):
            return {"role": "user", "content": text}
        case User(parts):
            return {"role": "user", "content": [_wire_part(part) for part in parts]}
        case Assistant(text, ()):
            return {"role": "assistant", "content": text}
        case Assistant(text, calls):
            wire_calls = [
                {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
                for call in calls
            ]
            return {"role": "assistant", "content": text or None, "tool_calls": wire_calls}
        case ToolResult(call_id, text):
            return {"role": "tool", "tool_call_id": call_id, "content": text}
    assert_never(turn)


def _wire_part(part: str | Image) -> dict[str, Any]:
    """One part of a user turn: text, or an image as a data URL."""
    if isinstance(part, str):
        return {"type": "text", "text": part}
    url = f"data:{part.mime};base64,{base64.b64encode(part.data).decode('ascii')}"
    return {"type": "image_url", "image_url": {"url": url}}
