"""The AutoGLM text grammar: ``<think>…</think><answer>do(action="Tap", element=[x,y])</answer>``.

Replies are parsed with :mod:`ast` (never ``eval``): the answer must be one call of ``do(...)`` or
``finish(...)`` whose keyword arguments are plain literals. Parsing is tolerant of what models
really send (missing tags, a trailing ``</answer>``, code fences, prose before the call, action
names with other spacing or case) and strict about meaning (names, types, 0-999 ranges, one action).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from pydantic import ValidationError

from actions.models import ACTION_ADAPTER, ACTION_TYPES, Action, Finish

_FENCE = re.compile(r"```[a-zA-Z]*\n?|```")
_THINK = re.compile(r"<think>(.*?)(?:</think>|(?=<answer>)|$)", re.DOTALL)
_ANSWER = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.DOTALL)
_CALL_START = re.compile(r"\b(?:do|finish)\s*\(")
_TAGS = re.compile(r"</?(?:think|answer)>")


def _fold(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).casefold()


_NAMES_BY_FOLD = {_fold(name): name for name in ACTION_TYPES if name != "finish"}
_VALID_NAMES = ", ".join(f'"{name}"' for name in _NAMES_BY_FOLD.values())


class ActionParseError(ValueError):
    """The model's reply is not one valid action. The message is written for the model to read."""


class _SeveralActions(ActionParseError):
    """The answer holds more than one action."""


@dataclass(frozen=True)
class ParsedReply:
    """A reply split into the model's reasoning, the raw answer text and the typed action."""

    thinking: str
    answer: str
    action: Action


def parse_reply(reply: str) -> ParsedReply:
    """Split a model reply into thinking and answer, and parse the answer into an action.

    Raises:
        ActionParseError: the answer is missing, malformed, or not exactly one valid action.
    """
    text = _FENCE.sub("", reply)
    answer_match = _ANSWER.search(text)
    if answer_match:
        answer = answer_match.group(1)
        think_match = _THINK.search(text[: answer_match.start()])
        thinking = think_match.group(1) if think_match else text[: answer_match.start()]
    else:
        return _parse_untagged(text)
    thinking = _TAGS.sub("", thinking).strip()
    answer = _TAGS.sub("", answer).strip()
    return ParsedReply(thinking=thinking, answer=answer, action=parse_action(answer))


def _parse_untagged(text: str) -> ParsedReply:
    """A reply without <answer>: the action is the first call (after any </think>) that parses.

    The reasoning may itself say "do (" or "finish (": a candidate that is not valid syntax is
    skipped, but one that holds several actions is an error, as in a tagged answer.
    """
    region = text.rfind("</think>") + 1 if "</think>" in text else 0
    starts = [match.start() for match in _CALL_START.finditer(text, region)]
    if not starts:
        raise ActionParseError(
            "Your reply contains no action. End it with exactly one action inside "
            '<answer></answer>, for example <answer>do(action="Tap", element=[500, 500])</answer> '
            'or <answer>finish(message="...")</answer>.'
        )
    error: ActionParseError | None = None
    for start in starts:
        answer = _TAGS.sub("", text[start:]).strip()
        try:
            action = parse_action(answer)
        except _SeveralActions:
            raise
        except ActionParseError as exc:
            error = exc  # the last candidate's complaint is the one worth reporting
            continue
        return ParsedReply(thinking=_TAGS.sub("", text[:start]).strip(), answer=answer, action=action)
    assert error is not None
    raise error


def parse_action(answer: str) -> Action:
    """Parse one ``do(...)`` or ``finish(...)`` call.

    Raises:
        ActionParseError: as for :func:`parse_reply`.
    """
    call = _single_call(answer)
    func = call.func.id if isinstance(call.func, ast.Name) else None
    if func not in ("do", "finish"):
        raise ActionParseError(f"Unknown call {ast.unparse(call.func)!r}. Use do(action=...) or finish(message=...).")
    if call.args and not (func == "finish" and len(call.args) == 1):
        raise ActionParseError(f'Write every argument of {func}() as name=value, e.g. do(action="Back").')
    fields: dict[str, object] = {}
    for keyword in call.keywords:
        if keyword.arg is None:
            raise ActionParseError(f"Do not use ** in {func}(); write each argument as name=value.")
        fields[keyword.arg] = _literal(keyword.value, keyword.arg)
    if func == "finish":
        if call.args:
            fields["message"] = _literal(call.args[0], "message")
        fields["action"] = "finish"
    else:
        fields["action"] = _action_name(fields.get("action"))
    try:
        return ACTION_ADAPTER.validate_python(fields)
    except ValidationError as exc:
        raise ActionParseError(_describe(str(fields["action"]), exc)) from None


