"""The toybox-like basics: echo, cat, ls, rm, mkdir, grep, sleep and friends, over the in-memory files."""

from __future__ import annotations

import gzip
import hashlib
import re
import time
import zlib

from phone_agent.sim.adb.command_io import CommandIO, unlocked
from phone_agent.sim.adb.fs import FsError, Node
from phone_agent.sim.adb.textio import encode, python_regex, read_inputs, text_lines

MAX_SLEEP_S = 60.0  # a runaway `sleep` must not pin a stream thread for ever


def _split_flags(args: list[str], known: str) -> tuple[set[str], list[str]]:
    """Separate single-letter flags (combinable, `-rf`) from operands; `--` ends the flags."""
    flags: set[str] = set()
    operands: list[str] = []
    for index, arg in enumerate(args):
        if arg == "--":
            operands.extend(args[index + 1 :])
            break
        if arg.startswith("-") and len(arg) > 1 and all(char in known for char in arg[1:]):
            flags.update(arg[1:])
        else:
            operands.append(arg)
    return flags, operands


def _path(io: CommandIO, path: str) -> str:
    return io.session.fs.normalize(path, io.session.cwd)


def echo_command(io: CommandIO, args: list[str]) -> int:
    """`echo [-n] [-e] WORDS…`."""
    flags: set[str] = set()
    words = list(args)
    while words and words[0] in ("-n", "-e", "-ne", "-en"):
        flags.update(words.pop(0)[1:])
    text = " ".join(words)
    if "e" in flags:
        text = text.encode().decode("unicode_escape", "replace")
    io.out(text if "n" in flags else text + "\n")
    return 0


def printf_command(io: CommandIO, args: list[str]) -> int:
    """`printf FORMAT [ARG…]` with %s, %d and backslash escapes."""
    if not args:
        return io.fail("printf: needs 1 argument")
    values = iter(args[1:])

    def substitute(match: re.Match[str]) -> str:
        spec = match.group(0)
        if spec == "%%":
            return "%"
        value = next(values, "")
        return str(int(value or 0)) if spec == "%d" else value

    text = re.sub(r"%[sd%]", substitute, args[0])
    io.out(text.replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\"))
    return 0


def cat_command(io: CommandIO, args: list[str]) -> int:
    """`cat [FILE…]` (stdin when no file)."""
    _, files = _split_flags(args, "uvtAe")
    if not files:
        io.out(io.read_stdin())
        return 0
    status = 0
    for name in files:
        try:
            io.out(io.read_stdin() if name == "-" else io.session.fs.read(_path(io, name)))
        except FsError as exc:
            status = io.fail(f"cat: {name}: {exc.strerror}")
    return status


def _long_entry(name: str, node: Node) -> str:
    kind = "d" if node.is_dir else "c" if (node.mode & 0o170000) == 0o020000 else "-"
    bits = "".join(flag if node.mode & (1 << (8 - index)) else "-" for index, flag in enumerate("rwxrwxrwx"))
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(node.mtime))
    return f"{kind}{bits} 1 root sdcard_rw {node.size:>8} {when} {name}\n"


def ls_command(io: CommandIO, args: list[str]) -> int:
    """`ls [-l] [-a] [-1] [-d] [PATH…]`."""
    flags, paths = _split_flags(args, "laA1dRhst")
    status = 0
    for name in paths or [io.session.cwd]:
        node = io.session.fs.stat(_path(io, name))
        if node is None:
            status = io.fail(f"ls: {name}: No such file or directory")
            continue
        if not node.is_dir or "d" in flags:
            io.out(_long_entry(name, node) if "l" in flags else f"{name}\n")
            continue
        if len(paths) > 1:
            io.out(f"{name}:\n")
        for child, child_node in io.session.fs.listdir(_path(io, name)):
            io.out(_long_entry(child, child_node) if "l" in flags else f"{child}\n")
    return status


def rm_command(io: CommandIO, args: list[str]) -> int:
    """`rm [-f] [-r] PATH…`."""
    flags, paths = _split_flags(args, "frRiv")
    if not paths and "f" not in flags:
        return io.fail("rm: Needs 1 argument")
    status = 0
    for name in paths:
        try:
            io.session.fs.remove(_path(io, name), recursive=bool(flags & {"r", "R"}))
        except FsError as exc:
            if not ("f" in flags and exc.errno == 2):
                status = io.fail(f"rm: {name}: {exc.strerror}")
    return status


