"""The one tokenizer of the virtual phone's sh: words (with their quoting), operators, redirections.

Words keep how each part was quoted, because expansion depends on it: an unquoted `$x` or `$(…)`
splits into fields, a quoted one does not, and nothing inside single quotes expands.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lit:
    """Literal text of a word."""

    text: str
    quoted: bool = False


@dataclass(frozen=True)
class Var:
    """`$NAME`, `${NAME}` or a special parameter, expanded when the command runs (so `$?` is current)."""

    name: str
    quoted: bool = False


@dataclass(frozen=True)
class Sub:
    """A command substitution, `$(…)` or `` `…` ``: the script whose output replaces it."""

    script: str
    quoted: bool = False


Part = Lit | Var | Sub
Word = tuple[Part, ...]


@dataclass(frozen=True)
class Op:
    """A control operator: `;`, `&`, `&&`, `||`, `|`, `;;`, `(`, `)` (a newline reads as `;`)."""

    text: str


@dataclass(frozen=True)
class Redirect:
    """`[fd]>word`, `[fd]>>word`, `<word` or `[fd]>&N`."""

    fd: int
    kind: str  # ">", ">>", "<", ">&"
    target: Word


Token = Word | Op | Redirect


class ShellSyntaxError(Exception):
    """The script does not parse; the message is what sh would print after its name."""


_BLANKS = " \t\r"
_DELIMITERS = _BLANKS + "\n;&|<>()"
_DQ_ESCAPES = '"\\$`\n'
# (operator, the redirection it is, whether it also sends stderr there), longest first.
_REDIRECTIONS = (("&>", ">", True), (">>", ">>", False), (">&", ">&", False), (">|", ">", False),
                 (">", ">", False), ("<", "<", False))


class _Lexer:
    """Turns a script into words, operators and redirections."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def tokens(self) -> list[Token]:
        text = self.text
        result: list[Token] = []
        while self.pos < len(text):
            char = text[self.pos]
            if char in _BLANKS or text.startswith("\\\n", self.pos):
                self.pos += 1 if char in _BLANKS else 2
            elif char == "#":
                newline = text.find("\n", self.pos)
                self.pos = len(text) if newline < 0 else newline
            elif char in "<>" or text.startswith("&>", self.pos):
                result.extend(self._redirect(0 if char == "<" else 1))
            elif char in "\n;&|()":
                result.append(self._operator())
            else:
                word = self._word()
                if self.pos < len(text) and text[self.pos] in "<>" and len(word) == 1 and \
                        isinstance(word[0], Lit) and not word[0].quoted and word[0].text.isdigit():
                    result.extend(self._redirect(int(word[0].text)))
                else:
                    result.append(word)
        return result

    def _operator(self) -> Op:
        pair = self.text[self.pos : self.pos + 2]
        if pair in ("&&", "||", ";;"):
            self.pos += 2
            return Op(pair)
        char = self.text[self.pos]
        self.pos += 1
        return Op(";" if char == "\n" else char)

    def _redirect(self, fd: int) -> list[Redirect]:
        kind, real, both = next(form for form in _REDIRECTIONS if self.text.startswith(form[0], self.pos))
        self.pos += len(kind)
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1
        target = self._word()
        if not target:
            raise ShellSyntaxError(f"syntax error: missing target after '{kind}'")
        return [Redirect(fd, real, target), Redirect(2, ">&", (Lit("1"),))] if both else [Redirect(fd, real, target)]

    def _word(self) -> Word:
        """Read one word up to an unquoted blank or operator character."""
        parts: list[Part] = []
        text = self.text
        while self.pos < len(text) and text[self.pos] not in _DELIMITERS:
            char = text[self.pos]
            if char == "'":
                end = text.find("'", self.pos + 1)
                if end < 0:
                    raise ShellSyntaxError("syntax error: unterminated quoted string")
                parts.append(Lit(text[self.pos + 1 : end], quoted=True))
                self.pos = end + 1
            elif char == '"':
                self.pos += 1
                parts.extend(self._double_quoted())
                if not parts:
                    parts.append(Lit("", quoted=True))
            elif char == "\\":
                parts.append(Lit(text[self.pos + 1 : self.pos + 2], quoted=True))
                self.pos += 2
            else:
                parts.append(self._expansion(quoted=False) if char in "$`" else Lit(char))
                if char not in "$`":
                    self.pos += 1
        return _merge(parts)

    def _double_quoted(self) -> list[Part]:
        parts: list[Part] = [Lit("", quoted=True)]
        while True:
            if self.pos >= len(self.text):
                raise ShellSyntaxError("syntax error: unterminated quoted string")
            char = self.text[self.pos]
            if char == '"':
                self.pos += 1
                return parts
            if char == "\\" and self.text[self.pos + 1 : self.pos + 2] in _DQ_ESCAPES:
                if self.text[self.pos + 1] != "\n":
                    parts.append(Lit(self.text[self.pos + 1], quoted=True))
                self.pos += 2
            elif char in "$`":
                parts.append(self._expansion(quoted=True))
            else:
                parts.append(Lit(char, quoted=True))
                self.pos += 1

    def _expansion(self, quoted: bool) -> Part:
        """`$NAME`, `${NAME}`, `$?`…, `$(…)` or `` `…` `` starting at pos (a lone `$` is literal)."""
        text, pos = self.text, self.pos + 1
        if text[self.pos] == "`":
            end = pos
            while end < len(text) and text[end] != "`":
                end += 2 if text[end] == "\\" else 1
            if end >= len(text):
                raise ShellSyntaxError("syntax error: unterminated `")
            self.pos = end + 1
            inner = text[pos:end]
            for escaped in ("\\`", "\\$", "\\\\"):
                inner = inner.replace(escaped, escaped[1])
            return Sub(inner, quoted)
        if text.startswith("(", pos):
            end = _closing_paren(text, pos + 1)
            self.pos = end + 1
            return Sub(text[pos + 1 : end], quoted)
        if pos < len(text) and (text[pos] in "?$#!@*-" or text[pos].isdigit()):
            self.pos = pos + 1
            return Var(text[pos], quoted)
        if text.startswith("{", pos):
            end = text.find("}", pos)
            if end < 0:
                raise ShellSyntaxError("syntax error: bad substitution")
            self.pos = end + 1
            return Var(text[pos + 1 : end], quoted)
        end = pos
        while end < len(text) and (text[end].isalnum() or text[end] == "_"):
            end += 1
        self.pos = max(end, pos)
        return Var(text[pos:end], quoted) if end > pos else Lit("$", quoted)


