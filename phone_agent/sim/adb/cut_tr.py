"""`cut` (fields, characters, bytes) and `tr` (translate, delete, squeeze) as toybox has them."""

from __future__ import annotations

import re
from typing import TypeVar

from phone_agent.sim.adb.command_io import CommandIO
from phone_agent.sim.adb.textio import CLASSES, encode, read_inputs, text_lines

Item = TypeVar("Item")


def _ranges(spec: str) -> list[tuple[int, int]] | None:
    """`1,3-5,7-` as inclusive 1-based (first, last) pairs; None when malformed."""
    ranges = []
    for item in spec.split(","):
        match = re.fullmatch(r"(\d*)(-?)(\d*)", item)
        if match is None or not (match[1] or match[3]):
            return None
        first = int(match[1] or 1)
        last = int(match[3]) if match[3] else (first if not match[2] else 1 << 31)
        if first < 1 or last < first:
            return None
        ranges.append((first, last))
    return ranges


def _pick(items: list[Item], ranges: list[tuple[int, int]]) -> list[Item]:
    """The items whose 1-based position falls in a range, in their own order."""
    return [item for number, item in enumerate(items, 1) if any(first <= number <= last for first, last in ranges)]


def cut_command(io: CommandIO, args: list[str]) -> int:
    """`cut -f LIST [-d DELIM] [-s] | -c LIST | -b LIST [FILE…]`."""
    options: dict[str, str] = {}
    only_delimited = False
    names: list[str] = []
    queue = list(args)
    while queue:
        arg = queue.pop(0)
        if arg == "-s":
            only_delimited = True
        elif len(arg) >= 2 and arg[0] == "-" and arg[1] in "bcdf":
            value = arg[2:] or (queue.pop(0) if queue else None)
            if value is None:
                return io.fail(f"cut: Missing argument to -{arg[1]}")
            options[arg[1]] = value
        elif arg.startswith("-") and arg != "-":
            return io.fail(f"cut: Unknown option '{arg}'")
        else:
            names.append(arg)
    modes = [mode for mode in "bcf" if mode in options]
    if len(modes) != 1:
        return io.fail("cut: Needs -bcf" if not modes else "cut: -b, -c and -f are exclusive")
    ranges = _ranges(options[modes[0]])
    if ranges is None:
        return io.fail(f"cut: bad list '{options[modes[0]]}'")
    delimiter = options.get("d", "\t")
    if len(delimiter) != 1:
        return io.fail(f"cut: -d '{delimiter}' must be 1 character")
    data, ok = read_inputs(io, names, "cut")
    lines, _ = text_lines(data)
    out = []
    for line in lines:
        if modes[0] == "b":
            out.append(bytes(_pick(list(encode(line)), ranges)))
        elif modes[0] == "c":
            out.append(encode("".join(_pick(list(line), ranges))))
        elif delimiter in line:
            out.append(encode(delimiter.join(_pick(line.split(delimiter), ranges))))
        elif not only_delimited:
            out.append(encode(line))
    io.out(b"".join(line + b"\n" for line in out))
    return 0 if ok else 1


_TR_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _tr_set(spec: str) -> str:
    """A tr set's characters in order: escapes, `a-z` ranges and `[:class:]` expanded."""
    chars: list[str] = []
    index = 0
    while index < len(spec):
        klass = re.match(r"\[:(\w+):\]", spec[index:])
        if klass and klass[1] in CLASSES:
            chars.extend(CLASSES[klass[1]])
            index += len(klass[0])
            continue
        char, index = _tr_char(spec, index)
        if spec.startswith("-", index) and index + 1 < len(spec):
            last, index = _tr_char(spec, index + 1)
            chars.extend(map(chr, range(ord(char), ord(last) + 1)))
        else:
            chars.append(char)
    return "".join(chars)


def _tr_char(spec: str, index: int) -> tuple[str, int]:
    """One character of a set (an escape or octal `\\NNN` read as one) and the index after it."""
    if spec[index] != "\\" or index + 1 >= len(spec):
        return spec[index], index + 1
    octal = re.match(r"[0-7]{1,3}", spec[index + 1 :])
    if octal:
        return chr(int(octal[0], 8)), index + 1 + len(octal[0])
    return _TR_ESCAPES.get(spec[index + 1], spec[index + 1]), index + 2


def tr_command(io: CommandIO, args: list[str]) -> int:
    """`tr [-cds] SET1 [SET2]` over stdin, byte by byte."""
    flags: set[str] = set()
    sets: list[str] = []
    for arg in args:
        if arg.startswith("-") and len(arg) > 1 and not sets and set(arg[1:]) <= set("cCds"):
            flags.update(arg[1:].replace("C", "c"))
        else:
            sets.append(arg)
    if not sets:
        return io.fail("tr: Needs 1 argument")
    if len(sets) > 2:
        return io.fail("tr: Max 2 arguments")
    # Translating, and deleting then squeezing, take two sets; deleting or squeezing alone one.
    wanted = 2 if not flags & {"d", "s"} or flags >= {"d", "s"} else 1
    if len(sets) < wanted:
        return io.fail(f"tr: Needs {wanted} arguments")
    translating = "d" not in flags and len(sets) > 1
    first = _tr_set(sets[0])
    if "c" in flags:
        first = "".join(chr(code) for code in range(256) if chr(code) not in first)
    second = _tr_set(sets[1]) if len(sets) > 1 else ""
    # Bytes as latin-1 characters: tr works on bytes, whatever the encoding.
    text = io.read_stdin().decode("latin-1")
    if "d" in flags:
        text = text.translate({ord(char): None for char in first})
    elif translating:
        if not second:
            return io.fail("tr: Needs 2 arguments")
        padded = second + second[-1] * max(0, len(first) - len(second))
        text = text.translate({ord(char): padded[index] for index, char in enumerate(first)})
    if "s" in flags:
        squeeze = second if len(sets) > 1 else first
        text = re.sub("([" + "".join(re.escape(char) for char in squeeze) + "])\\1+", r"\1", text) \
            if squeeze else text
    io.out(text.encode("latin-1", "replace"))
    return 0
