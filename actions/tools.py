"""The JSON tool-calling dialect: one OpenAI function per action, and tool calls parsed into typed actions.

The parameter schemas are generated from the pydantic models in :mod:`actions.models` and reduced to
the plain JSON Schema that tool-calling servers accept (``items`` instead of ``prefixItems``, no
``anyOf`` with null), so a field added to a model appears in its tool. Only the names and the wording
for the model are written here. :func:`parse_tool_call` reads a call back, tolerant of what models
really send (a name in another case, ``2`` for ``"2 seconds"``, ``500.0`` for 500) and strict about
meaning; :func:`tool_call_for` is its inverse.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from actions.grammar import MAX_ANSWER_CHARS, ActionParseError, mend_surrogates
from actions.models import (
    ACTION_ADAPTER,
    Action,
    Back,
    CallAPI,
    DoubleTap,
    Finish,
    Home,
    Interact,
    Launch,
    LongPress,
    Note,
    Swipe,
    TakeOver,
    Tap,
    Type,
    TypeName,
    Wait,
    _Action,
)

_POINT = "A point as [x, y] on the 0-999 grid over the screenshot; [0, 0] is the top-left corner."


@dataclass(frozen=True)
class _Tool:
    name: str
    model: type[_Action]
    description: str
    parameters: dict[str, str]  # name -> what it means, for the model

    @property
    def action(self) -> str:
        return str(self.model.model_fields["action"].default)


_TOOLS: tuple[_Tool, ...] = (
    _Tool("launch", Launch, "Open an app by its name. Faster and surer than looking for its icon.",
          {"app": "The app's name as a person would say it, e.g. eBay or Settings."}),
    _Tool("tap", Tap, "Tap one point on the screen.",
          {"element": _POINT,
           "message": "Only for a tap that pays, buys, deletes, sends or cannot be undone: say what it will do. "
                      "The person is asked to confirm before it happens."}),
    _Tool("type_text", Type, "Replace the text of the input field that has focus. Tap the field first if needed.",
          {"text": "The text to enter."}),
    _Tool("type_name", TypeName, "Enter a person's name into the input field that has focus.",
          {"text": "The name."}),
    _Tool("swipe", Swipe, "Drag from one point to another: upwards to see more of a list, sideways to turn a page.",
          {"start": "Where the finger goes down. " + _POINT, "end": "Where it lifts. " + _POINT}),
    _Tool("long_press", LongPress, "Press and hold a point, for menus and selecting.", {"element": _POINT}),
    _Tool("double_tap", DoubleTap, "Tap a point twice quickly, for zooming or liking.", {"element": _POINT}),
    _Tool("wait", Wait, "Wait for a page that is still loading.",
          {"duration": 'How long, in seconds, e.g. "2 seconds".'}),
    _Tool("back", Back, "Press the Back button.", {}),
    _Tool("home", Home, "Go to the home screen.", {}),
    _Tool("take_over", TakeOver,
          "Hand the phone to the person for a step only they can do: signing in, a captcha, a payment password.",
          {"message": "What the person should do."}),
    _Tool("interact", Interact, "Ask the person to choose when the task is ambiguous and several options fit.",
          {"message": "The question, naming the options."}),
    _Tool("note", Note, "Remember what the current screen shows, for a later call_api.",
          {"message": "What is worth remembering here."}),
    _Tool("call_api", CallAPI, "Get a summary of, or an answer about, the screens noted so far.",
          {"instruction": "What to summarise or answer."}),
    _Tool("finish", Finish, "End the task and tell the person the outcome.",
          {"message": "What was done, or why it could not be done."}),
)

_BY_TYPE: dict[type[_Action], _Tool] = {tool.model: tool for tool in _TOOLS}


def _fold(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).casefold()


# Tool names, and the AutoGLM names models sometimes use instead ("Type", "Long Press").
_BY_FOLD: dict[str, _Tool] = {_fold(tool.action): tool for tool in _TOOLS} | {_fold(t.name): t for t in _TOOLS}
_NAMES = ", ".join(tool.name for tool in _TOOLS)


def _simplify(schema: dict[str, Any]) -> dict[str, Any]:
    """Reduce a pydantic property schema to what every tool-calling server understands."""
    result = {key: value for key, value in schema.items() if key not in ("title", "default")}
    options = result.pop("anyOf", None)
    if options is not None:
        (kept,) = [option for option in options if option.get("type") != "null"]  # "X | None": optional X
        result.update(_simplify(kept))
    items = result.pop("prefixItems", None)
    if items is not None:
        assert all(item == items[0] for item in items), "tuples of mixed types have no plain JSON Schema"
        result["items"] = _simplify(items[0])
    return result


def _schema(tool: _Tool) -> dict[str, Any]:
    """The tool's ``parameters``: the model's fields (minus ``action``), each with its description."""
    source = tool.model.model_json_schema()
    properties = {
        name: {**_simplify(prop), "description": tool.parameters[name]}
        for name, prop in source["properties"].items()
        if name != "action"
    }
    required = [name for name in source.get("required", []) if name != "action"]
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


_DEFINITIONS: list[dict[str, Any]] = [
    {"type": "function", "function": {"name": tool.name, "description": tool.description, "parameters": _schema(tool)}}
    for tool in _TOOLS
]
_POINT_FIELDS = frozenset(
    name for d in _DEFINITIONS for name, p in d["function"]["parameters"]["properties"].items() if p["type"] == "array"
)


def tool_definitions() -> list[dict[str, Any]]:
    """The OpenAI ``tools`` list: one function per action (a fresh copy the caller may change)."""
    return copy.deepcopy(_DEFINITIONS)


def tool_name(action: Action) -> str:
    """The name of the tool that performs ``action``, e.g. ``"type_text"`` for a ``Type``."""
    return _BY_TYPE[type(action)].name


def tool_call_for(action: Action) -> tuple[str, str]:
    """The tool call that performs ``action``: ``(name, arguments as JSON)``; ``parse_tool_call`` inverts it."""
    arguments = {
        name: list(value) if isinstance(value, tuple) else value
        for name, value in action
        if name != "action" and value is not None
    }
    return tool_name(action), json.dumps(arguments, ensure_ascii=False)


def parse_tool_call(name: str, arguments: str) -> Action:
    """Turn one tool call into a typed action.

    Raises:
        ActionParseError: unknown tool, arguments that are not a JSON object, or missing, unexpected,
            mistyped or out-of-range arguments. The message is written for the model.
    """
    tool = _tool_named(name)
    fields = _decode(tool, arguments)
    allowed = tool.parameters
    unexpected = [key for key in fields if key not in allowed]
    if unexpected:
        takes = f"it takes: {', '.join(allowed)}" if allowed else "it takes no arguments"
        raise ActionParseError(f"{tool.name} does not take {_quoted(unexpected)} ({takes}).")
    values = {key: _tolerate(key, value) for key, value in fields.items()}
    try:
        return ACTION_ADAPTER.validate_python({**values, "action": tool.action})
    except ValidationError as exc:
        raise ActionParseError(_describe(tool, exc)) from None


def _tool_named(name: str) -> _Tool:
    tool = _BY_FOLD.get(_fold(name.removeprefix("functions."))) if isinstance(name, str) else None
    if tool is None:
        shown = mend_surrogates(name[:60]) if isinstance(name, str) else repr(name)
        raise ActionParseError(f'There is no tool "{shown}". Call one of: {_NAMES}.')
    return tool


def _decode(tool: _Tool, arguments: str) -> dict[str, Any]:
    """The call's arguments as a dict (names and text with any lone surrogate mended); empty ones are none."""
    text = mend_surrogates(arguments.strip()) if isinstance(arguments, str) else ""
    if not text or text == "null":
        return {}
    if len(text) > MAX_ANSWER_CHARS:
        raise ActionParseError(
            f"The arguments of {tool.name} are longer than {MAX_ANSWER_CHARS:,} characters. "
            f"Send a short JSON object such as {_example(tool)}."
        )
    try:
        value = json.loads(text)
        if isinstance(value, str) and value.strip().startswith("{"):
            value = json.loads(value)  # some models encode the object twice
    except (ValueError, RecursionError, MemoryError):
        raise ActionParseError(
            f"The arguments of {tool.name} are not valid JSON: {text[:120]!r}. Send a JSON object such as "
            f"{_example(tool)}."
        ) from None
    if not isinstance(value, dict):
        raise ActionParseError(f"The arguments of {tool.name} must be a JSON object such as {_example(tool)}.")
    # A JSON escape such as "\\ud83d" decodes to half a character: mend it before a message or the phone sees it.
    return {mend_surrogates(key): mend_surrogates(v) if isinstance(v, str) else v for key, v in value.items()}