def _closing_paren(text: str, pos: int) -> int:
    """The index of the `)` that closes a `$(` whose body starts at pos (quotes and nesting respected)."""
    depth = 1
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            pos += 1
        elif char == "'":
            pos = text.find("'", pos + 1)
            if pos < 0:
                break
        elif char == '"':
            pos += 1
            while pos < len(text) and text[pos] != '"':
                pos += 2 if text[pos] == "\\" else 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return pos
        pos += 1
    raise ShellSyntaxError("syntax error: unterminated $(")


def _merge(parts: list[Part]) -> Word:
    """Join neighbouring literals of the same quoting, so words compare simply."""
    merged: list[Part] = []
    for part in parts:
        last = merged[-1] if merged else None
        if isinstance(part, Lit) and isinstance(last, Lit) and last.quoted == part.quoted:
            merged[-1] = Lit(last.text + part.text, part.quoted)
        elif not (isinstance(part, Lit) and part.text == "" and any(isinstance(p, Lit) for p in merged)):
            merged.append(part)
    return tuple(merged)


def tokenize(text: str) -> list[Token]:
    """Split a script into words, operators and redirections.

    Raises:
        ShellSyntaxError: an unterminated quote or substitution, or a redirection without a target.
    """
    return _Lexer(text).tokens()


def literal(word: Word) -> str | None:
    """The text of a word made of one unquoted literal (how reserved words are recognised), else None."""
    if len(word) == 1 and isinstance(word[0], Lit) and not word[0].quoted:
        return word[0].text
    return None
