"""Fuzz both reply dialects: every input must give an action or an ActionParseError, and run no code.

Inputs come in kinds: random text, valid answers mutated, deep nesting, huge replies, odd Unicode
(lone surrogates, pairs split apart, NUL, bidi marks) and code-execution payloads. Each is fed to
``parse_reply`` (AutoGLM text) and, as arguments, to ``parse_tool_call`` (tool calling). A crash is
any other exception; code execution is watched by an audit hook (exec, os.system, subprocess) and by
payloads that would create a marker file. ``--bench`` instead times adversarial replies of 8 KB,
80 KB and 1 MB (many ``do(`` candidates, nesting, quotes, blank space).

    python scripts/fuzz_grammar.py [--n 200000] [--seed 1]
    python scripts/fuzz_grammar.py --bench
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

from actions import (
    ActionParseError,
    Back,
    Finish,
    Launch,
    Swipe,
    Tap,
    Type,
    Wait,
    format_action,
    parse_reply,
    parse_tool_call,
    tool_call_for,
)

MARKER = Path(tempfile.gettempdir()) / "phone-agent-fuzz-executed"
_RUNS_CODE = ("exec", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "subprocess.Popen", "os.fork")
ALPHABET = 'do()[]{}"\\\',=<>/ actionTapelm0123456789\n\'finshmsg_.:;#*+-xtp'
TOOLS = ("tap", "type_text", "swipe", "finish", "launch", "wait", "Long Press", "nope", "")
PAYLOADS = (
    f'__import__("os").system("touch {MARKER}")',
    f'open("{MARKER}", "w").write("x")',
    f'exec("open(\\"{MARKER}\\", \\"w\\")")',
    f'eval("__import__(\\"os\\").system(\\"touch {MARKER}\\")")',
    f'(lambda: __import__("subprocess").run(["touch", "{MARKER}"]))()',
    '().__class__.__bases__[0].__subclasses__()',
    f'[x for x in [open("{MARKER}", "w")]]',
    f'(f := open("{MARKER}", "w"))',
    f'f"{{open(\\"{MARKER}\\", \\"w\\")}}"',
    f'breakpoint() or open("{MARKER}", "w")',
)
ODD = ("\ud83d", "\ude00", "\ud83d\ude00", "\x00", "\u202e", "\ufeff", "\U0001f3a7", "\r\n", "\u2028", "é", "\udcff")
_executed: list[str] = []


def _audit(event: str, args: tuple[object, ...]) -> None:
    """Note code run from text; a module's code run by a lazy import (a codec, say) comes from a file."""
    source = str(getattr(args[0], "co_filename", "<text>")) if event == "exec" and args else ""
    if event.startswith(_RUNS_CODE) and not (source and not source.startswith("<")):
        _executed.append(f"{event} {source}")


def _valid(rng: random.Random) -> str:
    point = [rng.randrange(1000), rng.randrange(1000)]
    action = rng.choice(
        [Tap(element=point), Type(text=rng.choice(ODD) * 3), Back(), Launch(app="eBay"),
         Swipe(start=point, end=point), Wait(duration="2 seconds"), Finish(message="done")]
    )
    return format_action(action)


def _mutated(rng: random.Random) -> str:
    text = list(f"<think>{rng.choice(ODD)} plan</think><answer>{_valid(rng)}</answer>")
    for _ in range(rng.randint(1, 8)):
        spot = rng.randrange(len(text) + 1)
        move = rng.randrange(4)
        if move == 0:
            text.insert(spot, rng.choice(ALPHABET + "".join(ODD)))
        elif move == 1 and spot < len(text):
            del text[spot]
        elif move == 2:
            text[spot:spot] = text[: rng.randrange(len(text) + 1)]
        else:
            text.insert(spot, rng.choice(PAYLOADS))
    return "".join(text)


def _deep(rng: random.Random) -> str:
    depth = rng.choice([50, 200, 1000, 5000, 20000])
    inner = rng.choice(
        ["[" * depth + "]" * depth, "(" * depth + ")" * depth, "1+" * depth + "1", "-" * depth + "1",
         "a." * depth + "b", "not " * depth + "x", "{" * depth + "}" * depth, "x(" * depth + ")" * depth]
    )
    return rng.choice([f'do(action="Tap", element=[{inner}, 1])', f"<answer>do(action={inner})</answer>",
                       f"{inner}()", f"<answer>{inner}</answer>", f'finish(message="x"{", " + inner})'])


def _huge(rng: random.Random) -> str:
    size = rng.choice([10_000, 50_000, 200_000])
    unit = rng.choice(['do(', 'I will do(action="Tap", element=[1, 2]) ', '"', "\\", " ", "finish (", ")"])
    return unit * (size // len(unit)) + rng.choice(["", _valid(rng), f"<answer>{_valid(rng)}</answer>"])


def _unicode(rng: random.Random) -> str:
    pieces = [rng.choice(ODD) for _ in range(rng.randint(1, 10))]
    at = rng.randrange(len(pieces) + 1)
    pieces.insert(at, rng.choice([f'do(action="Type", text="{"".join(pieces)}")', f'finish("{pieces[0]}")']))
    return "".join(pieces)


def _payload(rng: random.Random) -> str:
    field = rng.choice(["element", "text", "message", "action", "app"])
    code = rng.choice(PAYLOADS)
    return rng.choice([f'<answer>do(action="Type", {field}={code})</answer>', f"<answer>{code}</answer>",
                       f'do(action="Tap", element=[{code}, 1])', code, f"finish(message={code})"])


def _random(rng: random.Random) -> str:
    alphabet = rng.choice([ALPHABET, "".join(ODD)])
    return rng.choice(
        [
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120))),
            "".join(chr(rng.randrange(0x110000)) for _ in range(rng.randint(0, 60))),  # surrogates included
            bytes(rng.randrange(256) for _ in range(rng.randint(0, 80))).decode("utf-8", "surrogateescape"),
        ]
    )


