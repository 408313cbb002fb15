"""``report.html``: a page a person can open from the run directory, without a server.

Screenshots are referenced relatively (``screens/NNN.png``), so the directory can be zipped or
moved as a whole; where each tap, press or swipe landed is drawn over the image with inline SVG.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from actions import format_action
from actions.models import ACTION_ADAPTER
from phone_agent.trace import read_trace

REPORT_FILE = "report.html"
# Defence in depth: even markup that slipped through escaping could run no script and load nothing remote.
_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f4f5f7;color:#1d1f23}
header{background:#fff;padding:20px 28px;border-bottom:1px solid #dde}
h1{font-size:20px;margin:0 0 8px} .meta{color:#555;font-size:14px}
.status{display:inline-block;padding:2px 10px;border-radius:10px;font-weight:600;color:#fff;background:#777}
.status.finished{background:#1a7f37} .status.failed,.status.max_steps{background:#c62828}
.status.needs_human,.status.stuck,.status.blocked{background:#b26a00} .status.interrupted{background:#555}
main{display:flex;flex-wrap:wrap;gap:18px;padding:20px 28px}
.step{background:#fff;border:1px solid #dde;border-radius:8px;width:320px;padding:12px}
.step h2{font-size:15px;margin:0 0 8px} .shot{position:relative;width:100%}
.shot img{width:100%;display:block;border:1px solid #ccc;border-radius:4px}
.shot svg{position:absolute;left:0;top:0;width:100%;height:100%}
code{display:block;background:#f0f1f4;padding:6px;border-radius:4px;white-space:pre-wrap;word-break:break-word;font-size:12px}
.thinking{font-size:13px;color:#333;white-space:pre-wrap} .feedback{font-size:13px;color:#8a4b00}
.timings{font-size:12px;color:#666}
"""


def write_report(run_dir: Path) -> Path:
    """Build (or rebuild) ``report.html`` from the run directory's trace; return its path.

    Raises:
        FileNotFoundError: the directory holds no ``trace.jsonl``.
    """
    # A hand-edited, foreign or hostile trace may hold anything: show what is usable, as text, and never fail.
    records = [r for r in read_trace(run_dir) if isinstance(r, dict)]
    run = next((r for r in records if r.get("type") == "run"), {})
    result = next((r for r in records if r.get("type") == "result"), None)
    steps = [r for r in records if r.get("type") == "step" and {"index", "screenshot"} <= r.keys()]
    path = run_dir / REPORT_FILE
    path.write_text(_page(run, result, steps), encoding="utf-8")
    return path


def _text(value: Any) -> str:
    """Any trace value as escaped HTML text (also safe inside a quoted attribute)."""
    if value is None:
        return ""
    return escape(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any, default: float) -> float:
    """A trace value that must be a number, or the default."""
    return value if _is_number(value) else default


def _pair(value: Any) -> tuple[float, float] | None:
    """A trace value that must be two numbers (a point or a size), or None."""
    if isinstance(value, list) and len(value) == 2 and all(map(_is_number, value)):
        return value[0], value[1]
    return None


def _page(run: dict[str, Any], result: dict[str, Any] | None, steps: list[dict[str, Any]]) -> str:
    status = _text(result.get("status")) if result else "incomplete"
    message = _text(result.get("message")) if result else "The run ended before writing its result."
    duration = f"{_number(result.get('duration'), 0.0):.1f} s" if result else "unknown"
    device = " ".join(_text(run.get(key)) for key in ("device", "device_model")).strip()
    model = " ".join(_text(run.get(key)) for key in ("provider", "model")).strip()
    task = _text(run.get("task", "(unknown task)"))
    header = (
        f"<header><h1>{task}</h1>"
        f'<div class="meta"><span class="status {status}">{status}</span> {message}</div>'
        f'<div class="meta">{len(steps)} steps · {duration} · device {device or "?"} · '
        f"model {model or '?'} · started {_text(run.get('started_at', '?'))}</div></header>"
    )
    cards = "\n".join(_step(step) for step in steps)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>phone-agent: {task}</title><style>{_STYLE}</style></head>"
        f"<body>{header}<main>{cards}</main></body></html>\n"
    )


def _step(step: dict[str, Any]) -> str:
    width, height = _pair(step.get("screen_size")) or (1080, 2400)
    points, action, durations = step.get("points"), step.get("action"), step.get("durations")
    points = points if isinstance(points, list) else []
    action = action if isinstance(action, dict) else {}
    durations = durations if isinstance(durations, dict) else {}
    timings = " · ".join(f"{name} {_number(seconds, 0.0):.2f}s" for name, seconds in durations.items())
    feedback = f'<p class="feedback">↳ {_text(step["feedback"])}</p>' if step.get("feedback") else ""
    marks = _marks(action.get("action"), [p for p in map(_pair, points) if p], width)
    index = _text(step["index"])
    return (
        f'<section class="step" id="step-{index}"><h2>Step {index} · '
        f"{_text(step.get('current_app') or 'unknown app')}</h2>"
        f'<div class="shot"><img src="{_text(step["screenshot"])}" alt="screen before step {index}">'
        f'<svg viewBox="0 0 {width:g} {height:g}" preserveAspectRatio="none">{marks}'
        f"</svg></div>"
        f"<code>{escape(_action_text(action))}</code>"
        f'<p class="thinking">{_text(step.get("thinking"))}</p>{feedback}'
        f'<p class="timings">{escape(timings)}</p></section>'
    )


def _action_text(action: dict[str, Any]) -> str:
    """The action as the model would write it, or as recorded when it is no valid action."""
    try:
        return format_action(ACTION_ADAPTER.validate_python(_with_tuples(action)))
    except ValueError:
        return str(action)


def _with_tuples(action: dict[str, Any]) -> dict[str, Any]:
    return {key: tuple(value) if isinstance(value, list) else value for key, value in action.items()}


def _marks(kind: Any, points: list[tuple[float, float]], width: float) -> str:
    """SVG marks for where the action touched: circles for presses, an arrow for a swipe."""
    if not points:
        return ""
    radius = max(width // 25, 12)
    stroke = max(width // 180, 3)
    style = f'fill="none" stroke="#e53935" stroke-width="{stroke:g}"'
    if kind == "Swipe" and len(points) == 2:
        (x1, y1), (x2, y2) = points
        return (
            f'<defs><marker id="head" markerWidth="4" markerHeight="4" refX="2" refY="2" orient="auto">'
            f'<path d="M0,0 L4,2 L0,4 z" fill="#e53935"/></marker></defs>'
            f'<circle cx="{x1}" cy="{y1}" r="{radius // 2}" {style}/>'
            f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" {style} marker-end="url(#head)"/>'
        )
    x, y = points[0]
    marks = f'<circle cx="{x}" cy="{y}" r="{radius}" {style}/>'
    marks += f'<circle cx="{x}" cy="{y}" r="{stroke}" fill="#e53935"/>'
    if kind == "Double Tap":
        marks += f'<circle cx="{x}" cy="{y}" r="{radius * 3 // 2}" {style}/>'
    elif kind == "Long Press":
        marks += f'<circle cx="{x}" cy="{y}" r="{radius}" fill="#e53935" fill-opacity="0.35"/>'
    return marks
