"""The sh grammar the virtual phone understands: words, quotes, `$?`, `;`, `&&`, `||`, pipes, redirections."""

from __future__ import annotations

from dataclasses import dataclass, field

# ---------------------------------------------------------------- lexing


@dataclass(frozen=True)
class Var:
    """A `$NAME` reference inside a word, expanded when the command runs (so `$?` is current)."""

    name: str


Word = tuple[str | Var, ...]


@dataclass(frozen=True)
class Op:
    """A control operator: `;`, `&&`, `||`, `|` (a newline or `&` reads as `;`)."""

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


class _Lexer:
    """Turns a script into words, operators and redirections."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.tokens: list[Token] = []
        self.parts: list[str | Var] = []
        self.in_word = False

    def run(self) -> list[Token]:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t\r":
                self._end_word()
                self.pos += 1
            elif char == "#" and not self.in_word:
                newline = text.find("\n", self.pos)
                self.pos = len(text) if newline < 0 else newline
            elif char in ";\n&|":
                self._operator(char)
            elif char in "<>":
                self._redirect(char)
            elif char == "'":
                end = text.find("'", self.pos + 1)
                if end < 0:
                    raise ShellSyntaxError("syntax error: unterminated quoted string")
                self._literal(text[self.pos + 1 : end])
                self.pos = end + 1
            elif char == '"':
                self._double_quoted()
            elif char == "\\":
                if self.pos + 1 < len(text) and text[self.pos + 1] != "\n":
                    self._literal(text[self.pos + 1])
                self.pos += 2
            elif char == "$":
                self._dollar()
            else:
                self._literal(char)
                self.pos += 1
        self._end_word()
        return self.tokens

    def _literal(self, text: str) -> None:
        self.in_word = True
        if self.parts and isinstance(self.parts[-1], str):
            self.parts[-1] += text
        else:
            self.parts.append(text)

    def _end_word(self) -> None:
        if self.in_word:
            self.tokens.append(tuple(self.parts))
        self.parts, self.in_word = [], False

    def _operator(self, char: str) -> None:
        self._end_word()
        pair = self.text[self.pos : self.pos + 2]
        if pair in ("&&", "||"):
            self.tokens.append(Op(pair))
            self.pos += 2
        elif pair == "&>":
            self.pos += 2
            self._redirect_target(1, ">", both=True)
        else:
            # A background `&` runs in the foreground here: nothing on this device outlives its stream.
            self.tokens.append(Op("|" if char == "|" else ";"))
            self.pos += 1

    def _redirect(self, char: str) -> None:
        fd = 0 if char == "<" else 1
        if self.in_word and len(self.parts) == 1 and isinstance(self.parts[0], str) and self.parts[0].isdigit():
            fd = int(self.parts[0])
            self.parts, self.in_word = [], False
        self._end_word()
        self.pos += 1
        if char == "<":
            self._redirect_target(fd, "<")
        elif self.text.startswith(">", self.pos):
            self.pos += 1
            self._redirect_target(fd, ">>")
        elif self.text.startswith("&", self.pos):
            self.pos += 1
            self._redirect_target(fd, ">&")
        else:
            if self.text.startswith("|", self.pos):
                self.pos += 1
            self._redirect_target(fd, ">")

    def _redirect_target(self, fd: int, kind: str, both: bool = False) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1
        start = len(self.tokens)
        while self.pos < len(self.text) and self.text[self.pos] not in " \t\r\n;&|<>":
            before = self.pos
            self.run_one()
            if self.pos == before:
                break
        self._end_word()
        words = self.tokens[start:]
        del self.tokens[start:]
        if len(words) != 1 or not isinstance(words[0], tuple):
            raise ShellSyntaxError(f"syntax error: missing target after '{kind}'")
        self.tokens.append(Redirect(fd, kind, words[0]))
        if both:
            self.tokens.append(Redirect(2, ">&", ("1",)))

    def run_one(self) -> None:
        """Lex a single character-level element of a word (used for redirection targets)."""
        char = self.text[self.pos]
        if char == "'":
            end = self.text.find("'", self.pos + 1)
            if end < 0:
                raise ShellSyntaxError("syntax error: unterminated quoted string")
            self._literal(self.text[self.pos + 1 : end])
            self.pos = end + 1
        elif char == '"':
            self._double_quoted()
        elif char == "$":
            self._dollar()
        elif char == "\\":
            self._literal(self.text[self.pos + 1 : self.pos + 2])
            self.pos += 2
        else:
            self._literal(char)
            self.pos += 1

    def _double_quoted(self) -> None:
        self.in_word = True
        self.pos += 1
        while True:
            if self.pos >= len(self.text):
                raise ShellSyntaxError("syntax error: unterminated quoted string")
            char = self.text[self.pos]
            if char == '"':
                self.pos += 1
                return
            if char == "\\" and self.text[self.pos + 1 : self.pos + 2] in ('"', "\\", "$", "`", "\n"):
                if self.text[self.pos + 1] != "\n":
                    self._literal(self.text[self.pos + 1])
                self.pos += 2
            elif char == "$":
                self._dollar()
            else:
                self._literal(char)
                self.pos += 1

    def _dollar(self) -> None:
        text, pos = self.text, self.pos + 1
        if pos < len(text) and text[pos] in "?$#!0":
            name, self.pos = text[pos], pos + 1
        elif pos < len(text) and text[pos] == "{":
            end = text.find("}", pos)
            if end < 0:
                raise ShellSyntaxError("syntax error: bad substitution")
            name, self.pos = text[pos + 1 : end], end + 1
        else:
            end = pos
            while end < len(text) and (text[end].isalnum() or text[end] == "_"):
                end += 1
            if end == pos:
                self._literal("$")
                self.pos = pos
                return
            name, self.pos = text[pos:end], end
        self.in_word = True
        self.parts.append(Var(name))


def tokenize(text: str) -> list[Token]:
    """Split a script into words, operators and redirections.

    Raises:
        ShellSyntaxError: an unterminated quote or a redirection without a target.
    """
    return _Lexer(text).run()


# ---------------------------------------------------------------- parsing


@dataclass
class Command:
    """One simple command: its words and redirections, in order."""

    words: list[Word] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class Pipeline:
    """Commands joined by `|`; the last one's status is the pipeline's."""

    commands: list[Command]


@dataclass
class AndOr:
    """A first pipeline, then (`&&` or `||`, pipeline) pairs."""

    first: Pipeline
    rest: list[tuple[str, Pipeline]] = field(default_factory=list)


def parse(text: str) -> list[AndOr]:
    """Parse a script into and-or lists (separated by `;` or newlines).

    Raises:
        ShellSyntaxError: a misplaced operator or bad quoting.
    """
    tokens = tokenize(text)
    pos = 0

    def peek() -> str | None:
        token = tokens[pos] if pos < len(tokens) else None
        return token.text if isinstance(token, Op) else None

    def command() -> Command:
        nonlocal pos
        result = Command()
        while pos < len(tokens) and not isinstance(tokens[pos], Op):
            token = tokens[pos]
            if isinstance(token, Redirect):
                result.redirects.append(token)
            else:
                assert isinstance(token, tuple)
                result.words.append(token)
            pos += 1
        if not result.words and not result.redirects:
            found = peek()
            raise ShellSyntaxError(f"syntax error: unexpected '{found}'" if found else
                                   "syntax error: unexpected end of file")
        return result

    def pipeline() -> Pipeline:
        nonlocal pos
        commands = [command()]
        while peek() == "|":
            pos += 1
            commands.append(command())
        return Pipeline(commands)

    script: list[AndOr] = []
    while pos < len(tokens):
        if peek() == ";":
            pos += 1
            continue
        and_or = AndOr(pipeline())
        while (op := peek()) in ("&&", "||"):
            pos += 1
            and_or.rest.append((op, pipeline()))
        script.append(and_or)
    return script
