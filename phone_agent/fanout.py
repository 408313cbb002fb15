"""One task on many phones at once: an agent per phone, each with its own run directory, and an index page."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from html import escape
from pathlib import Path

from actions import ActionParseError, Screenshot, format_action
from phone_agent.cancellation import Cancellation, wait_all
from phone_agent.console import printable
from phone_agent.errors import PhoneAgentError
from phone_agent.loop.results import Listener, RunResult, StepResult
from phone_agent.phones import PhoneTarget
from phone_agent.session import Session

# Opens the session of one phone, whose runs go in the given directory, reporting to the listener, ended by the
# cancellation.
OpenSession = Callable[[PhoneTarget, Path, Listener, Cancellation], AbstractContextManager[Session]]
STOPPED = "Stopped with the other phones (Ctrl-C)."


@dataclass(frozen=True)
class PhoneRun:
    """How the task went on one phone; ``error`` when the phone could not be used at all."""

    target: PhoneTarget
    result: RunResult | None
    error: PhoneAgentError | None = None
    report: Path | None = None

    @property
    def status(self) -> str:
        """The run's status, or ``error`` when it never started."""
        return self.result.status if self.result is not None else "error"

    @property
    def message(self) -> str:
        """What the run ended with, or why it could not start."""
        return self.result.message if self.result is not None else str(self.error)


class PhoneLines(Listener):
    """One line per step and one at the end, each naming the phone."""

    def __init__(self, label: str, write: Callable[[str], None]) -> None:
        self._label = label
        self._write = write

    def parse_failed(self, reply: str, error: ActionParseError) -> None:
        self._line(f"! the reply was not a valid action, asking again: {error}")

    def step_finished(self, step: StepResult, screenshot: Screenshot) -> None:
        where = f" at {', '.join(f'({x}, {y})' for x, y in step.points)}" if step.points else ""
        self._line(f"{step.index}. {format_action(step.action)}{where}   [{step.current_app or 'unknown app'}]")

    def foreign_app(self, package: str, app: str) -> None:
        self._line(f"! {app} ({package}) is in front: it is not an allowed app")

    def run_finished(self, result: RunResult) -> None:
        self._line(f"{result.status.upper()}: {result.message or '(no message)'}")

    def _line(self, text: str) -> None:
        self._write(printable(f"[{self._label}] {text}"))  # model text, shown without control sequences


def run_everywhere(
    task: str, targets: Sequence[PhoneTarget], open_one: OpenSession, out_dir: Path, write: Callable[[str], None]
) -> list[PhoneRun]:
    """Run ``task`` on every phone at once; results in the order of ``targets``.

    Each phone's runs go in ``out_dir/<phone>``. Ctrl-C stops every phone before its next step, cutting a model
    request in flight (status ``interrupted``), and waits for them to end in order: only the main thread receives
    the signal, so the phones' threads learn of it through a ``Cancellation``.
    """
    lock = threading.Lock()
    cancellation = Cancellation()
    runs: dict[int, PhoneRun] = {}
    crashes: list[BaseException] = []
    done = [threading.Event() for _ in targets]

    def say(text: str) -> None:
        with lock:
            write(text)

    def work(index: int, target: PhoneTarget) -> None:
        try:
            _run_one(index, target)
        finally:
            done[index].set()

    def _run_one(index: int, target: PhoneTarget) -> None:
        try:
            phone_runs, lines = out_dir / _slug(target.label), PhoneLines(target.label, say)
            with open_one(target, phone_runs, lines, cancellation) as session:
                record = session.run(task)
            runs[index] = PhoneRun(target, record.result, record.result.error, record.report)
        except PhoneAgentError as exc:
            say(printable(f"[{target.label}] ERROR: {exc}"))
            runs[index] = PhoneRun(target, None, exc)
        except BaseException as exc:  # a bug: surfaces in the main thread once the others are done
            crashes.append(exc)

    threads = [
        threading.Thread(target=work, args=(i, t), name=f"fanout-{t.label}", daemon=True)
        for i, t in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    try:
        wait_all(done)
    except KeyboardInterrupt as exc:  # the CLI names SIGTERM and SIGHUP in the interrupt
        cancellation.cancel(str(exc) or STOPPED)
        wait_all(done)
    if crashes:
        raise crashes[0]
    return [runs[index] for index in sorted(runs)]


def write_index(task: str, runs: Sequence[PhoneRun], out_dir: Path) -> Path:
    """``index.html`` in ``out_dir``: the task, and per phone its status, steps, time and report."""
    rows = []
    for run in runs:
        steps = len(run.result.steps) if run.result is not None else 0
        seconds = f"{run.result.duration:.1f} s" if run.result is not None else "-"
        report = "-"
        if run.report is not None:
            href = Path(os.path.relpath(run.report, out_dir)).as_posix()
            report = f'<a href="{escape(href)}">report</a>'
        rows.append(
            f'<tr class="{escape(run.status)}"><td>{escape(run.target.label)}</td><td>{escape(run.status)}</td>'
            f"<td>{steps}</td><td>{seconds}</td><td>{escape(run.message)}</td><td>{report}</td></tr>"
        )
    finished = sum(run.status == "finished" for run in runs)
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<title>phone-agent: one task, several phones</title><style>"
        "body{font-family:system-ui,sans-serif;margin:24px}table{border-collapse:collapse;width:100%}"
        "td,th{border:1px solid #ccc;padding:6px;vertical-align:top;font-size:14px}"
        "tr.finished td:nth-child(2){color:#1a7f37}tr:not(.finished) td:nth-child(2){color:#c62828}"
        f"</style></head><body><h1>{escape(task)}</h1><p>{finished} of {len(runs)} phones finished</p>"
        "<table><tr><th>phone</th><th>status</th><th>steps</th><th>time</th><th>message</th><th>report</th></tr>"
        + "".join(rows)
        + "</table></body></html>\n"
    )
    path = out_dir / "index.html"
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def _slug(label: str) -> str:
    return re.sub(r"[^\w.-]+", "-", label).strip("-") or "phone"
