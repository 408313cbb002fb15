"""The AutoGLM text grammar: ``<think>…</think><answer>do(action="Tap", element=[x,y])</answer>``.

Replies are parsed with :mod:`ast` (never ``eval``): the answer must be one call of ``do(...)`` or
``finish(...)`` whose keyword arguments are plain literals. Parsing is tolerant of what models
really send (missing tags, a trailing ``</answer>``, code fences, prose before the call, action
names with other spacing or case) and strict about meaning (names, types, 0-999 ranges, one action).
Whatever its characters, a reply gives an action or an :class:`ActionParseError`, in work bounded by
``MAX_ANSWER_CHARS`` however long the reply: halves of UTF-16 surrogate pairs are mended first.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass

from pydantic import ValidationError

from actions.models import ACTION_ADAPTER, ACTION_TYPES, Action, Finish

_FENCE = re.compile(r"```[a-zA-Z]*\n?|```")
_ANSWER = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.DOTALL)
_CALL_START = re.compile(r"\b(?:do|finish)\s*\(")
_TAGS = re.compile(r"</?(?:think|answer)>")
_NAME_BEFORE = re.compile(r"\b(?:do|finish)\s*\Z")

# Far more than any real action (a long Type text included); bounds the parsing work per reply.
MAX_ANSWER_CHARS = 20_000


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
    text = _FENCE.sub("", mend_surrogates(reply))
    answer_match = _ANSWER.search(text)
    if not answer_match:
        return _parse_untagged(text)
    answer = answer_match.group(1)
    thinking = text[: answer_match.start()]
    opened = thinking.find("<think>")
    if opened != -1:  # the thinking runs to </think>, else up to the answer
        closed = thinking.find("</think>", opened)
        thinking = thinking[opened + len("<think>") : closed if closed != -1 else None]
    thinking = _TAGS.sub("", thinking).strip()
    answer = _TAGS.sub("", answer).strip()
    return ParsedReply(thinking=thinking, answer=answer, action=parse_action(answer))


def mend_surrogates(text: str) -> str:
    """Join surrogate pairs into the characters they encode and replace lone surrogates with U+FFFD.

    A stream that splits an emoji's UTF-16 pair across two chunks yields such halves; they cannot be
    encoded as UTF-8, so no file, terminal or request could take them.
    """
    try:
        text.encode("utf-8")  # fast, and fails exactly on surrogates
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def _parse_untagged(text: str) -> ParsedReply:
    """A reply without <answer>: the action is the call that ends it (after any </think>).

    The reasoning may itself say "do (" or "finish (", so the call is found from the end, as the one
    whose "(" the last ")" closes; only the last MAX_ANSWER_CHARS are looked at, so a rambling reply
    costs no more than a short one. A call directly before it makes several actions, an error.
    """
    cut = text.rfind("</think>")
    head, body = (text[: cut + len("</think>")], text[cut + len("</think>") :]) if cut != -1 else ("", text)
    body = _TAGS.sub("", body).rstrip()
    floor = max(0, len(body) - MAX_ANSWER_CHARS)
    start = _closing_call(body, floor, len(body))
    if start is None:
        # No call closes the reply: the last one near the end is the attempt to complain about.
        near_end = [match.start() for match in _CALL_START.finditer(body, floor)]
        if not near_end:
            raise _too_long_error() if _CALL_START.search(body) else _no_action_error()
        start = near_end[-1]
    else:
        _reject_a_call_before(body, floor, start)
    answer = body[start:]
    return ParsedReply(thinking=_TAGS.sub("", head + body[:start]).strip(), answer=answer, action=parse_action(answer))


def _reject_a_call_before(body: str, floor: int, start: int) -> None:
    """Raise if the call at ``start`` directly follows another, as in ``do(...); do(...)``."""
    previous = _closing_call(body, floor, len(body[:start].rstrip(" \t\r\n;,")))
    if previous is None:
        return
    try:
        parse_action(body[previous:])
    except _SeveralActions:
        raise
    except ActionParseError:
        return  # not a clean sequence of calls: the last call stands alone


def _closing_call(text: str, floor: int, end: int) -> int | None:
    """Where the do/finish call starts whose "(" the ")" at ``end - 1`` closes; None if there is none.

    Scans backwards from ``end`` to ``floor``, counting brackets and jumping over quoted strings.
    """
    if end <= floor or text[end - 1] != ")":
        return None
    depth = 0
    index = end - 1
    while index >= floor:
        char = text[index]
        if char in "\"'":
            index = _string_opening(text, floor, index)
            if index < 0:
                return None
        elif char in ")]}":
            depth += 1
        elif char in "([{":
            depth -= 1
            if depth == 0:
                name = _NAME_BEFORE.search(text, max(floor, index - 40), index)
                return name.start() if name and char == "(" else None
        index -= 1
    return None


def _string_opening(text: str, floor: int, closing: int) -> int:
    """The index of the quote that opens the string closed at ``closing``, or -1."""
    quote = text[closing]
    index = closing
    while True:
        index = text.rfind(quote, floor, index)
        backslashes = 0
        while index - backslashes - 1 >= floor and text[index - backslashes - 1] == "\\":
            backslashes += 1
        if index < 0 or backslashes % 2 == 0:
            return index


def _no_action_error() -> ActionParseError:
    return ActionParseError(
        "Your reply contains no action. End it with exactly one action inside "
        '<answer></answer>, for example <answer>do(action="Tap", element=[500, 500])</answer> '
        'or <answer>finish(message="...")</answer>.'
    )


def _too_long_error() -> ActionParseError:
    return ActionParseError(
        f"Your action is longer than {MAX_ANSWER_CHARS:,} characters. Give one short action "
        'inside <answer></answer>, for example <answer>do(action="Back")</answer>.'
    )


def parse_action(answer: str) -> Action:
    """Parse one ``do(...)`` or ``finish(...)`` call.

    Raises:
        ActionParseError: as for :func:`parse_reply`.
    """
    if len(answer) > MAX_ANSWER_CHARS:
        raise _too_long_error()
    call = _single_call(mend_surrogates(answer))
    func = call.func.id if isinstance(call.func, ast.Name) else None
    if func not in ("do", "finish"):
        raise ActionParseError(f"Unknown call {_shown(call.func)}. Use do(action=...) or finish(message=...).")
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
    # Models sometimes put raw line breaks inside a quoted text argument: the second try escapes them.
    for source in (answer, answer.replace("\r\n", "\\n").replace("\n", "\\n")):
        try:
            with warnings.catch_warnings():
                # "Invalid escape sequence": a DeprecationWarning or SyntaxWarning by version; not ours to print.
                warnings.simplefilter("ignore")
                return ast.parse(source, mode="exec")
        except (SyntaxError, ValueError):
            continue
        except (RecursionError, MemoryError):
            raise ActionParseError("Your answer is nested too deeply. Give one simple action.") from None
    raise ActionParseError(
        f"Your answer {answer[:120]!r} is not valid syntax. Write one call such as "
        'do(action="Type", text="hello") with strings in double quotes and \\" for a quote inside.'
    )


def _shown(node: ast.expr) -> str:
    """The node as source for an error message, shortened; a node too deep to write back is not shown."""
    try:
        return repr(ast.unparse(node)[:60])
    except (RecursionError, MemoryError, ValueError):
        return "(an expression nested too deeply to show)"


def _literal(node: ast.expr, name: str) -> object:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise ActionParseError(
            f"The argument {name}= must be a plain value (a quoted string or [x, y] numbers), not {_shown(node)}."
        ) from None
    if isinstance(value, set | frozenset | dict):
        raise ActionParseError(
            f"The argument {name}= must be a quoted string or a list like [x, y], not a set or dict."
        )
    if isinstance(value, str):
        return mend_surrogates(value)  # an escape such as "\\ud83d" in the literal makes a lone half
    # Models write points as [x, y]; the models hold tuples.
    return tuple(value) if isinstance(value, list) else value


def _action_name(raw: object) -> str:
    if not isinstance(raw, str):
        raise ActionParseError(f'do() needs action="..." naming one of: {_VALID_NAMES}.')
    name = _NAMES_BY_FOLD.get(_fold(raw))
    if name is None:
        raise ActionParseError(f'Unknown action "{raw[:60]}". Use one of: {_VALID_NAMES}, or finish(message=...).')
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
