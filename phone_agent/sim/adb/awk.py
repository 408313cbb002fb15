"""`awk` for the virtual phone: the subset testers use (`-F`, `-v`, patterns, BEGIN/END, print, printf, fields)."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from phone_agent.sim.adb.awk_syntax import AwkError, Parser, Tree, unescape
from phone_agent.sim.adb.awk_values import StrNum, Value, arithmetic, compare, number, printf, pure, text, truth
from phone_agent.sim.adb.command_io import CommandIO
from phone_agent.sim.adb.fs import FsError
from phone_agent.sim.adb.textio import encode, python_regex, read_inputs, text_lines


class _Next(Exception):
    pass


class _Exit(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Awk:
    """One run of a program: variables, arrays, the current record, output."""

    def __init__(self, io: CommandIO, program: list[tuple[str, Any, list[Tree] | None]]) -> None:
        """Prepare to run a parsed program."""
        self.io = io
        self.program = program
        self.vars: dict[str, Value] = {"FS": " ", "OFS": " ", "ORS": "\n", "NR": 0.0, "FNR": 0.0,
                                       "SUBSEP": "\x1c", "RSTART": 0.0, "RLENGTH": -1.0, "FILENAME": ""}
        self.arrays: dict[str, dict[str, Value]] = {}
        self.fields: list[str] = [""]
        self.ranges: dict[int, bool] = {}
        self.regexes: dict[str, re.Pattern[str]] = {}
        self.opened: set[str] = set()

    # ------------------------------------------------------------ records and fields

    def set_record(self, record: str) -> None:
        separator = text(self.vars["FS"])
        if separator == " ":
            parts = record.split()
        elif record == "":
            parts = []
        elif len(separator) == 1 and separator != "\\":
            parts = record.split(separator)
        else:
            parts = self.regex(separator).split(record)
        self.fields = [record, *parts]

    def set_field(self, index: int, value: str) -> None:
        if index == 0:
            self.set_record(value)
            return
        self.fields.extend([""] * (index + 1 - len(self.fields)))
        self.fields[index] = value
        self.fields[0] = text(self.vars["OFS"]).join(self.fields[1:])

    def regex(self, pattern: str) -> re.Pattern[str]:
        if pattern not in self.regexes:
            try:
                self.regexes[pattern] = re.compile(python_regex(pattern, extended=True))
            except re.error as exc:
                raise AwkError(f"bad regex '{pattern}': {exc}") from None
        return self.regexes[pattern]

    # ------------------------------------------------------------ running

    def run(self, data: bytes) -> int:
        """Run BEGIN, every record, then END; the exit status."""
        status = 0
        try:
            for kind, _, action in self.program:
                if kind == "BEGIN":
                    self.execute(action or [])
            if any(kind != "BEGIN" for kind, _, _ in self.program):
                for record in text_lines(data)[0]:
                    self.vars["NR"] = number(self.vars["NR"]) + 1
                    self.vars["FNR"] = number(self.vars["FNR"]) + 1
                    self.set_record(record)
                    with contextlib.suppress(_Next):
                        self.record()
        except _Exit as exc:
            status = exc.status
        try:
            for kind, _, action in self.program:
                if kind == "END":
                    self.execute(action or [])
        except _Exit as exc:
            status = exc.status
        return status

    def record(self) -> None:
        for index, (kind, pattern, action) in enumerate(self.program):
            if kind == "main" and self.selects(index, pattern):
                self.execute(action if action is not None else [("print", [], None)])

    def selects(self, index: int, pattern: Any) -> bool:
        if pattern is None:
            return True
        if isinstance(pattern[0], tuple):  # a range: on from a start match through an end match
            if not self.ranges.get(index) and not truth(self.eval(pattern[0])):
                return False
            self.ranges[index] = not truth(self.eval(pattern[1]))
            return True
        return truth(self.eval(pattern))

    def execute(self, statements: list[Tree]) -> None:
        for statement in statements:
            self.statement(statement)

    def statement(self, node: Tree) -> None:
        kind = node[0]
        if kind == "expr":
            self.eval(node[1])
        elif kind in ("print", "printf"):
            values = [self.eval(arg) for arg in node[1]]
            if kind == "printf":
                out = printf(values)
            else:
                shown = [text(value) for value in values] if values else [self.fields[0]]
                out = text(self.vars["OFS"]).join(shown) + text(self.vars["ORS"])
            self.write(out, node[2])
        elif kind == "block":
            self.execute(node[1])
        elif kind == "if":
            branch = node[2] if truth(self.eval(node[1])) else node[3]
            if branch is not None:
                self.statement(branch)
        elif kind in ("while", "for"):
            self.loop(node)
        elif kind == "forin":
            for key in list(self.arrays.get(node[2], {})):
                self.assign(("var", node[1]), key)
                try:
                    self.statement(node[3])
                except _Break:
                    break
                except _Continue:
                    continue
        elif kind == "delete":
            array = self.arrays.setdefault(node[1], {})
            if node[2] is None:
                array.clear()
            else:
                array.pop(self.key(node[2]), None)
        elif kind == "exit":
            raise _Exit(int(number(self.eval(node[1]))) if node[1] is not None else 0)
        else:
            raise {"next": _Next, "break": _Break, "continue": _Continue}[kind]()

    def loop(self, node: Tree) -> None:
        if node[0] == "for" and node[1] is not None:
            self.eval(node[1])
        condition, body = (node[1], node[2]) if node[0] == "while" else (node[2], node[4])
        while condition is None or truth(self.eval(condition)):
            try:
                self.statement(body)
            except _Break:
                break
            except _Continue:
                pass
            if node[0] == "for" and node[3] is not None:
                self.eval(node[3])

    def write(self, out: str, redirect: Tree | None) -> None:
        if redirect is None:
            self.io.out(encode(out))
            return
        path = self.io.session.fs.normalize(text(self.eval(redirect[1])), self.io.session.cwd)
        try:
            self.io.session.fs.write(path, encode(out), append=redirect[0] == ">>" or path in self.opened)
        except FsError as exc:
            raise AwkError(f"can't redirect to {path}: {exc.strerror}") from None
        self.opened.add(path)

    # ------------------------------------------------------------ expressions

    def key(self, subscripts: list[Tree]) -> str:
        return text(self.vars["SUBSEP"]).join(text(self.eval(item)) for item in subscripts)

    def lookup(self, name: str) -> Value:
        if name == "NF":
            return float(len(self.fields) - 1)
        if name in self.arrays:
            raise AwkError(f"can't use array {name} in scalar context")
        return self.vars.get(name, StrNum(""))

    def assign(self, target: Tree, value: Value) -> Value:
        if target[0] == "var":
            if target[1] == "NF":
                count = int(number(value))
                self.fields = self.fields[: count + 1] + [""] * (count + 1 - len(self.fields))
                self.fields[0] = text(self.vars["OFS"]).join(self.fields[1:])
            else:
                self.vars[target[1]] = value
        elif target[0] == "field":
            self.set_field(int(number(self.eval(target[1]))), text(value))
        else:
            self.arrays.setdefault(target[1], {})[self.key(target[2])] = value
        return value

    def eval(self, node: Tree) -> Value:
        kind = node[0]
        if kind == "num":
            return float(node[1])
        if kind == "str":
            return str(node[1])
        if kind == "regex":
            return float(self.regex(node[1]).search(self.fields[0]) is not None)
        if kind == "var":
            return self.lookup(node[1])
        if kind == "field":
            index = int(number(self.eval(node[1])))
            if index < 0:
                raise AwkError(f"trying to access out of range field {index}")
            return StrNum(self.fields[index]) if index < len(self.fields) else StrNum("")
        if kind == "index":
            return self.arrays.setdefault(node[1], {}).setdefault(self.key(node[2]), StrNum(""))
        if kind == "assign":
            value = self.eval(node[3])
            if node[1] != "=":
                value = arithmetic(node[1][0], number(self.eval(node[2])), number(value))
            return self.assign(node[2], value if isinstance(value, float) else str(value))
        if kind == "incr":
            old = number(self.eval(node[3]))
            self.assign(node[3], old + node[2])
            return old + node[2] if node[1] else old
        if kind == "cond":
            return self.eval(node[2]) if truth(self.eval(node[1])) else self.eval(node[3])
        if kind == "or":
            return float(truth(self.eval(node[1])) or truth(self.eval(node[2])))
        if kind == "and":
            return float(truth(self.eval(node[1])) and truth(self.eval(node[2])))
        if kind == "not":
            return float(not truth(self.eval(node[1])))
        if kind == "in":
            return float(self.key(node[1]) in self.arrays.get(node[2], {}))
        if kind == "match":
            subject = text(self.eval(node[2]))
            pattern = node[3][1] if node[3][0] == "regex" else text(self.eval(node[3]))
            return float((self.regex(pattern).search(subject) is not None) != node[1])
        if kind == "cmp":
            return float(compare(node[1], self.eval(node[2]), self.eval(node[3])))
        if kind == "concat":
            return text(self.eval(node[1])) + text(self.eval(node[2]))
        if kind == "binop":
            return arithmetic(node[1], number(self.eval(node[2])), number(self.eval(node[3])))
        if kind == "grouping":
            raise AwkError("a (list) only goes before `in` or after print")
        return self.call(node[1], node[2])

    def call(self, name: str, args: list[Tree]) -> Value:
        """The built-in functions."""
        if name == "length":
            if args and args[0][0] == "var" and args[0][1] in self.arrays:
                return float(len(self.arrays[args[0][1]]))
            return float(len(text(self.eval(args[0])) if args else self.fields[0]))
        if name in ("sub", "gsub"):
            target = args[2] if len(args) > 2 else ("field", ("num", 0.0))
            pattern = args[0][1] if args[0][0] == "regex" else text(self.eval(args[0]))
            replacement = text(self.eval(args[1]))

            def swap(match: re.Match[str]) -> str:  # `&` is the match, `\&` a literal &, `\\` a backslash
                return re.sub(r"\\\\|\\&|&", lambda m: {"\\\\": "\\", "\\&": "&"}.get(m[0], match[0]), replacement)

            result, count = self.regex(pattern).subn(swap, text(self.eval(target)), 0 if name == "gsub" else 1)
            if count:
                self.assign(target, result)
            return float(count)
        values = [self.eval(arg) for arg in args]
        if name == "sprintf":
            return printf(values) if values else ""
        if name == "split":
            separator = text(values[2]) if len(values) > 2 else text(self.vars["FS"])
            subject = text(values[0])
            parts = subject.split() if separator == " " else \
                (subject.split(separator) if len(separator) == 1 else self.regex(separator).split(subject))
            parts = parts if subject else []
            self.arrays[args[1][1]] = {str(index): StrNum(part) for index, part in enumerate(parts, 1)}
            return float(len(parts))
        if name == "match":
            found = self.regex(args[1][1] if args[1][0] == "regex" else text(values[1])).search(text(values[0]))
            self.vars["RSTART"] = float(found.start() + 1) if found else 0.0
            self.vars["RLENGTH"] = float(found.end() - found.start()) if found else -1.0
            return self.vars["RSTART"]
        return pure(name, values)


def awk_command(io: CommandIO, args: list[str]) -> int:
    """`awk [-F SEP] [-v NAME=VALUE]… 'PROGRAM' [FILE…]`."""
    assignments: list[tuple[str, str]] = []
    queue = list(args)
    separator: str | None = None
    while queue and queue[0].startswith("-") and queue[0] != "-":
        option = queue.pop(0)
        if option == "--":
            break
        if option[1] not in "Fv":
            return io.fail(f"awk: Unknown option '{option}'")
        value = option[2:] or (queue.pop(0) if queue else None)
        if value is None:
            return io.fail(f"awk: Missing argument to {option}")
        if option[1] == "F":
            separator = "\t" if value == "t" else unescape(value)
        elif "=" not in value:
            return io.fail(f"awk: bad -v '{value}'")
        else:
            name, _, content = value.partition("=")
            assignments.append((name, content))
    if not queue:
        return io.fail("awk: no program")
    try:
        awk = Awk(io, Parser(queue.pop(0)).program())
        for name, content in assignments:
            awk.vars[name] = StrNum(unescape(content))
        if separator is not None:
            awk.vars["FS"] = separator
        data, ok = (b"", True) if all(kind == "BEGIN" for kind, _, _ in awk.program) else \
            read_inputs(io, queue, "awk")
        status = awk.run(data)
    except AwkError as exc:
        return io.fail(f"awk: {exc}", 2)
    return status if ok else 2
