"""awk's values: numbers, strings and input text that compares as a number, and the built-ins that only compute."""

from __future__ import annotations

import math
import re
from typing import Any

from phone_agent.sim.adb.awk_syntax import AwkError

Value = float | str
_NUMBER = re.compile(r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_FORMAT = re.compile(r"%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?([a-zA-Z%])")


class StrNum(str):
    """Input text (a field, `-v` value): compares as a number when it looks like one."""


def number(value: Value) -> float:
    """awk's numeric value: a string's leading number, else 0."""
    if isinstance(value, float):
        return value
    match = _NUMBER.match(value)
    return float(match[0]) if match else 0.0


def text(value: Value) -> str:
    """awk's string value: integers without a fraction, other numbers as %.6g."""
    if isinstance(value, str):
        return value
    return str(int(value)) if math.isfinite(value) and value == int(value) and abs(value) < 1e16 \
        else f"{value:.6g}"


def numeric(value: Value) -> bool:
    return isinstance(value, float) or (isinstance(value, StrNum) and
                                        (value == "" or _NUMBER.fullmatch(value.strip()) is not None))


def truth(value: Value) -> bool:
    return number(value) != 0 if numeric(value) else value != ""


def printf(values: list[Value]) -> str:
    """printf's format (the first value) applied to the rest."""
    arguments = iter(values[1:])

    def convert(match: re.Match[str]) -> str:
        flags, width, precision, conversion = match.groups()
        if conversion == "%":
            return "%"
        width = text(next(arguments, 0.0)).split(".")[0] if width == "*" else width
        spec = "%" + flags + (width or "") + (f".{precision}" if precision else "")
        value = next(arguments, "")
        if conversion in "di":
            return (spec + "d") % int(number(value))
        if conversion in "oxXu":
            return (spec + conversion.replace("u", "d")) % int(number(value))
        if conversion in "eEfFgG":
            return (spec + conversion) % number(value)
        if conversion == "c":
            return (spec + "s") % (chr(int(value)) if isinstance(value, float) else value[:1])
        return (spec + "s") % text(value)

    return _FORMAT.sub(convert, text(values[0]))


def pure(name: str, values: list[Value]) -> Value:
    """The built-ins that only compute: substr, index, tolower, toupper, int."""
    subject = text(values[0]) if values else ""
    if name == "substr":
        start = round(number(values[1]))
        end = len(subject) + 1 if len(values) < 3 else start + round(number(values[2]))
        return subject[max(start, 1) - 1 : max(end - 1, 0)]
    if name == "index":
        return float(subject.find(text(values[1])) + 1)
    if name in ("tolower", "toupper"):
        return subject.lower() if name == "tolower" else subject.upper()
    return float(math.trunc(number(values[0]))) if values else 0.0


def arithmetic(operator: str, left: float, right: float) -> float:
    """`left OP right` for + - * / % ^ (dividing by zero is an error, as in awk)."""
    if operator in "/%" and right == 0:
        raise AwkError("division by zero" + (" in %" if operator == "%" else ""))
    if operator == "^":
        try:
            return math.pow(left, right)
        except (OverflowError, ValueError):
            return math.inf if left > 0 else math.nan
    return {"+": float.__add__, "-": float.__sub__, "*": float.__mul__, "/": float.__truediv__,
            "%": math.fmod}[operator](left, right)


def compare(operator: str, left: Value, right: Value) -> bool:
    """Numbers when both sides are numeric, else strings, as POSIX awk compares."""
    if numeric(left) and numeric(right):
        a: Any = number(left)
        b: Any = number(right)
    else:
        a, b = text(left), text(right)
    return {"<": a < b, "<=": a <= b, "==": a == b, "!=": a != b, ">": a > b, ">=": a >= b}[operator]