KINDS: dict[str, Callable[[random.Random], str]] = {
    "random": _random, "mutated": _mutated, "deep": _deep, "huge": _huge, "unicode": _unicode, "payload": _payload,
}
WEIGHTS = {"random": 30, "mutated": 40, "deep": 5, "huge": 1, "unicode": 14, "payload": 10}


def _arguments(rng: random.Random, text: str) -> str:
    """Tool-call arguments: the text itself, or JSON carrying it, nested, or a valid call mutated."""
    name, valid = tool_call_for(Type(text="hi"))
    return rng.choice([text, json.dumps({"text": text}), json.dumps({"text": text}, ensure_ascii=False),
                       "[" * len(text) + "]" * len(text), json.dumps(json.dumps({"element": [1, 2]})),
                       valid[: rng.randrange(len(valid) + 1)] + text])


def _attempt(call: Callable[[], object]) -> str | None:
    """None when ``call`` gives an action or an ActionParseError; otherwise the crash."""
    try:
        call()
    except ActionParseError as exc:
        str(exc).encode("utf-8")  # the message must be writable anywhere
    except Exception as exc:  # noqa: BLE001 - any other exception is what the fuzzer looks for
        return f"{type(exc).__name__}: {str(exc)[:100]}"
    return None


def fuzz(count: int, seed: int) -> int:
    """Run ``count`` inputs through both dialects; print the figures; the number of failures."""
    rng = random.Random(seed)
    MARKER.unlink(missing_ok=True)
    sys.addaudithook(_audit)
    crashes: Counter[str] = Counter()
    times: list[float] = []
    slowest: tuple[float, str, Callable[[], object]] = (0.0, "", str)
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    for _ in range(count):
        kind = rng.choices(kinds, weights)[0]
        text = KINDS[kind](rng)
        arguments = _arguments(rng, text)
        for dialect, call in (("text", partial(parse_reply, text)),
                              ("tools", partial(parse_tool_call, rng.choice(TOOLS), arguments))):
            started = time.perf_counter()
            crash = _attempt(call)
            elapsed = time.perf_counter() - started
            times.append(elapsed)
            if elapsed > slowest[0]:
                slowest = (elapsed, f"{dialect}/{kind}, {len(text):,} chars", call)
            if crash:
                crashes[f"{dialect}/{kind}: {crash}"] += 1
    executed = len(_executed) + MARKER.exists()
    print(f"{count:,} inputs ({len(times):,} parses, seed {seed}): {sum(crashes.values())} crashes, "
          f"{executed} code executed")
    print(f"time per parse: mean {statistics.fmean(times) * 1e3:.3f} ms, "
          f"99.9th percentile {statistics.quantiles(times, n=1000)[-1] * 1e3:.1f} ms, "
          f"max {slowest[0] * 1e3:.1f} ms ({slowest[1]}; {min(_timings(5, slowest[2])) * 1e3:.1f} ms timed again)")
    for crash, times_seen in crashes.most_common(10):
        print(f"  {times_seen}x {crash}")
    for event in _executed[:10]:
        print(f"  executed: {event}")
    return sum(crashes.values()) + executed


def _timings(times: int, call: Callable[[], object]) -> list[float]:
    """How long each of several calls took (on a busy machine the longest says more about the machine)."""
    runs = []
    for _ in range(times):
        started = time.perf_counter()
        _attempt(call)
        runs.append(time.perf_counter() - started)
    return runs


def bench() -> None:
    """Time adversarial replies of 8 KB, 80 KB and 1 MB through both dialects (best and worst of 5)."""
    shapes: dict[str, Callable[[int], str]] = {
        "untagged, do( everywhere": lambda n: "do(" * (n // 3),
        "untagged, calls in prose": lambda n: ('I could do(action="Tap", element=[1, 2]) or ' * (n // 44))
        + 'do(action="Back")',
        "tagged, do( in thinking": lambda n: f'<think>{"do(" * (n // 3)}</think><answer>do(action="Back")</answer>',
        "quotes and backslashes": lambda n: '"\\' * (n // 2) + 'do(action="Back")',
        "brackets": lambda n: "do(" + "([" * (n // 2) + ")",
        "blank space": lambda n: "do(" + " " * n + ")",
        "Chinese, lone surrogates": lambda n: "想想 do(\ud83d" * (n // 7) + 'do(action="Back")',
    }
    for size in (8_000, 80_000, 1_000_000):
        for name, shape in shapes.items():
            text = shape(size)
            arguments = json.dumps({"text": text})
            for dialect, call in (("text", partial(parse_reply, text)),
                                  ("tools", partial(parse_tool_call, "type_text", arguments))):
                runs = _timings(5, call)
                print(f"{size // 1000:>5} KB  {dialect:<5} {name:<26} best {min(runs) * 1e3:7.2f} ms   "
                      f"worst {max(runs) * 1e3:7.2f} ms")


def main() -> None:
    """Parse the options and fuzz (or bench)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="how many inputs (each goes to both dialects)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bench", action="store_true", help="time adversarial 8 KB, 80 KB and 1 MB replies")
    options = parser.parse_args()
    if options.bench:
        bench()
        return
    sys.exit(1 if fuzz(options.n, options.seed) else 0)


if __name__ == "__main__":
    main()
