"""The run directory: ``trace.jsonl`` (one JSON line per step, flushed as it happens) and ``screens/``.

The first line describes the run (task, device, provider, model — never the API key), then one
line per step, then a line with the result. A crash or a kill loses at most the step in flight.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from actions import ActionParseError, Screenshot
from phone_agent.loop.results import Listener, RunResult, StepResult
from phone_agent.loop.stuck import Detection

TRACE_FILE = "trace.jsonl"
SCREENS_DIR = "screens"


def home_dir(env: Mapping[str, str] = os.environ) -> Path:
    """Where phone-agent keeps its data: ``PHONE_AGENT_HOME`` or the user data directory."""
    explicit = env.get("PHONE_AGENT_HOME")
    return Path(explicit) if explicit else Path(platformdirs.user_data_dir("phone-agent"))


def new_run_dir(task: str, runs_dir: Path | None = None) -> Path:
    """Create a fresh, time-stamped directory for one run."""
    base = runs_dir or home_dir() / "runs"
    slug = re.sub(r"[^\w]+", "-", task.casefold()).strip("-")[:40] or "run"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for attempt in range(100):
        path = base / f"{stamp}-{slug}" if attempt == 0 else base / f"{stamp}-{slug}-{attempt}"
        try:
            (path / SCREENS_DIR).mkdir(parents=True, exist_ok=False)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a run directory under {base}")


def read_trace(run_dir: Path) -> list[dict[str, Any]]:
    """Every complete line of a trace; a line cut off by a crash is ignored."""
    records = []
    for line in (run_dir / TRACE_FILE).read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


class TraceRecorder(Listener):
    """Writes a run directory as the run goes. ``meta`` is free-form run metadata (no secrets)."""

    def __init__(self, run_dir: Path, meta: Mapping[str, Any]) -> None:
        self.run_dir = run_dir
        self._meta = dict(meta)
        # Odd text (a lone surrogate from a non-UTF-8 argv, say) is written as its JSON escape, never lost.
        self._file = (run_dir / TRACE_FILE).open("a", encoding="utf-8", errors="backslashreplace")
        self._step_started = 0.0

    def run_started(self, task: str) -> None:
        self._write({"type": "run", "task": task, "started_at": _now(), **self._meta})

    def step_started(self, index: int) -> None:
        self._step_started = time.time()

    def parse_failed(self, reply: str, error: ActionParseError) -> None:
        self._write({"type": "parse_error", "at": _now(), "reply": reply, "error": str(error)})

    def step_finished(self, step: StepResult, screenshot: Screenshot) -> None:
        name = f"{SCREENS_DIR}/{step.index:03d}.png"
        (self.run_dir / name).write_bytes(screenshot.png)
        self._write(
            {
                "type": "step",
                "index": step.index,
                "started_at": _iso(self._step_started),
                "ended_at": _now(),
                "current_app": step.current_app,
                "screenshot": name,
                "screen_size": list(step.screen_size),
                "secure": step.secure,
                "request_messages": step.request_messages,
                "image_bytes": step.image_bytes,
                "thinking": step.thinking,
                "reply": step.reply,
                "action": step.action.model_dump(mode="json"),
                "points": [list(point) for point in step.points],
                "feedback": step.feedback,
                "parse_retries": step.parse_retries,
                "settled": step.settled,
                "settle_frames": step.settle_frames,
                "durations": {name: round(seconds, 4) for name, seconds in step.timings.items()},
                "model_first_token": round(step.first_token, 4),
            }
        )

    def stuck_detected(self, detection: Detection, response: str) -> None:
        self._write(
            {
                "type": "stuck",
                "at": _now(),
                "kind": detection.kind,
                "description": detection.description,
                "response": response,
            }
        )

    def foreign_app(self, package: str, app: str) -> None:
        self._write({"type": "foreign_app", "at": _now(), "package": package, "app": app})

    def run_finished(self, result: RunResult) -> None:
        self._write(
            {
                "type": "result",
                "status": result.status,
                "message": result.message,
                "steps": len(result.steps),
                "duration": round(result.duration, 3),
                "ended_at": _now(),
            }
        )
        self._file.close()

    def _write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")