def _tolerate(name: str, value: Any) -> Any:
    """Accept the harmless liberties models take: whole-number floats in points, a bare number of seconds."""
    if name in _POINT_FIELDS and isinstance(value, list):
        return tuple(int(v) if isinstance(v, float) and v.is_integer() else v for v in value)
    if name == "duration" and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value if isinstance(value, int) else format(value, 'g')} seconds"
    return value


def _example(tool: _Tool) -> str:
    """A valid arguments object for the tool, for error messages."""
    samples = {name: [500, 500] if name in _POINT_FIELDS else "..." for name in _schema_required(tool)}
    if tool.model is Wait:
        samples = {"duration": "2 seconds"}
    return json.dumps(samples)


def _schema_required(tool: _Tool) -> list[str]:
    return [name for name, field in tool.model.model_fields.items() if name != "action" and field.is_required()]


def _describe(tool: _Tool, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        location = [str(part) for part in error["loc"] if str(part) in tool.parameters]
        field = location[0] if location else "arguments"
        if error["type"] == "missing":
            problems.append(f'missing "{field}"')
        elif field in _POINT_FIELDS:
            problems.append(f'"{field}" must be [x, y] with whole numbers from 0 to 999')
        else:
            problems.append(f'"{field}" {error["msg"].removeprefix("Value error, ").lower()}')
    unique = list(dict.fromkeys(problems))
    return f"Invalid call of {tool.name}: " + "; ".join(unique) + f". Example arguments: {_example(tool)}."


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{name[:40]}"' for name in names)
