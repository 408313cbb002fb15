"""``report.html``: a page a person can open from the run directory, without a server.

Screenshots are referenced relatively (``screens/NNN.png``), so the directory can be zipped or
moved as a whole; where each tap, press or swipe landed is drawn over the image with inline SVG.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from actions import format_action
from actions.models import ACTION_ADAPTER
from phone_agent.trace import read_trace

REPORT_FILE = "report.html"

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
    records = read_trace(run_dir)
    run = next((r for r in records if r.get("type") == "run"), {})
    result = next((r for r in records if r.get("type") == "result"), None)
    # A hand-edited or foreign trace may lack fields: show what is there rather than fail.
    steps = [r for r in records if r.get("type") == "step" and {"index", "screenshot"} <= r.keys()]
    path = run_dir / REPORT_FILE
    path.write_text(_page(run, result, steps), encoding="utf-8")
    return path


def _page(run: dict[str, Any], result: dict[str, Any] | None, steps: list[dict[str, Any]]) -> str:
    status = result["status"] if result else "incomplete"
    message = result.get("message", "") if result else "The run ended before writing its result."
    duration = f"{result['duration']:.1f} s" if result else "unknown"
    device = " ".join(str(run.get(key, "")) for key in ("device", "device_model")).strip()
    model = " ".join(str(run.get(key, "")) for key in ("provider", "model")).strip()
    header = (
        f"<header><h1>{escape(run.get('task', '(unknown task)'))}</h1>"
        f'<div class="meta"><span class="status {escape(status)}">{escape(status)}</span> '
        f"{escape(message)}</div>"
        f'<div class="meta">{len(steps)} steps · {duration} · device {escape(device or "?")} · '
        f"model {escape(model or '?')} · started {escape(run.get('started_at', '?'))}</div></header>"
    )
    cards = "\n".join(_step(step) for step in steps)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>phone-agent: {escape(run.get('task', 'run'))}</title><style>{_STYLE}</style></head>"
        f"<body>{header}<main>{cards}</main></body></html>\n"
    )


def _step(step: dict[str, Any]) -> str:
    width, height = step.get("screen_size", [1080, 2400])
    action = step.get("action", {})
    timings = " · ".join(f"{name} {seconds:.2f}s" for name, seconds in step.get("durations", {}).items())
    feedback = f'<p class="feedback">↳ {escape(step["feedback"])}</p>' if step.get("feedback") else ""
    marks = _marks(action, step.get("points", []), width)
    return (
        f'<section class="step" id="step-{step["index"]}"><h2>Step {step["index"]} · '
        f"{escape(step.get('current_app') or 'unknown app')}</h2>"
        f'<div class="shot"><img src="{escape(step["screenshot"])}" alt="screen before step {step["index"]}">'
        f'<svg viewBox="0 0 {width} {height}" preserveAspectRatio="none">{marks}'
        f"</svg></div>"
        f"<code>{escape(_action_text(action))}</code>"
        f'<p class="thinking">{escape(step.get("thinking", ""))}</p>{feedback}'
        f'<p class="timings">{escape(timings)}</p></section>'
    )


def _action_text(action: dict[str, Any]) -> str:
    try:
        return format_action(ACTION_ADAPTER.validate_python(_with_tuples(action)))
    except ValueError:
        return str(action)


def _with_tuples(action: dict[str, Any]) -> dict[str, Any]:
    return {key: tuple(value) if isinstance(value, list) else value for key, value in action.items()}


def _marks(action: dict[str, Any], points: list[list[int]], width: int) -> str:
    """SVG marks for where the action touched: circles for presses, an arrow for a swipe."""
    if not points:
        return ""
    radius = max(width // 25, 12)
    stroke = max(width // 180, 3)
    style = f'fill="none" stroke="#e53935" stroke-width="{stroke}"'
    kind = action.get("action")
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
