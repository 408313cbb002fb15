"""`logcat` and `log`: reading and writing the phone's log buffer."""

from __future__ import annotations

import time

from phone_agent.sim.adb.command_io import CommandIO, unlocked
from phone_agent.sim.adb.common import phone_of
from phone_agent.sim.logs import LEVELS, LogEntry

FOLLOW_POLL_S = 0.1
QUIET_S = 0.5  # a phone's log is never quiet for long: the system writes this often at least
_VALUE_OPTIONS = {"-v", "-b", "-t", "-T", "-m", "-f", "-r", "-n", "-e", "--pid", "--format", "--buffer"}
_FORMATS = {"brief", "process", "tag", "thread", "raw", "time", "threadtime", "long"}
USAGE = "Usage: logcat [options] [filterspecs]\n  -d dump and exit, -c clear, -v <format>, -s silence others\n"


def format_entry(entry: LogEntry, style: str) -> str:
    """One line as `logcat -v STYLE` prints it."""
    stamp = time.strftime("%m-%d %H:%M:%S", time.localtime(entry.when)) + f".{int(entry.when * 1000) % 1000:03d}"
    match style:
        case "brief":
            return f"{entry.level}/{entry.tag:<8}({entry.pid:5d}): {entry.message}\n"
        case "time":
            return f"{stamp} {entry.level}/{entry.tag:<8}({entry.pid:5d}): {entry.message}\n"
        case "tag":
            return f"{entry.level}/{entry.tag:<8}: {entry.message}\n"
        case "process":
            return f"{entry.level}({entry.pid:5d}) {entry.message}  ({entry.tag})\n"
        case "thread":
            return f"{entry.level}({entry.pid:5d}:{entry.tid:5d}) {entry.message}\n"
        case "raw":
            return f"{entry.message}\n"
        case "long":
            return f"[ {stamp} {entry.pid:5d}:{entry.tid:5d} {entry.level}/{entry.tag} ]\n{entry.message}\n\n"
    return f"{stamp} {entry.pid:5d} {entry.tid:5d} {entry.level} {entry.tag:<8}: {entry.message}\n"


def _filter(specs: list[str]) -> dict[str, int]:
    """`TAG:LEVEL` specs to tag -> lowest level shown; `*` is the default for other tags.

    Raises:
        ValueError: a malformed spec.
    """
    levels = {"*": 0}
    for spec in specs:
        tag, _, level = spec.partition(":")
        level = (level or "V").upper()[:1]
        if not tag or level not in LEVELS:
            raise ValueError(spec)
        levels[tag] = LEVELS.index(level)
    return levels


def _shown(entry: LogEntry, levels: dict[str, int]) -> bool:
    return LEVELS.index(entry.level) >= levels.get(entry.tag, levels["*"])


@unlocked
def logcat_command(io: CommandIO, args: list[str]) -> int:
    """`logcat [-d] [-c] [-v FORMAT] [-t N] [-s] [TAG:LEVEL…]`: without -d it follows until stopped."""
    logs = phone_of(io).logs
    options: dict[str, str] = {}
    flags: set[str] = set()
    specs = io.session.variables.get("ANDROID_LOG_TAGS", "").split()
    queue = list(args)
    while queue:
        arg = queue.pop(0)
        if arg in _VALUE_OPTIONS and queue:
            options[arg] = queue.pop(0)
        elif arg.startswith("--") and "=" in arg:
            name, _, value = arg.partition("=")
            options[name] = value
        elif arg in ("--clear", "--dump"):
            flags.add(arg[2])
        elif arg.startswith("-") and len(arg) > 1:
            flags.update(arg[1:])
        else:
            specs.append(arg)
    if "c" in flags:
        logs.clear()
        return 0
    style = options.get("-v", options.get("--format", "threadtime"))
    if style not in _FORMATS and style not in ("color", "epoch", "monotonic", "uid", "usec", "year", "zone"):
        return io.fail(f"Invalid parameter \"{style}\" to -v.\n{USAGE}", 1)
    try:
        levels = _filter((["*:S"] if "s" in flags else []) + specs)
    except ValueError as exc:
        return io.fail(f"Invalid filter expression '{exc}'\n{USAGE}", 1)
    entries = [entry for entry in logs.after(0) if _shown(entry, levels)]
    count = options.get("-t") or options.get("-T")
    if count is not None and count.isdigit():
        entries = entries[-int(count):]
    io.out("".join(format_entry(entry, style) for entry in entries))
    if "d" in flags or "-t" in options:
        return 0
    seen = logs.after(0)[-1].seq if logs.after(0) else 0
    last_line = time.monotonic()
    while not io.stopped():
        io.flush()
        fresh = logs.wait_after(seen, FOLLOW_POLL_S)
        if fresh:
            seen, last_line = fresh[-1].seq, time.monotonic()
            io.out("".join(format_entry(entry, style) for entry in fresh if _shown(entry, levels)))
        elif time.monotonic() - last_line > QUIET_S:
            # Readers such as adbutils' logcat() notice a stop only when the next line arrives.
            logs.write("D", "BatteryService", "Processing new values: level:100, scale:100, status:2, health:2")
    return 0


def log_command(io: CommandIO, args: list[str]) -> int:
    """`log [-p PRIORITY] [-t TAG] MESSAGE…`."""
    level, tag = "I", "log"
    queue = list(args)
    while queue and queue[0] in ("-p", "-t") and len(queue) > 1:
        option, value = queue.pop(0), queue.pop(0)
        if option == "-p":
            level = value.upper()[:1]
            if level not in LEVELS[:-1]:
                return io.fail(f"log: bad priority '{value}'")
        else:
            tag = value
    if not queue:
        return io.fail("usage: log [-p PRI] [-t TAG] MESSAGE...")
    phone_of(io).logs.write(level, tag, " ".join(queue), pid=4242)
    return 0