def mkdir_command(io: CommandIO, args: list[str]) -> int:
    """`mkdir [-p] DIR…`."""
    flags, paths = _split_flags(args, "pv")
    status = 0
    for name in paths:
        try:
            io.session.fs.mkdir(_path(io, name), parents="p" in flags)
        except FsError as exc:
            status = io.fail(f"mkdir: {name}: {exc.strerror}")
    return status


def touch_command(io: CommandIO, args: list[str]) -> int:
    """`touch FILE…`: create empty files, keep existing contents."""
    status = 0
    for name in args:
        try:
            io.session.fs.write(_path(io, name), b"", append=True)
        except FsError as exc:
            status = io.fail(f"touch: {name}: {exc.strerror}")
    return status


def grep_command(io: CommandIO, args: list[str]) -> int:
    """`grep [-E] [-F] [-i] [-v] [-q] [-c] [-w] [-x] [-e PATTERN] [PATTERN] [FILE…]`."""
    patterns: list[str] = []
    rest: list[str] = []
    flags: set[str] = set()
    queue = list(args)
    while queue:
        arg = queue.pop(0)
        if arg == "-e" and queue:
            patterns.append(queue.pop(0))
        elif arg.startswith("-") and len(arg) > 1 and all(char in "EFivqcwxnsH" for char in arg[1:]):
            flags.update(arg[1:])
        else:
            rest.append(arg)
    if not patterns:
        if not rest:
            return io.fail("usage: grep [-EFivqcwxn] [-e PATTERN] PATTERN [FILE...]", 2)
        patterns.append(rest.pop(0))
    sources = [re.escape(p) if "F" in flags else python_regex(p, extended="E" in flags) for p in patterns]
    if "w" in flags:
        sources = [rf"\b(?:{p})\b" for p in sources]
    if "x" in flags:
        sources = [rf"^(?:{p})$" for p in sources]
    try:
        regex = re.compile("|".join(f"(?:{p})" for p in sources), re.IGNORECASE if "i" in flags else 0)
    except re.error as exc:
        return io.fail(f"grep: bad regex: {exc}", 2)
    data, ok = read_inputs(io, rest, "grep")
    lines, _ = text_lines(data)
    matched = [line for line in lines if bool(regex.search(line)) != ("v" in flags)]
    if "c" in flags:
        io.out(f"{len(matched)}\n")
    elif "q" not in flags:
        io.out(encode("".join(line + "\n" for line in matched)))
    return 2 if not ok else 0 if matched else 1


@unlocked
def sleep_command(io: CommandIO, args: list[str]) -> int:
    """`sleep SECONDS` (really sleeps, capped)."""
    try:
        seconds = float(args[0]) if args else 0.0
    except ValueError:
        return io.fail(f"sleep: invalid number '{args[0]}'")
    # A killed sleep ends at once, as SIGINT ends it.
    return 130 if io.wait(min(max(seconds, 0.0), MAX_SLEEP_S)) else 0


def head_tail(io: CommandIO, args: list[str], tail: bool) -> int:
    """Shared body of `head` and `tail -n N`."""
    count, by_bytes = 10, False
    names = []
    queue = list(args)
    while queue:
        arg = queue.pop(0)
        if arg in ("-n", "-c") and queue and queue[0].isdigit():
            count, by_bytes = int(queue.pop(0)), arg == "-c"
        elif arg.startswith("-") and arg[1:].isdigit():
            count = int(arg[1:])
        else:
            names.append(arg)
    data, ok = read_inputs(io, names, "tail" if tail else "head")
    if by_bytes:
        io.out((data[-count:] if tail else data[:count]) if count else b"")
        return 0 if ok else 1
    lines = data.splitlines(keepends=True)
    io.out(b"".join(lines[-count:] if tail else lines[:count]) if count else b"")
    return 0 if ok else 1


def wc_command(io: CommandIO, args: list[str]) -> int:
    """`wc [-l] [-c] [-w]` over stdin or files."""
    flags, names = _split_flags(args, "lcwm")
    data, ok = read_inputs(io, names, "wc")
    counts = {"l": data.count(b"\n"), "w": len(data.split()), "c": len(data), "m": len(data)}
    chosen = [key for key in "lwcm" if key in flags] or ["l", "w", "c"]
    io.out(" ".join(str(counts[key]) for key in chosen) + "\n")
    return 0 if ok else 1


