"""`sed` as toybox has it, the subset scripts use: addresses, ranges, `!`, `{…}`, and `s p d q =`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from phone_agent.sim.adb.command_io import CommandIO
from phone_agent.sim.adb.fs import FsError
from phone_agent.sim.adb.textio import encode, python_regex, read_inputs, text_lines

Address = int | re.Pattern[str]  # a line number, -1 for `$`, or a regex
_ESCAPES = {"n": "\n", "t": "\t"}


class SedError(Exception):
    """The script does not parse; the message is what toybox prints after `sed: `."""


@dataclass
class Substitution:
    """`s/RE/REPLACEMENT/FLAGS`: the replacement as literal text and group numbers."""

    regex: re.Pattern[str]
    pieces: list[str | int]
    every: bool
    nth: int
    echo: bool

    def apply(self, line: str) -> tuple[str, bool]:
        """The line with the chosen matches replaced, and whether any was."""
        result, last, count, done = [], 0, 0, False
        for match in self.regex.finditer(line):
            count += 1
            if count < self.nth:
                continue
            result.append(line[last : match.start()])
            result.extend(piece if isinstance(piece, str) else match.group(piece) or "" for piece in self.pieces)
            last, done = match.end(), True
            if not self.every:
                break
        return "".join(result) + line[last:], done


@dataclass
class Step:
    """One command with its addresses; `end` is where a `{` block's `}` is."""

    name: str
    first: Address | None = None
    last: Address | None = None
    negate: bool = False
    substitution: Substitution | None = None
    exit_code: int = 0
    end: int = 0
    active: bool = field(default=False, compare=False)


class _Parser:
    """Reads a sed script into steps."""

    def __init__(self, script: str, extended: bool) -> None:
        self.text, self.pos, self.extended = script, 0, extended

    def fail(self, start: int) -> SedError:
        shown = self.text[self.pos] if self.pos < len(self.text) else ""
        return SedError(f"bad pattern '{self.text[start:]}'@{self.pos - start + 1} ({shown})")

    def regex(self, pattern: str, flags: int = 0) -> re.Pattern[str]:
        try:
            return re.compile(python_regex(pattern, self.extended), flags)
        except re.error as exc:
            raise SedError(f"bad regex '{pattern}': {exc}") from None

    def delimited(self, delimiter: str, start: int, regex: bool) -> str:
        """Text up to an unescaped delimiter (which `\\` makes literal), the delimiter skipped."""
        out: list[str] = []
        in_class = False
        while True:
            if self.pos >= len(self.text):
                raise self.fail(start)
            char = self.text[self.pos]
            if char == delimiter and not in_class:
                self.pos += 1
                return "".join(out)
            if char == "\\" and self.pos + 1 < len(self.text):
                following = self.text[self.pos + 1]
                if following == delimiter:
                    out.append(following if regex or following not in "&\\" else "\\" + following)
                elif following in _ESCAPES and regex:
                    out.append(_ESCAPES[following])
                else:
                    out.append(char + following)
                self.pos += 2
                continue
            if regex:
                in_class = (char == "[") or (in_class and char != "]")
            out.append(char)
            self.pos += 1

    def address(self, start: int) -> Address | None:
        text = self.text
        if self.pos < len(text) and text[self.pos].isdigit():
            digits = re.match(r"\d+", text[self.pos :])
            assert digits is not None
            self.pos += len(digits[0])
            return int(digits[0])
        if text.startswith("$", self.pos):
            self.pos += 1
            return -1
        if text.startswith(("/", "\\"), self.pos):
            self.pos += 2 if text[self.pos] == "\\" else 1
            return self.regex(self.delimited(text[self.pos - 1], start, regex=True))
        return None

    def skip(self, chars: str) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1

    def steps(self) -> list[Step]:
        steps: list[Step] = []
        blocks: list[int] = []
        while True:
            self.skip(" \t\n;")
            if self.pos >= len(self.text):
                break
            start = self.pos
            step = Step("")
            step.first = self.address(start)
            if step.first is not None and self.text.startswith(",", self.pos):
                self.pos += 1
                step.last = self.address(start)
                if step.last is None:
                    raise self.fail(start)
            self.skip(" \t")
            while self.text.startswith("!", self.pos):
                step.negate = True
                self.pos += 1
                self.skip(" \t")
            if self.pos >= len(self.text):
                raise self.fail(start)
            step.name = self.text[self.pos]
            self.pos += 1
            if step.name == "{":
                blocks.append(len(steps))
            elif step.name == "}":
                if not blocks or step.first is not None:
                    raise self.fail(start)
                steps[blocks.pop()].end = len(steps)
            elif step.name == "s":
                step.substitution = self.substitution(start)
            elif step.name == "q":
                digits = re.match(r"\s*(\d*)", self.text[self.pos :])
                assert digits is not None
                self.pos += len(digits[0])
                step.exit_code = int(digits[1] or 0)
            elif step.name not in "pd=":
                raise self.fail(start)
            steps.append(step)
        if blocks:
            raise SedError("no }")
        return steps

    def substitution(self, start: int) -> Substitution:
        if self.pos >= len(self.text) or self.text[self.pos] in "\\\n":
            raise self.fail(start)
        delimiter = self.text[self.pos]
        self.pos += 1
        pattern = self.delimited(delimiter, start, regex=True)
        replacement = self.delimited(delimiter, start, regex=False)
        flags = re.match(r"[gpiI\d]*", self.text[self.pos :])
        assert flags is not None
        self.pos += len(flags[0])
        regex = self.regex(pattern, re.IGNORECASE if set(flags[0]) & {"i", "I"} else 0)
        pieces = _replacement(replacement, regex.groups)
        nth = int("".join(char for char in flags[0] if char.isdigit()) or 1)
        return Substitution(regex, pieces, "g" in flags[0], nth, "p" in flags[0])


