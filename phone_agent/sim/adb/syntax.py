"""The sh grammar of the virtual phone: a recursive-descent parser of POSIX sh over the lexer's tokens."""

from __future__ import annotations

from dataclasses import dataclass, field

from phone_agent.sim.adb.lexer import Op, Redirect, ShellSyntaxError, Token, Word, literal, tokenize


@dataclass
class Command:
    """One simple command: its words and redirections, in order."""

    words: list[Word] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class If:
    """`if C; then B; [elif C; then B;]… [else B;] fi`."""

    branches: list[tuple[Script, Script]]
    otherwise: Script | None
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class Loop:
    """`while C; do B; done` (or `until`)."""

    condition: Script
    body: Script
    until: bool
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class For:
    """`for NAME [in WORDS]; do B; done`."""

    name: str
    words: list[Word] | None
    body: Script
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class Case:
    """`case WORD in PATTERN[|PATTERN]) B;; … esac`."""

    word: Word
    arms: list[tuple[list[Word], Script]]
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class Group:
    """`{ B; }` or, as a subshell, `( B )`."""

    body: Script
    subshell: bool
    redirects: list[Redirect] = field(default_factory=list)


Node = Command | If | Loop | For | Case | Group


@dataclass
class Pipeline:
    """Commands joined by `|`; the last one's status is the pipeline's (`!` negates it)."""

    commands: list[Node]
    negate: bool = False


@dataclass
class AndOr:
    """A first pipeline, then (`&&` or `||`, pipeline) pairs; `background` when it ended with `&`."""

    first: Pipeline
    rest: list[tuple[str, Pipeline]] = field(default_factory=list)
    background: bool = False


Script = list[AndOr]

