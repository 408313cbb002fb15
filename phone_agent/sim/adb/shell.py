"""A small sh: quoting, `;`, `&&`, `||`, `$?`, pipes, redirections, dispatching to Python commands.

Nothing here ever runs a host process: every command is a Python function from the table the
device gives the shell.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol

from phone_agent.sim.adb.device import ShellPhone
from phone_agent.sim.adb.fs import FileSystem, FsError
from phone_agent.sim.adb.syntax import Command, Pipeline, ShellSyntaxError, Word, parse

SHELL = "/system/bin/sh"


# ---------------------------------------------------------------- running


class ShellExit(Exception):
    """`exit N`: stop the whole script with status N."""

    def __init__(self, status: int) -> None:
        """Carry the exit status."""
        super().__init__(status)
        self.status = status


Writer = Callable[[bytes], None]


class CommandIO:
    """What a command sees: its stdin, stdout and stderr, the device and the shell session."""

    def __init__(self, session: Session, stdin: Callable[[], bytes], stdout: Writer, stderr: Writer) -> None:
        """Bind the streams for one command invocation."""
        self.session = session
        self._stdin = stdin
        self._stdout = stdout
        self._stderr = stderr

    @property
    def device(self) -> ShellPhone | None:
        """The phone the shell runs on (None in tests of the shell alone)."""
        return self.session.device

    def read_stdin(self) -> bytes:
        """Everything on stdin (a pipe, a file, or what the host sends)."""
        return self._stdin()

    def out(self, data: str | bytes) -> None:
        """Write to stdout."""
        self._stdout(data.encode() if isinstance(data, str) else data)

    def err(self, data: str | bytes) -> None:
        """Write to stderr."""
        self._stderr(data.encode() if isinstance(data, str) else data)

    def fail(self, message: str, status: int = 1) -> int:
        """Print `message` on stderr and return `status`, the usual error exit."""
        self.err(message if message.endswith("\n") else message + "\n")
        return status


CommandFn = Callable[[CommandIO, list[str]], int]


def unlocked(function: CommandFn) -> CommandFn:
    """Mark a command that takes the device lock itself (it sleeps or does slow work outside it)."""
    function.unlocked = True  # type: ignore[attr-defined]
    return function


class Sink(Protocol):
    """Where the script's stdout (fd 1) and stderr (fd 2) go, in the order they are written."""

    def __call__(self, fd: int, data: bytes) -> None: ...


class Session:
    """One shell invocation's state: variables, `$?`, the working directory."""

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
        self.cwd = "/"
        self.variables: dict[str, str] = {
            "HOME": "/", "PATH": "/product/bin:/apex/com.android.runtime/bin:/system/bin:/system/xbin",
            "USER": "shell", "EXTERNAL_STORAGE": "/sdcard", "ANDROID_DATA": "/data", "0": SHELL,
        }

    def run(self, script: str, sink: Sink, stdin: Callable[[], bytes] = lambda: b"") -> int:
        """Run a whole script and return its exit status."""
        try:
            tree = parse(script)
        except ShellSyntaxError as exc:
            sink(2, f"{SHELL}: {exc}\n".encode())
            return 1
        try:
            for and_or in tree:
                self.status = self._run_pipeline(and_or.first, sink, stdin)
                for op, pipeline in and_or.rest:
                    if (op == "&&") == (self.status == 0):
                        self.status = self._run_pipeline(pipeline, sink, stdin)
        except ShellExit as exc:
            self.status = exc.status & 0xFF
            self.exited = True
        return self.status

    def expand(self, word: Word) -> str:
        """Substitute variables in a word."""
        return "".join(part if isinstance(part, str) else self._lookup(part.name) for part in word)

    def _lookup(self, name: str) -> str:
        if name == "?":
            return str(self.status)
        if name == "$":
            return "4242"
        if name == "#":
            return "0"
        return self.variables.get(name, "")

    def _run_pipeline(self, pipeline: Pipeline, sink: Sink, stdin: Callable[[], bytes]) -> int:
        status = 0
        feed = stdin
        last = len(pipeline.commands) - 1
        for index, command in enumerate(pipeline.commands):
            if index < last:
                captured: list[bytes] = []

                def into_pipe(fd: int, data: bytes, captured: list[bytes] = captured) -> None:
                    if fd == 1:
                        captured.append(data)
                    else:
                        sink(fd, data)

                status = self._run_command(command, into_pipe, feed)
                piped = b"".join(captured)
                feed = _constant(piped)
            else:
                status = self._run_command(command, sink, feed)
        return status

    def _run_command(self, command: Command, sink: Sink, stdin: Callable[[], bytes]) -> int:
        argv = [self.expand(word) for word in command.words]
        writers: dict[int, Writer] = {1: lambda data: sink(1, data), 2: lambda data: sink(2, data)}
        for redirect in command.redirects:
            target = self.expand(redirect.target)
            try:
                if redirect.kind == "<":
                    stdin = _constant(self.fs.read(self.fs.normalize(target, self.cwd)))
                elif redirect.kind == ">&":
                    if not target.isdigit() or int(target) not in writers:
                        sink(2, f"{SHELL}: {target}: bad file descriptor\n".encode())
                        return 1
                    writers[redirect.fd] = writers[int(target)]
                else:
                    writers[redirect.fd] = self._file_writer(target, append=redirect.kind == ">>")
            except FsError as exc:
                sink(2, f"{SHELL}: can't {'open' if redirect.kind == '<' else 'create'} {target}: "
                        f"{exc.strerror}\n".encode())
                return 1
        while argv and "=" in argv[0] and argv[0].split("=", 1)[0].isidentifier():
            name, value = argv.pop(0).split("=", 1)
            self.variables[name] = value
        if not argv:
            return 0
        io = CommandIO(self, stdin, writers.get(1, lambda data: None), writers.get(2, lambda data: None))
        return self._dispatch(io, argv)

    def _dispatch(self, io: CommandIO, argv: list[str]) -> int:
        name = argv[0]
        if name == "exit":
            raise ShellExit(int(argv[1]) if len(argv) > 1 and argv[1].lstrip("-").isdigit() else self.status)
        if name == "cd":
            path = self.fs.normalize(argv[1] if len(argv) > 1 else "/", self.cwd)
            node = self.fs.stat(path)
            if node is None or not node.is_dir:
                return io.fail(f"{SHELL}: cd: {argv[1]}: No such file or directory", 2)
            self.cwd = path
            return 0
        function = self.commands.get(name.rsplit("/", 1)[-1] if name.startswith("/system/bin/") else name)
        if function is None:
            if self.on_unknown is not None:
                self.on_unknown(name, argv)
            return io.fail(f"{SHELL}: {name}: not found", 127)
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

    def _file_writer(self, path: str, *, append: bool) -> Writer:
        path = self.fs.normalize(path, self.cwd)
        self.fs.write(path, b"", append=True) if append else self.fs.write(path, b"")
        return lambda data: self.fs.write(path, data, append=True)


def _constant(data: bytes) -> Callable[[], bytes]:
    """A stdin that yields `data` (a pipe's captured output or a file's contents)."""
    return lambda: data