def _replacement(text: str, groups: int) -> list[str | int]:
    """`&` and `\\1`…`\\9` as group numbers, `\\n` `\\t` as the characters, other escapes literal."""
    pieces: list[str | int] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "&":
            pieces.append(0)
        elif char == "\\" and index + 1 < len(text):
            index += 1
            following = text[index]
            if following.isdigit():
                if int(following) > groups:
                    raise SedError(f"no s//\\{following}/")
                pieces.append(int(following))
            else:
                pieces.append(_ESCAPES.get(following, following))
        else:
            pieces.append(char)
        index += 1
    return pieces


def _matches(address: Address, number: int, line: str, last_line: bool) -> bool:
    if isinstance(address, int):
        return last_line if address == -1 else number == address
    return address.search(line) is not None


def _selects(step: Step, number: int, line: str, last_line: bool) -> bool:
    """Whether a step's addresses select this line (a range remembers that it is open)."""
    if step.first is None:
        hit = True
    elif step.last is None:
        hit = _matches(step.first, number, line, last_line)
    elif step.active:
        hit = True
        ends = (number >= step.last) if isinstance(step.last, int) and step.last != -1 else \
            _matches(step.last, number, line, last_line)
        step.active = not ends
    else:
        hit = _matches(step.first, number, line, last_line)
        if hit and isinstance(step.last, int) and step.last != -1:
            step.active = step.last > number
        elif hit:
            step.active = True
    return hit != step.negate


@dataclass
class _Run:
    """One pass of the steps over a stream of lines."""

    steps: list[Step]
    quiet: bool
    output: list[str] = field(default_factory=list)
    quit_code: int | None = None

    def lines(self, lines: list[str]) -> str:
        """Run over a stream's lines; the output, lines joined by newlines."""
        for number, line in enumerate(lines, 1):
            self.line(line, number, number == len(lines))
            if self.quit_code is not None:
                break
        return "\n".join(self.output)

    def line(self, line: str, number: int, last_line: bool) -> None:
        index = 0
        while index < len(self.steps):
            step = self.steps[index]
            index += 1
            if step.name == "}":
                continue
            if not _selects(step, number, line, last_line):
                index = step.end + 1 if step.name == "{" else index
                continue
            if step.name == "p":
                self.output.append(line)
            elif step.name == "=":
                self.output.append(str(number))
            elif step.name == "d":
                return
            elif step.name == "q":
                self.quit_code = step.exit_code
                break
            elif step.substitution is not None:
                line, done = step.substitution.apply(line)
                if done and step.substitution.echo:
                    self.output.append(line)
        if not self.quiet:
            self.output.append(line)


def _options(args: list[str]) -> tuple[set[str], list[str], list[str]]:
    """Flags, `-e` scripts and operands (options may follow operands, as toybox allows)."""
    flags: set[str] = set()
    scripts: list[str] = []
    operands: list[str] = []
    queue = list(args)
    while queue:
        arg = queue.pop(0)
        if arg == "--":
            operands.extend(queue)
            break
        if not arg.startswith("-") or arg == "-":
            operands.append(arg)
            continue
        for index, char in enumerate(arg[1:], 1):
            if char == "e":
                if arg[index + 1 :]:
                    scripts.append(arg[index + 1 :])
                elif queue:
                    scripts.append(queue.pop(0))
                else:
                    raise SedError("-e needs an argument")
                break
            if char not in "nErsi":
                raise SedError(f"Unknown option '{char}'")
            flags.add("E" if char == "r" else char)
    return flags, scripts, operands


def sed_command(io: CommandIO, args: list[str]) -> int:
    """`sed [-nEi] [-e SCRIPT]… [SCRIPT] [FILE…]`."""
    try:
        flags, scripts, operands = _options(args)
        if not scripts:
            if not operands:
                raise SedError("no pattern")
            scripts.append(operands.pop(0))
        steps = _Parser("\n".join(scripts), "E" in flags).steps()
    except SedError as exc:
        return io.fail(f"sed: {exc}")
    if "i" in flags:
        return _in_place(io, steps, "n" in flags, operands)
    data, ok = read_inputs(io, operands, "sed")
    lines, ended = text_lines(data)
    run = _Run(steps, "n" in flags)
    text = run.lines(lines)
    io.out(encode(text + "\n" if run.output and (ended or run.quit_code is not None) else text))
    return run.quit_code or (0 if ok else 1)


def _in_place(io: CommandIO, steps: list[Step], quiet: bool, names: list[str]) -> int:
    """`sed -i`: each file is edited separately and written back."""
    if not names:
        return io.fail("sed: -i on stdin")
    status = 0
    for name in names:
        data, ok = read_inputs(io, [name], "sed")
        if not ok:
            status = 1
            continue
        lines, ended = text_lines(data)
        run = _Run(steps, quiet)
        text = run.lines(lines) + ("\n" if run.output and ended else "")
        try:
            io.session.fs.write(io.session.fs.normalize(name, io.session.cwd), encode(text))
        except FsError as exc:
            status = io.fail(f"sed: {name}: {exc.strerror}")
    return status
