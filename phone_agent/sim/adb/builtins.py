"""The shell's builtins: the commands that act on the shell itself (variables, jobs, scripts), and `test`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from phone_agent.sim.adb.command_io import CommandIO

SIGNALS = {"HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "USR1": 10, "USR2": 12, "TERM": 15, "STOP": 19, "CONT": 18}
# Builtins that are also programs in /system/bin (toybox), so `which` finds them.
ON_DISK = {"sh", "test", "[", "kill", "which"}


class ShellExit(Exception):
    """`exit N`: stop the whole script with status N."""

    def __init__(self, status: int) -> None:
        """Carry the exit status."""
        super().__init__(status)
        self.status = status


def _sink(io: CommandIO) -> Callable[[int, bytes], None]:
    return lambda fd, data: io.out(data) if fd == 1 else io.err(data)


def exit_builtin(io: CommandIO, args: list[str]) -> int:
    """`exit [N]`."""
    raise ShellExit(int(args[0]) if args and args[0].lstrip("-").isdigit() else io.session.status)


def cd_builtin(io: CommandIO, args: list[str]) -> int:
    """`cd [DIR]`."""
    session = io.session
    path = session.fs.normalize(args[0] if args else "/", session.cwd)
    node = session.fs.stat(path)
    if node is None or not node.is_dir:
        return io.fail(f"/system/bin/sh: cd: {args[0]}: No such file or directory", 2)
    session.cwd = path
    return 0


def export_builtin(io: CommandIO, args: list[str]) -> int:
    """`export NAME[=VALUE]…` (every variable reaches commands here, so it only assigns)."""
    for arg in args:
        name, equals, value = arg.partition("=")
        if not name.isidentifier():
            return io.fail(f"/system/bin/sh: export: {arg}: bad variable name", 2)
        if equals:
            io.session.variables[name] = value
    return 0


def unset_builtin(io: CommandIO, args: list[str]) -> int:
    """`unset NAME…`."""
    for name in args:
        io.session.variables.pop(name, None)
    return 0


def exec_builtin(io: CommandIO, args: list[str]) -> int:
    """`exec CMD…`: run the command in place of the shell, which ends with its status."""
    if not args:
        return 0
    raise ShellExit(io.session.dispatch(io, args))


def read_builtin(io: CommandIO, args: list[str]) -> int:
    """`read [-r] [-p PROMPT] NAME…`: one line of stdin split over the names, the rest to the last."""
    names: list[str] = []
    queue = list(args)
    while queue:
        arg = queue.pop(0)
        if arg == "-p" and queue:
            io.err(queue.pop(0))
        elif arg != "-r":
            names.append(arg)
    line = io.stdin.readline()
    if line is None:
        return 1
    words = line.decode("utf-8", "replace").rstrip("\n").split(maxsplit=max(len(names) - 1, 0))
    for index, name in enumerate(names or ["REPLY"]):
        io.session.variables[name] = words[index] if index < len(words) else ""
    return 0


def sh_builtin(io: CommandIO, args: list[str]) -> int:
    """`sh -c SCRIPT [NAME ARGS…]`, `sh FILE [ARGS…]` or `sh` reading the script from stdin."""
    session = io.session
    if args[:1] == ["-c"]:
        if len(args) < 2:
            return io.fail("/system/bin/sh: -c: argument missing", 2)
        script, params, name = args[1], args[3:], args[2] if len(args) > 2 else None
    elif args:
        try:
            script = session.fs.read(session.fs.normalize(args[0], session.cwd)).decode("utf-8", "replace")
        except OSError as exc:
            return io.fail(f"/system/bin/sh: {args[0]}: {exc.strerror}", 127)
        params, name = args[1:], args[0]
    else:
        script, params, name = io.read_stdin().decode("utf-8", "replace"), [], None
    child = session.child(params)
    if name is not None:
        child.variables["0"] = name
    return child.run(script, _sink(io), io.stdin, io.stop_event)


def eval_builtin(io: CommandIO, args: list[str]) -> int:
    """`eval WORDS…`: run the joined words as a script in this shell."""
    session = io.session
    status = session.run(" ".join(args), _sink(io), io.stdin, io.stop_event)
    if session.exited:
        raise ShellExit(status)
    return status


def set_builtin(io: CommandIO, args: list[str]) -> int:
    """`set -- ARGS…` replaces the positional arguments; shell options are accepted and ignored."""
    if "--" in args:
        io.session.args = args[args.index("--") + 1 :]
    elif not args:
        io.out("".join(f"{name}={value}\n" for name, value in sorted(io.session.variables.items())))
    return 0


def shift_builtin(io: CommandIO, args: list[str]) -> int:
    """`shift [N]`."""
    count = int(args[0]) if args and args[0].isdigit() else 1
    if count > len(io.session.args):
        return io.fail("/system/bin/sh: shift: can't shift that many", 1)
    io.session.args = io.session.args[count:]
    return 0


def kill_builtin(io: CommandIO, args: list[str]) -> int:
    """`kill [-SIGNAL | -s SIGNAL] PID…` for the shell's jobs; `kill -l` lists the signals."""
    if args[:1] == ["-l"]:
        io.out(" ".join(SIGNALS) + "\n")
        return 0
    queue = list(args)
    if queue[:1] == ["-s"]:
        queue = queue[2:]
    elif queue and queue[0].startswith("-"):
        queue.pop(0)
    if not queue:
        return io.fail("usage: kill [-s SIGNAL | -SIGNAL] PID...", 2)
    status = 0
    for pid in queue:
        job = io.session.jobs.get(int(pid)) if pid.isdigit() else None
        if job is None:
            status = io.fail(f"/system/bin/sh: kill: {pid}: No such process")
        else:
            job.stop.set()
    return status


