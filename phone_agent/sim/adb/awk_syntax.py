"""The awk language subset the virtual phone runs: its tokens and a parser to tuple trees.

Expressions are tuples whose first item names the node (`("field", ("num", 3.0))` is `$3`); statements
likewise (`("print", [exprs], redirect)`). The interpreter in `awk.py` walks them.
"""

from __future__ import annotations

import re
from typing import Any

Tree = tuple[Any, ...]

BUILTINS = {"length", "substr", "index", "split", "sub", "gsub", "match", "sprintf", "tolower", "toupper", "int"}
KEYWORDS = {"BEGIN", "END", "if", "else", "while", "for", "in", "next", "exit", "print", "printf", "delete",
            "break", "continue", "do"}
_OPERATORS = sorted(["+=", "-=", "*=", "/=", "%=", "^=", "==", "<=", ">=", "!=", "++", "--", "&&", "||", ">>",
                     "!~", "+", "-", "*", "/", "%", "^", "!", ">", "<", "|", "?", ":", "~", "$", "=", "(", ")",
                     "{", "}", "[", "]", ",", ";"], key=len, reverse=True)
_TOKEN = re.compile(r"(?P<blank>[ \t\r]+|\\\n|#[^\n]*)|(?P<nl>\n)|(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
                    r"|(?P<name>[A-Za-z_]\w*)|(?P<str>\"(?:[^\"\\\n]|\\.)*\")")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "/": "/", "a": "\a", "b": "\b", "f": "\f",
            "v": "\v"}
ASSIGNMENTS = {"=", "+=", "-=", "*=", "/=", "%=", "^="}


class AwkError(Exception):
    """The program does not parse or cannot run; the message says why."""


def unescape(text: str) -> str:
    """An awk string's escapes (`\\n`, `\\t`, `\\"`, octal) as the characters."""
    return re.sub(r"\\([0-7]{1,3}|.)", lambda m: chr(int(m[1], 8)) if m[1][0] in "01234567"
                  else _ESCAPES.get(m[1], "\\" + m[1]), text)


def tokenize(source: str) -> list[tuple[str, Any]]:
    """Tokens as (kind, value): num, str, regex, name, builtin, kw, op, nl, then eof."""
    tokens: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(source):
        operand_before = bool(tokens) and (tokens[-1][0] in ("num", "str", "regex", "name", "builtin")
                                           or tokens[-1][1] in (")", "]", "$"))
        if source[pos] == "/" and not operand_before:
            end = pos + 1
            while end < len(source) and source[end] != "/":
                if source[end] == "\n":
                    raise AwkError("unterminated regex")
                end += 2 if source[end] == "\\" else 1
            if end >= len(source):
                raise AwkError("unterminated regex")
            tokens.append(("regex", source[pos + 1 : end].replace("\\/", "/")))
            pos = end + 1
            continue
        match = _TOKEN.match(source, pos)
        if match is not None:
            pos = match.end()
            kind = match.lastgroup
            value = match[0]
            if kind == "nl":
                tokens.append(("nl", "\n"))
            elif kind == "num":
                tokens.append(("num", float(value)))
            elif kind == "str":
                tokens.append(("str", unescape(value[1:-1])))
            elif kind == "name":
                tokens.append(("kw" if value in KEYWORDS else "builtin" if value in BUILTINS else "name", value))
            continue
        operator = next((op for op in _OPERATORS if source.startswith(op, pos)), None)
        if operator is None:
            raise AwkError(f"unexpected character '{source[pos]}'")
        tokens.append(("op", operator))
        pos += len(operator)
    tokens.append(("eof", None))
    return tokens


