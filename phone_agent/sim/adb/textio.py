"""What the text tools share: reading files or stdin as toybox does, and POSIX regexes in Python's `re`."""

from __future__ import annotations

import re
import string

from phone_agent.sim.adb.command_io import CommandIO
from phone_agent.sim.adb.fs import FsError

# The POSIX character classes, as the characters they hold in the C locale (in order, for `tr`).
CLASSES = {
    "upper": string.ascii_uppercase, "lower": string.ascii_lowercase, "alpha": string.ascii_letters,
    "digit": string.digits, "alnum": string.digits + string.ascii_letters, "xdigit": string.hexdigits,
    "space": " \t\n\r\f\v", "blank": " \t", "punct": string.punctuation,
    "cntrl": "".join(map(chr, range(32))) + "\x7f",
    "print": "".join(map(chr, range(32, 127))), "graph": "".join(map(chr, range(33, 127))),
}
_BRE_OPERATORS = "(){}|+?"
_PYTHON_ESCAPES = "wWsSdDbBnt"


def read_inputs(io: CommandIO, names: list[str], tool: str) -> tuple[bytes, bool]:
    """The named files (stdin for none or `-`) joined; a missing one is reported and skipped, ok turns False."""
    if not names:
        return io.read_stdin(), True
    chunks, ok = [], True
    for name in names:
        try:
            chunks.append(io.read_stdin() if name == "-" else
                          io.session.fs.read(io.session.fs.normalize(name, io.session.cwd)))
        except FsError as exc:
            io.fail(f"{tool}: {name}: {exc.strerror}")
            ok = False
    return b"".join(chunks), ok


def text_lines(data: bytes) -> tuple[list[str], bool]:
    """Lines without their newlines, and whether the last one ended with one (bytes kept via surrogates)."""
    text = data.decode("utf-8", "surrogateescape")
    lines = text.split("\n")
    ended = lines[-1] == ""
    return (lines[:-1] if ended else lines), ended


def encode(text: str) -> bytes:
    """Text back to the bytes it was read from."""
    return text.encode("utf-8", "surrogateescape")


def _bracket(pattern: str, start: int) -> tuple[str, int] | None:
    """A bracket expression at `start` as a Python class and the index after it; None when it never closes."""
    index = start + 1
    negate = pattern.startswith("^", index)
    index += negate
    members: list[str] = []
    if pattern.startswith("]", index):
        members.append("\\]")
        index += 1
    while index < len(pattern) and pattern[index] != "]":
        if pattern.startswith("[:", index) and ":]" in pattern[index:]:
            end = pattern.index(":]", index)
            members.extend(re.escape(char) for char in CLASSES.get(pattern[index + 2 : end], ""))
            index = end + 2
            continue
        char = pattern[index]
        members.append(char if char == "-" else re.escape(char))
        index += 1
    if index >= len(pattern):
        return None
    return "[" + "^" * negate + "".join(members) + "]", index + 1


def python_regex(pattern: str, extended: bool) -> str:
    """Translate a POSIX regex (basic unless `extended`) to Python's syntax.

    In a basic regex `\\(`, `\\)`, `\\{`, `\\}` (and GNU's `\\|`, `\\+`, `\\?`) are the operators and the bare
    characters are literal; `^` anchors only at the start and a leading `*` is literal.
    """
    result: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        at_start = not result or result[-1] in ("(", "|", "^")
        if char == "[" and (bracket := _bracket(pattern, index)) is not None:
            result.append(bracket[0])
            index = bracket[1]
            continue
        index += 1
        if char == "\\" and index < len(pattern):
            following = pattern[index]
            index += 1
            if following in _BRE_OPERATORS and not extended:
                result.append(following)
            elif following in "<>":
                result.append("\\b")
            elif following.isdigit() or following in _PYTHON_ESCAPES:
                result.append("\\" + following)
            else:
                result.append(re.escape(following))
        elif char in _BRE_OPERATORS and not extended:
            result.append("\\" + char)
        elif char == "*" and at_start:
            result.append("\\*")
        elif char == "^" and not extended and not at_start:
            result.append("\\^")
        elif char == "$" and not extended and index < len(pattern) and not pattern.startswith("\\)", index):
            result.append("\\$")
        else:
            result.append(re.escape(char) if char in "[]" else char)
    return "".join(result)


def compile_regex(io: CommandIO, tool: str, pattern: str, *, extended: bool,
                  flags: int = 0) -> re.Pattern[str] | None:
    """A compiled POSIX regex, or None after reporting it as `tool: bad regex`."""
    try:
        return re.compile(python_regex(pattern, extended), flags)
    except re.error as exc:
        io.fail(f"{tool}: bad regex '{pattern}': {exc}")
        return None
