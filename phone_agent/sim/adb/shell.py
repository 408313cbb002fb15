"""A small sh: runs the parsed script (lists, pipes, compound commands, substitutions, jobs) over Python commands.

Nothing here ever runs a host process: every command is a Python function from the table the
device gives the shell, or one of the shell's builtins.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from phone_agent.sim.adb.builtins import BUILTINS, ShellExit
from phone_agent.sim.adb.command_io import CommandFn, CommandIO, Writer
from phone_agent.sim.adb.device import ShellPhone
from phone_agent.sim.adb.fs import FileSystem, FsError
from phone_agent.sim.adb.globbing import Field
from phone_agent.sim.adb.lexer import Lit, Redirect, ShellSyntaxError, Sub, Var, Word
from phone_agent.sim.adb.stdin import Stdin
from phone_agent.sim.adb.syntax import AndOr, Case, Command, For, Group, If, Loop, Node, Pipeline, Script, parse

SHELL = "/system/bin/sh"
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_PIDS = itertools.count(5000)  # process ids of background jobs, unique across the phone's shells


# Where the script's stdout (fd 1) and stderr (fd 2) go, in the order they are written: sink(fd, data).
Sink = Callable[[int, bytes], None]


@dataclass
class Job:
    """A command list started with `&`."""

    pid: int
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    status: int = 0


class Session:
    """One shell's state: variables, positional arguments, `$?`, the working directory and its jobs."""

    def __init__(self, device: ShellPhone | None, commands: Mapping[str, CommandFn], fs: FileSystem, *,
                 lock: AbstractContextManager[Any] | None = None,
                 on_unknown: Callable[[str, list[str]], None] | None = None,
                 cost_ms: Callable[[list[str]], tuple[int, int]] = lambda argv: (0, 0)) -> None:
        """Create a session over a device's command table and files; commands run under `lock`.

        `cost_ms(argv)` is the time a command spends before it runs and the least it takes in all.
        """
        self.device = device
        self.lock = lock if lock is not None else nullcontext()
        self.cost_ms = cost_ms
        self.commands = commands
        self.fs = fs
        self.on_unknown = on_unknown
        self.status = 0
        self.exited = False
        self.hung_up: Callable[[], bool] = lambda: False  # the host went away (set by the ADB service)
        self.flush: Callable[[], None] = lambda: None  # sends output written so far (set by the ADB service)
        self.interrupt = threading.Event()
        self.cwd = "/"
        self.args: list[str] = []
        self.jobs: dict[int, Job] = {}
        self.last_job = 0
        self.variables: dict[str, str] = {
            "HOME": "/", "PATH": "/product/bin:/apex/com.android.runtime/bin:/system/bin:/system/xbin",
            "USER": "shell", "EXTERNAL_STORAGE": "/sdcard", "ANDROID_DATA": "/data", "0": SHELL,
            "IFS": " \t\n",
        }

    def child(self, args: list[str] | None = None) -> Session:
        """A subshell: a copy of the variables and directory; `args` replaces the positional arguments."""
        session = Session(self.device, self.commands, self.fs, lock=self.lock, on_unknown=self.on_unknown,
                          cost_ms=self.cost_ms)
        session.variables = dict(self.variables)
        session.cwd, session.hung_up, session.flush = self.cwd, self.hung_up, self.flush
        session.interrupt = self.interrupt
        session.args = list(self.args if args is None else args)
        session.status = self.status
        return session

    def run(self, script: str, sink: Sink, stdin: Stdin | None = None, stop: threading.Event | None = None) -> int:
        """Run a whole script and return its exit status; `stop` is the signal its commands heed."""
        try:
            tree = parse(script)
        except ShellSyntaxError as exc:
            sink(2, f"{SHELL}: {exc}\n".encode())
            self.status = 2
            return 2
        try:
            self.run_script(tree, sink, stdin or Stdin(), stop or self.interrupt)
        except ShellExit as exc:
            self.status = exc.status & 0xFF
            self.exited = True
        return self.status

    # ------------------------------------------------------------ expansion

    def expand(self, word: Word) -> str:
        """A word as one string: variables and substitutions in place, no field splitting (assignments)."""
        return "".join(self._part(part) for part in word)

    def expand_words(self, words: list[Word]) -> list[str]:
        """Words as fields: unquoted expansions split on blanks, an empty unquoted one disappears, globs expand."""
        return [field for word in words for field in self._fields(word)]

    def _fields(self, word: Word) -> list[str]:
        fields: list[Field] = []
        current: Field | None = None  # None until something (even an empty quoted string) starts a field
        for part in word:
            if isinstance(part, Var) and part.name == "@" and part.quoted:
                for index, arg in enumerate(self.args):
                    if index:
                        fields.append(current or Field())
                        current = None
                    current = current or Field()
                    current.add(arg, quoted=True)
                continue
            value = self._part(part)
            if isinstance(part, Lit) or part.quoted:
                current = current or Field()
                current.add(value, part.quoted)
                continue
            for index, piece in enumerate(re.split(r"[ \t\n]+", value)):
                if index:  # a run of blanks ends the field before it
                    if current is not None:
                        fields.append(current)
                    current = None
                if piece:
                    current = current or Field()
                    current.add(piece, quoted=False)
        if current is not None:
            fields.append(current)
        return [path for built in fields for path in built.expand(self.fs, self.cwd)]

    def _part(self, part: Lit | Var | Sub) -> str:
        if isinstance(part, Lit):
            return part.text
        if isinstance(part, Sub):
            return self._substitute(part.script)
        return self._lookup(part.name)

    def _lookup(self, name: str) -> str:
        if name.isdigit() and name != "0":
            index = int(name) - 1
            return self.args[index] if index < len(self.args) else ""
        special = {"?": str(self.status), "$": "4242", "#": str(len(self.args)), "!": str(self.last_job or ""),
                   "@": " ".join(self.args), "*": " ".join(self.args), "-": ""}
        if name in special:
            return special[name]
        default = re.fullmatch(r"([A-Za-z_]\w*):?-(.*)", name)
        if default:
            return self.variables.get(default[1]) or default[2]
        return self.variables.get(name, "")

    def _substitute(self, script: str) -> str:
        """`$(…)`: run in a subshell, its output with trailing newlines removed; stderr is dropped here."""
        captured: list[bytes] = []
        child = self.child()
        child.run(script, lambda fd, data: captured.append(data) if fd == 1 else None)
        self.status = child.status
        return b"".join(captured).decode("utf-8", "replace").rstrip("\n")

    # ------------------------------------------------------------ running

    def run_script(self, script: Script, sink: Sink, stdin: Stdin, stop: threading.Event) -> int:
        """Run and-or lists in order; `&` ones in the background."""
        for and_or in script:
            if and_or.background:
                self._spawn(and_or, sink)
            else:
                self._run_and_or(and_or, sink, stdin, stop)
        return self.status

    def _run_and_or(self, and_or: AndOr, sink: Sink, stdin: Stdin, stop: threading.Event) -> int:
        self.status = self._run_pipeline(and_or.first, sink, stdin, stop)
        for op, pipeline in and_or.rest:
            if (op == "&&") == (self.status == 0):
                self.status = self._run_pipeline(pipeline, sink, stdin, stop)
        return self.status

    def _spawn(self, and_or: AndOr, sink: Sink) -> None:
        job = Job(next(_PIDS))
        background = AndOr(and_or.first, and_or.rest)

        def body() -> None:
            try:
                job.status = self.child()._run_and_or(background, sink, Stdin(), job.stop)
            except ShellExit as exc:
                job.status = exc.status

        job.thread = threading.Thread(target=body, name=f"sh-job-{job.pid}", daemon=True)
        self.jobs[job.pid] = job
        self.last_job = job.pid
        job.thread.start()

    def _run_pipeline(self, pipeline: Pipeline, sink: Sink, stdin: Stdin, stop: threading.Event) -> int:
        status = 0
        feed = stdin
        last = len(pipeline.commands) - 1
        for index, node in enumerate(pipeline.commands):
            if index < last:
                captured: list[bytes] = []

                def into_pipe(fd: int, data: bytes, captured: list[bytes] = captured) -> None:
                    if fd == 1:
                        captured.append(data)
                    else:
                        sink(fd, data)

                self._run_stage(node, into_pipe, feed, stop, alone=False)
                feed = Stdin(data=b"".join(captured))
            else:
                status = self._run_stage(node, sink, feed, stop, alone=last == 0)
        return int(not status) if pipeline.negate else status

    def _run_stage(self, node: Node, sink: Sink, stdin: Stdin, stop: threading.Event, alone: bool) -> int:
        """One command of a pipeline; in a real pipeline each runs in a subshell, so `exit` ends only it."""
        if alone:
            return self._run_node(node, sink, stdin, stop)
        try:
            return self._run_node(node, sink, stdin, stop)
        except ShellExit as exc:
            return exc.status & 0xFF

    def _run_node(self, node: Node, sink: Sink, stdin: Stdin, stop: threading.Event) -> int:
        redirected = self._redirect(node.redirects, sink, stdin)
        if redirected is None:
            return 1
        sink, stdin = redirected
        match node:
            case Command():
                return self._run_command(node, sink, stdin, stop)
            case If():
                for condition, body in node.branches:
                    if self.run_script(condition, sink, stdin, stop) == 0:
                        return self.run_script(body, sink, stdin, stop)
                self.status = self.run_script(node.otherwise, sink, stdin, stop) if node.otherwise else 0
            case Loop():
                status = 0
                while (self.run_script(node.condition, sink, stdin, stop) == 0) != node.until and not stop.is_set():
                    status = self.run_script(node.body, sink, stdin, stop)
                self.status = status
            case For():
                values = self.expand_words(node.words) if node.words is not None else list(self.args)
                self.status = 0
                for value in values:
                    self.variables[node.name] = value
                    self.run_script(node.body, sink, stdin, stop)
            case Case():
                subject = self.expand(node.word)
                self.status = 0
                for patterns, body in node.arms:
                    if any(fnmatch.fnmatchcase(subject, self.expand(pattern)) for pattern in patterns):
                        return self.run_script(body, sink, stdin, stop)
            case Group(subshell=True):
                self.status = self.child().run_script(node.body, sink, stdin, stop)
            case Group():
                return self.run_script(node.body, sink, stdin, stop)
        return self.status

    def _redirect(self, redirects: list[Redirect], sink: Sink, stdin: Stdin) -> tuple[Sink, Stdin] | None:
        """Apply redirections in order; None (after an error message) when one fails."""
        if not redirects:
            return sink, stdin
        writers: dict[int, Writer] = {1: lambda data: sink(1, data), 2: lambda data: sink(2, data)}
        for redirect in redirects:
            target = self.expand(redirect.target)
            try:
                if redirect.kind == "<":
                    stdin = Stdin(data=self.fs.read(self.fs.normalize(target, self.cwd)))
                elif redirect.kind == ">&":
                    if not target.isdigit() or int(target) not in writers:
                        sink(2, f"{SHELL}: {target}: bad file descriptor\n".encode())
                        return None
                    writers[redirect.fd] = writers[int(target)]
                else:
                    writers[redirect.fd] = self._file_writer(target, append=redirect.kind == ">>")
            except FsError as exc:
                sink(2, f"{SHELL}: can't {'open' if redirect.kind == '<' else 'create'} {target}: "
                        f"{exc.strerror}\n".encode())
                return None
        return (lambda fd, data: writers[fd](data) if fd in writers else None), stdin

    def _run_command(self, command: Command, sink: Sink, stdin: Stdin, stop: threading.Event) -> int:
        words = list(command.words)
        assignments: dict[str, str] = {}
        while words and isinstance(words[0][0], Lit) and not words[0][0].quoted and \
                _ASSIGNMENT.match(words[0][0].text):
            name, _, rest = words[0][0].text.partition("=")
            assignments[name] = self.expand((Lit(rest), *words.pop(0)[1:]))
        argv = self.expand_words(words)
        if not argv:
            self.variables.update(assignments)
            return self.status if any(isinstance(part, Sub) for word in command.words for part in word) else 0
        io = CommandIO(self, stdin, lambda data: sink(1, data), lambda data: sink(2, data), stop)
        saved = {name: self.variables.get(name) for name in assignments}
        self.variables.update(assignments)  # visible to this command only, as its environment
        try:
            return self.dispatch(io, argv)
        finally:
            for name, value in saved.items():
                if value is None:
                    self.variables.pop(name, None)
                else:
                    self.variables[name] = value

    def dispatch(self, io: CommandIO, argv: list[str]) -> int:
        """Run one command by name: a builtin, else a command of the device's table, else 127."""
        name = argv[0]
        builtin = BUILTINS.get(name)
        if builtin is not None:
            return builtin(io, argv[1:])
        function = self.find(name)
        if function is None:
            if self.on_unknown is not None:
                self.on_unknown(name, argv)
            return io.fail(f"{SHELL}: {name}: not found", 127)
        if self.device is not None and self.device.faults.linker_warnings:
            io.err(f"WARNING: linker: /system/bin/{name.removeprefix('/system/bin/')}: unused DT entry: "
                   "type 0x6ffffffe arg 0x8a4\n")
        wait_ms, total_ms = self.cost_ms(argv)
        started = time.monotonic()
        # The phone's time is spent outside the lock: other streams keep using the phone meanwhile.
        time.sleep(wait_ms / 1000)
        if getattr(function, "unlocked", False):
            status = function(io, argv[1:])
        else:
            with self.lock:
                status = function(io, argv[1:])
        time.sleep(max(0.0, total_ms / 1000 - (time.monotonic() - started)))
        return status

    def find(self, name: str) -> CommandFn | None:
        """The device command a name runs (`/system/bin/X` is X), or None."""
        return self.commands.get(name.removeprefix("/system/bin/"))

    def _file_writer(self, path: str, *, append: bool) -> Writer:
        path = self.fs.normalize(path, self.cwd)
        self.fs.write(path, b"", append=True) if append else self.fs.write(path, b"")
        return lambda data: self.fs.write(path, data, append=True)