class Parser:
    """Recursive descent over the tokens, by awk's precedence."""

    def __init__(self, source: str) -> None:
        """Tokenize the program text."""
        self.tokens = tokenize(source)
        self.pos = 0
        self.no_gt = False  # inside print's arguments an unparenthesized `>` redirects

    # ------------------------------------------------------------ helpers

    def peek(self, offset: int = 0) -> tuple[str, Any]:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def at(self, *values: str) -> bool:
        kind, value = self.peek()
        return kind in ("op", "kw", "nl") and value in values

    def take(self, *values: str) -> bool:
        if self.at(*values):
            self.pos += 1
            return True
        return False

    def expect(self, value: str) -> None:
        if not self.take(value):
            raise self.error()

    def error(self) -> AwkError:
        kind, value = self.peek()
        shown = "end of program" if kind == "eof" else "newline" if kind == "nl" else repr(value)
        return AwkError(f"syntax error at {shown}")

    def newlines(self) -> None:
        while self.peek()[0] == "nl":
            self.pos += 1

    # ------------------------------------------------------------ program and statements

    def program(self) -> list[tuple[str, Any, list[Tree] | None]]:
        """Items as (kind, pattern, action): kind BEGIN, END or main; a pattern may be a (start, end) range."""
        items: list[tuple[str, Any, list[Tree] | None]] = []
        while True:
            while self.take("\n", ";"):
                pass
            if self.peek()[0] == "eof":
                return items
            if self.take("BEGIN", "END"):
                kind = self.tokens[self.pos - 1][1]
                items.append((kind, None, self.block()))
                continue
            pattern: Any = None
            if not self.at("{"):
                pattern = self.expr()
                if self.take(","):
                    self.newlines()
                    pattern = (pattern, self.expr())
            items.append(("main", pattern, self.block() if self.at("{") else None))

    def block(self) -> list[Tree]:
        self.expect("{")
        body: list[Tree] = []
        while True:
            while self.take("\n", ";"):
                pass
            if self.take("}"):
                return body
            body.append(self.statement())

    def simple_end(self) -> None:
        """A simple statement ends at `;`, a newline, or before `}`."""
        if not self.take(";", "\n") and not self.at("}"):
            raise self.error()

    def body(self) -> Tree:
        self.newlines()
        if self.take(";"):
            return ("block", [])
        return self.statement()

    def statement(self) -> Tree:
        if self.at("{"):
            return ("block", self.block())
        if self.take("if"):
            self.expect("(")
            condition = self.expr()
            self.expect(")")
            then = self.body()
            save = self.pos
            while self.take("\n", ";"):
                pass
            if self.take("else"):
                return ("if", condition, then, self.body())
            self.pos = save
            return ("if", condition, then, None)
        if self.take("while"):
            self.expect("(")
            condition = self.expr()
            self.expect(")")
            return ("while", condition, self.body())
        if self.take("for"):
            return self.for_()
        if self.take("next", "break", "continue"):
            result: Tree = (self.tokens[self.pos - 1][1],)
        elif self.take("exit"):
            result = ("exit", None if self.at(";", "\n", "}") or self.peek()[0] == "eof" else self.expr())
        elif self.take("delete"):
            kind, name = self.peek()
            if kind != "name":
                raise self.error()
            self.pos += 1
            result = ("delete", name, self.subscripts() if self.at("[") else None)
        elif self.take("print", "printf"):
            result = self.print_(self.tokens[self.pos - 1][1])
        else:
            result = ("expr", self.expr())
        self.simple_end()
        return result

    def for_(self) -> Tree:
        self.expect("(")
        if self.peek()[0] == "name" and self.peek(1) == ("kw", "in") and self.peek(2)[0] == "name" \
                and self.peek(3) == ("op", ")"):
            name, array = self.peek()[1], self.peek(2)[1]
            self.pos += 4
            return ("forin", name, array, self.body())
        init = None if self.at(";") else self.expr()
        self.expect(";")
        self.newlines()
        condition = None if self.at(";") else self.expr()
        self.expect(";")
        self.newlines()
        step = None if self.at(")") else self.expr()
        self.expect(")")
        return ("for", init, condition, step, self.body())

    def print_(self, kind: str) -> Tree:
        self.no_gt = True
        args: list[Tree] = []
        if not self.at(";", "\n", "}", ">", ">>", "|") and self.peek()[0] != "eof":
            args.append(self.expr())
            while self.take(","):
                self.newlines()
                args.append(self.expr())
        self.no_gt = False
        if len(args) == 1 and args[0][0] == "grouping":
            args = args[0][1]
        redirect = None
        if self.at(">", ">>", "|"):
            operator = self.peek()[1]
            if operator == "|":
                raise AwkError("output to a pipe is not supported")
            self.pos += 1
            redirect = (operator, self.concatenation())
        if kind == "printf" and not args:
            raise self.error()
        return (kind, args, redirect)

    # ------------------------------------------------------------ expressions, lowest precedence first

    def expr(self) -> Tree:
        left = self.ternary()
        if self.peek()[0] == "op" and self.peek()[1] in ASSIGNMENTS and left[0] in ("var", "field", "index"):
            operator = self.peek()[1]
            self.pos += 1
            self.newlines()
            return ("assign", operator, left, self.expr())
        return left

    def ternary(self) -> Tree:
        condition = self.binary(0)
        if self.take("?"):
            self.newlines()
            yes = self.ternary()
            self.newlines()
            self.expect(":")
            self.newlines()
            return ("cond", condition, yes, self.ternary())
        return condition

    _LEVELS = (("||",), ("&&",), ("in",), ("~", "!~"), ("<", "<=", "!=", "==", ">", ">="))

    def binary(self, level: int) -> Tree:
        if level == len(self._LEVELS):
            return self.concatenation()
        left = self.binary(level + 1)
        operators = self._LEVELS[level]
        while self.at(*operators) and not (self.no_gt and self.at(">")):
            operator = self.peek()[1]
            self.pos += 1
            if operator == "in":
                kind, name = self.peek()
                if kind != "name":
                    raise self.error()
                self.pos += 1
                left = ("in", left[1] if left[0] == "grouping" else [left], name)
                continue
            self.newlines()
            right = self.binary(level + 1)
            head: Tree = (("or" if operator == "||" else "and"),) if level < 2 else \
                ("match", operator == "!~") if level == 3 else ("cmp", operator)
            left = (*head, left, right)
        return left

    def concatenation(self) -> Tree:
        left = self.additive()
        # An operand right after an operand joins it; `a - b` subtracts, so `-` and `!` never start one here.
        while self.peek()[0] in ("num", "str", "regex", "name", "builtin") or self.at("$", "(", "++", "--"):
            left = ("concat", left, self.additive())
        return left

    def additive(self) -> Tree:
        left = self.multiplicative()
        while self.at("+", "-"):
            operator = self.peek()[1]
            self.pos += 1
            left = ("binop", operator, left, self.multiplicative())
        return left

    def multiplicative(self) -> Tree:
        left = self.unary()
        while self.at("*", "/", "%"):
            operator = self.peek()[1]
            self.pos += 1
            left = ("binop", operator, left, self.unary())
        return left

    def unary(self) -> Tree:
        if self.take("!"):
            return ("not", self.unary())
        if self.take("-"):
            return ("binop", "-", ("num", 0.0), self.unary())
        if self.take("+"):
            return ("binop", "+", ("num", 0.0), self.unary())
        return self.power()

    def power(self) -> Tree:
        base = self.postfix()
        if self.take("^"):
            return ("binop", "^", base, self.unary())
        return base

    def postfix(self) -> Tree:
        if self.at("++", "--"):
            delta = 1.0 if self.peek()[1] == "++" else -1.0
            self.pos += 1
            target = self.postfix()
            if target[0] not in ("var", "field", "index"):
                raise self.error()
            return ("incr", True, delta, target)
        value = self.primary()
        if value[0] in ("var", "field", "index") and self.at("++", "--"):
            delta = 1.0 if self.peek()[1] == "++" else -1.0
            self.pos += 1
            return ("incr", False, delta, value)
        return value

    def subscripts(self) -> list[Tree]:
        self.expect("[")
        items = [self.expr()]
        while self.take(","):
            items.append(self.expr())
        self.expect("]")
        return items

    def primary(self) -> Tree:
        kind, value = self.peek()
        self.pos += 1
        if kind in ("num", "str", "regex"):
            return (kind, value)
        if kind == "op" and value == "$":
            return ("field", self.postfix() if self.at("++", "--") else self.primary())
        if kind == "op" and value == "(":
            saved, self.no_gt = self.no_gt, False
            items = [self.expr()]
            while self.take(","):
                items.append(self.expr())
            self.no_gt = saved
            self.expect(")")
            return ("grouping", items) if len(items) > 1 else items[0]
        if kind == "name":
            return ("index", value, self.subscripts()) if self.at("[") else ("var", value)
        if kind == "builtin":
            args: list[Tree] = []
            if self.take("("):
                if not self.take(")"):
                    args.append(self.expr())
                    while self.take(","):
                        args.append(self.expr())
                    self.expect(")")
            elif value != "length":
                raise self.error()
            return ("call", value, args)
        self.pos -= 1
        raise self.error()