def _single_call(answer: str) -> ast.Call:
    tree = _parse_module(answer)
    calls = [node.value for node in tree.body if isinstance(node, ast.Expr)]
    if len(tree.body) == 0:
        raise ActionParseError('Your answer is empty. Give exactly one action, e.g. do(action="Back").')
    if len(tree.body) > 1 or len(calls) != 1:
        raise _SeveralActions(
            "Your answer contains more than one statement. Give exactly one action per answer; "
            "you will see the new screen before the next one."
        )
    node = calls[0]
    if isinstance(node, ast.Tuple):
        raise _SeveralActions("Your answer contains several actions. Give exactly one action per answer.")
    if not isinstance(node, ast.Call):
        raise ActionParseError(
            f"Your answer {answer[:80]!r} is not an action. Use do(action=...) or finish(message=...)."
        )
    return node


def _parse_module(answer: str) -> ast.Module:
    try:
        return ast.parse(answer, mode="exec")
    except SyntaxError:
        pass
    try:
        # Models sometimes put raw line breaks inside a quoted text argument.
        return ast.parse(answer.replace("\r\n", "\\n").replace("\n", "\\n"), mode="exec")
    except (SyntaxError, ValueError):
        raise ActionParseError(
            f"Your answer {answer[:120]!r} is not valid syntax. Write one call such as "
            'do(action="Type", text="hello") with strings in double quotes and \\" for a quote inside.'
        ) from None
    except RecursionError:
        raise ActionParseError("Your answer is nested too deeply. Give one simple action.") from None


def _literal(node: ast.expr, name: str) -> object:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise ActionParseError(
            f"The argument {name}= must be a plain value (a quoted string or [x, y] numbers), "
            f"not {ast.unparse(node)[:60]!r}."
        ) from None
    if isinstance(value, set | frozenset | dict):
        raise ActionParseError(
            f"The argument {name}= must be a quoted string or a list like [x, y], not a set or dict."
        )
    # Models write points as [x, y]; the models hold tuples.
    return tuple(value) if isinstance(value, list) else value


def _action_name(raw: object) -> str:
    if not isinstance(raw, str):
        raise ActionParseError(f'do() needs action="..." naming one of: {_VALID_NAMES}.')
    name = _NAMES_BY_FOLD.get(_fold(raw))
    if name is None:
        raise ActionParseError(f'Unknown action "{raw}". Use one of: {_VALID_NAMES}, or finish(message=...).')
    return name


def _describe(action: str, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        location = [str(part) for part in error["loc"] if not str(part)[0].isupper() and part != action]
        field = location[0] if location else "arguments"
        if error["type"] == "extra_forbidden":
            allowed = [f for f in ACTION_TYPES[action].model_fields if f != "action"]
            problems.append(f"unexpected argument {field}= (allowed: {', '.join(allowed) or 'none'})")
        elif error["type"] == "missing":
            problems.append(f"missing argument {field}=")
        elif field in ("element", "start", "end"):
            problems.append(f"{field}= must be [x, y] with whole numbers from 0 to 999")
        else:
            problems.append(f"{field}= {error['msg'].lower()}")
    unique = list(dict.fromkeys(problems))
    return f'Invalid "{action}" action: ' + "; ".join(unique) + "."


def format_action(action: Action) -> str:
    """Write an action in the AutoGLM grammar; ``parse_action(format_action(a)) == a``."""
    if isinstance(action, Finish):
        return f"finish(message={_quote(action.message)})"
    parts = [f"action={_quote(action.action)}"]
    for name, value in action:
        if name == "action" or value is None:
            continue
        if isinstance(value, tuple):
            parts.append(f"{name}=[{value[0]}, {value[1]}]")
        else:
            parts.append(f"{name}={_quote(value)}")
    return f"do({', '.join(parts)})"


def _quote(text: str) -> str:
    """A double-quoted Python string literal for ``text`` (escapes exactly what must be escaped)."""
    literal = repr(text)
    if literal[0] == '"':
        return literal

    def requote(match: re.Match[str]) -> str:
        if match.group(0) == '"':
            return '\\"'
        return "'" if match.group(1) == "'" else match.group(0)

    return '"' + re.sub(r'\\(.)|"', requote, literal[1:-1], flags=re.DOTALL) + '"'