def _spend(started: float, size: int, bytes_per_s: int) -> None:
    """Take as long as the phone needs for `size` bytes at `bytes_per_s` (0: no limit), counting time already spent."""
    if bytes_per_s:
        time.sleep(max(0.0, size / bytes_per_s - (time.monotonic() - started)))


def checksum_command(io: CommandIO, args: list[str], algorithm: str) -> int:
    """`md5sum|sha256sum [FILE…]`: toybox's `HEX  NAME` lines (stdin, named `-`, when no file)."""
    _, names = _split_flags(args, "bc")
    status = 0
    for name in names or ["-"]:
        try:
            data = io.read_stdin() if name == "-" else io.session.fs.read(_path(io, name))
        except FsError as exc:
            status = io.fail(f"{algorithm}sum: {name}: {exc.strerror}")
            continue
        started = time.monotonic()
        digest = hashlib.new(algorithm, data).hexdigest()
        _spend(started, len(data), io.device.profile.hash_bytes_per_s if io.device else 0)
        io.out(f"{digest}  {name}\n")
    return status


def gzip_command(io: CommandIO, args: list[str]) -> int:
    """`gzip [-1…9] [-c] [-d] [-k] [FILE…]`: stdin to stdout, FILE to FILE.gz (or to stdout with -c)."""
    flags, names = _split_flags(args, "123456789cdfkn")
    level = max((int(flag) for flag in flags if flag.isdigit()), default=6)
    for name in names or ["-"]:
        try:
            data = io.read_stdin() if name == "-" else io.session.fs.read(_path(io, name))
        except FsError as exc:
            return io.fail(f"gzip: {name}: {exc.strerror}")
        started = time.monotonic()
        try:
            result = gzip.decompress(data) if "d" in flags else gzip.compress(data, level, mtime=0)
        except (OSError, EOFError, zlib.error):
            return io.fail(f"gzip: {name}: not in gzip format")
        if "d" not in flags:  # deflating is the slow way
            _spend(started, len(data), io.device.profile.deflate_bytes_per_s if io.device else 0)
        if name == "-" or "c" in flags:
            io.out(result)
            continue
        target = name.removesuffix(".gz") if "d" in flags else name + ".gz"
        io.session.fs.write(_path(io, target), result)
        if "k" not in flags:
            io.session.fs.remove(_path(io, name))
    return 0


def date_command(io: CommandIO, args: list[str]) -> int:
    """`date [+FORMAT]` from the host clock (the only host fact a client can read)."""
    if args and args[0].startswith("+"):
        io.out(time.strftime(args[0][1:].replace("%s", str(int(time.time())))) + "\n")
    else:
        io.out(time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime()) + "\n")
    return 0


SHELL_ID = ("uid=2000(shell) gid=2000(shell) groups=2000(shell),1004(input),1007(log),1011(adb),"
            "1015(sdcard_rw),1028(sdcard_r),3003(inet) context=u:r:shell:s0\n")

# None of these touch the UI or system state (the file system locks itself), and several read
# stdin, which may block until the host sends it: they must not hold the phone's lock meanwhile.
COREUTILS = {name: unlocked(function) for name, function in {
    "echo": echo_command,
    "printf": printf_command,
    "cat": cat_command,
    "ls": ls_command,
    "rm": rm_command,
    "mkdir": mkdir_command,
    "touch": touch_command,
    "grep": grep_command,
    "sleep": sleep_command,
    "head": lambda io, args: head_tail(io, args, tail=False),
    "tail": lambda io, args: head_tail(io, args, tail=True),
    "wc": wc_command,
    "date": date_command,
    "md5sum": lambda io, args: checksum_command(io, args, "md5"),
    "sha256sum": lambda io, args: checksum_command(io, args, "sha256"),
    "gzip": gzip_command,
    "true": lambda io, args: 0,
    "false": lambda io, args: 1,
    "id": lambda io, args: (io.out(SHELL_ID), 0)[1],
    "whoami": lambda io, args: (io.out("shell\n"), 0)[1],
    "pwd": lambda io, args: (io.out(io.session.cwd + "\n"), 0)[1],
    "sync": lambda io, args: 0,
}.items()}