_CLOSERS = {"then", "elif", "else", "fi", "do", "done", "esac", "}"}


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek_op(self) -> str | None:
        token = self.tokens[self.pos] if self.pos < len(self.tokens) else None
        return token.text if isinstance(token, Op) else None

    def peek_word(self) -> str | None:
        token = self.tokens[self.pos] if self.pos < len(self.tokens) else None
        return literal(token) if isinstance(token, tuple) else None

    def unexpected(self) -> ShellSyntaxError:
        if self.pos >= len(self.tokens):
            return ShellSyntaxError("syntax error: unexpected end of file")
        token = self.tokens[self.pos]
        shown = token.text if isinstance(token, Op) else literal(token) if isinstance(token, tuple) else "redirection"
        return ShellSyntaxError(f"syntax error: unexpected '{shown}'")

    def expect(self, word: str) -> None:
        if self.peek_word() != word:
            raise self.unexpected()
        self.pos += 1

    def skip_separators(self) -> None:
        while self.peek_op() == ";":
            self.pos += 1

    def script(self, closers: set[str]) -> Script:
        """and-or lists up to the end, a closing reserved word in `closers`, `)` or `;;`."""
        result: Script = []
        while True:
            self.skip_separators()
            if self.pos >= len(self.tokens) or self.peek_word() in closers or self.peek_op() in (")", ";;"):
                return result
            and_or = self.and_or()
            if self.peek_op() == "&":
                and_or.background = True
                self.pos += 1
            elif self.peek_op() == ";":
                self.pos += 1
            elif self.pos < len(self.tokens) and self.peek_word() not in closers and self.peek_op() not in (")", ";;"):
                raise self.unexpected()
            result.append(and_or)

    def body(self, closers: set[str]) -> Script:
        body = self.script(closers)
        if not body:
            raise self.unexpected()
        return body

    def and_or(self) -> AndOr:
        result = AndOr(self.pipeline())
        while (op := self.peek_op()) in ("&&", "||"):
            self.pos += 1
            self.skip_separators()
            assert op is not None
            result.rest.append((op, self.pipeline()))
        return result

    def pipeline(self) -> Pipeline:
        negate = self.peek_word() == "!"
        self.pos += negate
        commands = [self.command()]
        while self.peek_op() == "|":
            self.pos += 1
            self.skip_separators()
            commands.append(self.command())
        return Pipeline(commands, negate)

    def command(self) -> Node:
        reserved, op = self.peek_word(), self.peek_op()
        node: Node
        if reserved in ("if", "while", "until", "for", "case", "{") or op == "(":
            self.pos += 1
            if reserved == "if":
                node = self.if_()
            elif reserved in ("while", "until"):
                node = self.loop(until=reserved == "until")
            elif reserved == "for":
                node = self.for_()
            elif reserved == "case":
                node = self.case()
            else:
                node = self.group() if reserved == "{" else self.subshell()
            while self.pos < len(self.tokens) and isinstance(self.tokens[self.pos], Redirect):
                node.redirects.append(self.tokens[self.pos])  # type: ignore[arg-type]
                self.pos += 1
            return node
        if reserved in _CLOSERS or op is not None:
            raise self.unexpected()
        command = Command()
        while self.pos < len(self.tokens) and not isinstance(self.tokens[self.pos], Op):
            token = self.tokens[self.pos]
            if isinstance(token, Redirect):
                command.redirects.append(token)
            elif isinstance(token, tuple):
                command.words.append(token)
            self.pos += 1
        if not command.words and not command.redirects:
            raise self.unexpected()
        return command

    def if_(self) -> If:
        branches = [(self.body({"then"}), self._then())]
        otherwise = None
        while self.peek_word() in ("elif", "else"):
            keyword = self.peek_word()
            self.pos += 1
            if keyword == "else":
                otherwise = self.body({"fi"})
                break
            branches.append((self.body({"then"}), self._then()))
        self.expect("fi")
        return If(branches, otherwise)

    def _then(self) -> Script:
        self.expect("then")
        return self.body({"elif", "else", "fi"})

    def loop(self, until: bool) -> Loop:
        condition = self.body({"do"})
        return Loop(condition, self._do(), until)

    def _do(self) -> Script:
        self.expect("do")
        body = self.body({"done"})
        self.expect("done")
        return body

    def for_(self) -> For:
        name = self.peek_word()
        if not name or not name.isidentifier():
            raise self.unexpected()
        self.pos += 1
        words: list[Word] | None = None
        self.skip_separators()
        if self.peek_word() == "in":
            self.pos += 1
            words = []
            while self.pos < len(self.tokens) and isinstance(self.tokens[self.pos], tuple):
                words.append(self.tokens[self.pos])  # type: ignore[arg-type]
                self.pos += 1
        self.skip_separators()
        return For(name, words, self._do())

    def case(self) -> Case:
        token = self.tokens[self.pos] if self.pos < len(self.tokens) else None
        if not isinstance(token, tuple):
            raise self.unexpected()
        self.pos += 1
        self.skip_separators()
        self.expect("in")
        arms: list[tuple[list[Word], Script]] = []
        while True:
            self.skip_separators()
            if self.peek_word() == "esac":
                self.pos += 1
                return Case(token, arms)
            self.pos += self.peek_op() == "("
            patterns: list[Word] = []
            while True:
                pattern = self.tokens[self.pos] if self.pos < len(self.tokens) else None
                if not isinstance(pattern, tuple):
                    raise self.unexpected()
                patterns.append(pattern)
                self.pos += 1
                if self.peek_op() != "|":
                    break
                self.pos += 1
            if self.peek_op() != ")":
                raise self.unexpected()
            self.pos += 1
            arms.append((patterns, self.script({"esac"})))
            if self.peek_op() == ";;":
                self.pos += 1
            elif self.peek_word() != "esac":
                raise self.unexpected()

    def group(self) -> Group:
        body = self.body({"}"})
        self.expect("}")
        return Group(body, subshell=False)

    def subshell(self) -> Group:
        body = self.body(set())
        if self.peek_op() != ")":
            raise self.unexpected()
        self.pos += 1
        return Group(body, subshell=True)


def parse(text: str) -> Script:
    """Parse a script into and-or lists.

    Raises:
        ShellSyntaxError: a misplaced operator or reserved word, or bad quoting.
    """
    parser = _Parser(tokenize(text))
    script = parser.script(set())
    if parser.pos < len(parser.tokens):
        raise parser.unexpected()
    return script