def wait_builtin(io: CommandIO, args: list[str]) -> int:
    """`wait [PID…]`: until those jobs (or all of them) end; their last status."""
    jobs = io.session.jobs
    pids = [int(pid) for pid in args if pid.isdigit()] or list(jobs)
    status = 0
    for pid in pids:
        job = jobs.get(pid)
        if job is None:
            status = 127
            continue
        while job.thread is not None and job.thread.is_alive() and not io.session.hung_up():
            job.thread.join(0.05)
        status = job.status
    return status


def _where(io: CommandIO, name: str) -> str | None:
    """`/system/bin/NAME` when a program of that name exists."""
    return f"/system/bin/{name.removeprefix('/system/bin/')}" if io.session.find(name) or name in ON_DISK else None


def which_command(io: CommandIO, args: list[str]) -> int:
    """`which NAME…`: the program's path; 1 when one is missing."""
    found = [path for path in (_where(io, name) for name in args) if path]
    io.out("".join(f"{path}\n" for path in found))
    return 0 if len(found) == len(args) and args else 1


def command_builtin(io: CommandIO, args: list[str]) -> int:
    """`command -v NAME` / `command -V NAME`, or `command CMD…` (run it, skipping nothing else here)."""
    if args[:1] in (["-v"], ["-V"]):
        verbose = args[0] == "-V"
        status = 0
        for name in args[1:]:
            path = _where(io, name)
            if name in BUILTINS and name not in ON_DISK:
                io.out(f"{name} is a shell builtin\n" if verbose else f"{name}\n")
            elif path:
                io.out(f"{name} is {path}\n" if verbose else f"{path}\n")
            else:
                status = 1 if not verbose else io.fail(f"{name}: not found", 1)
        return status
    return io.session.dispatch(io, args) if args else 0


def type_builtin(io: CommandIO, args: list[str]) -> int:
    """`type NAME…`."""
    return command_builtin(io, ["-V", *args])


def test_builtin(io: CommandIO, args: list[str]) -> int:
    """`test EXPR`: 0 when true, 1 when false, 2 on a malformed expression."""
    try:
        return 0 if _evaluate(io, args) else 1
    except (ValueError, IndexError) as exc:
        return io.fail(f"test: {exc or 'bad expression'}", 2)


def bracket_builtin(io: CommandIO, args: list[str]) -> int:
    """`[ EXPR ]`."""
    if not args or args[-1] != "]":
        return io.fail("[: missing ]", 2)
    return test_builtin(io, args[:-1])


def _evaluate(io: CommandIO, args: list[str]) -> bool:
    for joiner in ("-o", "-a"):
        if joiner in args[1:-1]:
            index = args.index(joiner, 1)
            first, second = _evaluate(io, args[:index]), _evaluate(io, args[index + 1 :])
            return (first or second) if joiner == "-o" else (first and second)
    if args[:1] == ["!"]:
        return not _evaluate(io, args[1:])
    match args:
        case []:
            return False
        case [value]:
            return value != ""
        case ["-n", value]:
            return value != ""
        case ["-z", value]:
            return value == ""
        case [flag, path] if flag in ("-e", "-f", "-d", "-s", "-r", "-w", "-x", "-L", "-c"):
            return _file_test(io, flag, path)
        case [left, ("=" | "==" | "!=") as op, right]:
            return (left == right) != (op == "!=")
        case [left, op, right] if op in _NUMERIC:
            return _NUMERIC[op](int(left), int(right))
    raise ValueError(f"unknown operand {args[0]}")


_NUMERIC: dict[str, Callable[[int, int], bool]] = {
    "-eq": lambda a, b: a == b, "-ne": lambda a, b: a != b, "-lt": lambda a, b: a < b,
    "-le": lambda a, b: a <= b, "-gt": lambda a, b: a > b, "-ge": lambda a, b: a >= b,
}


def _file_test(io: CommandIO, flag: str, path: str) -> bool:
    node = io.session.fs.stat(io.session.fs.normalize(path, io.session.cwd))
    if node is None:
        return False
    match flag:
        case "-f":
            return not node.is_dir and (node.mode & 0o170000) != 0o020000
        case "-d":
            return node.is_dir
        case "-s":
            return node.size > 0
        case "-c":
            return (node.mode & 0o170000) == 0o020000
        case "-x":
            return node.is_dir or bool(node.mode & 0o111)
        case "-L":
            return False
    return True


def source_builtin(io: CommandIO, args: list[str]) -> int:
    """`. FILE`: run a file's commands in this shell."""
    if not args:
        return io.fail("/system/bin/sh: .: filename argument required", 2)
    try:
        text = io.session.fs.read(io.session.fs.normalize(args[0], io.session.cwd)).decode("utf-8", "replace")
    except OSError as exc:
        return io.fail(f"/system/bin/sh: .: {args[0]}: {exc.strerror}", 2)
    return eval_builtin(io, [text])


BUILTINS: dict[str, Callable[[CommandIO, list[str]], int]] = {
    "exit": exit_builtin, "cd": cd_builtin, "export": export_builtin, "unset": unset_builtin, "exec": exec_builtin,
    "read": read_builtin, "sh": sh_builtin, "/system/bin/sh": sh_builtin, "eval": eval_builtin, ".": source_builtin,
    "set": set_builtin, "shift": shift_builtin, "kill": kill_builtin, "wait": wait_builtin, "which": which_command,
    "command": command_builtin, "type": type_builtin, "test": test_builtin, "[": bracket_builtin,
    ":": lambda io, args: 0,
}
