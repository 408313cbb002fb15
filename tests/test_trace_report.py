"""Run directories: the trace written step by step, survival of a kill, and the HTML report."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from phone_agent.loop.agent import PhoneAgent
from phone_agent.report import write_report
from phone_agent.trace import TraceRecorder, new_run_dir, read_trace
from tests.support import FakeClock, FakeDevice, ScriptedModel

SCRIPT = [
    '<think>Open the shop.</think><answer>do(action="Launch", app="eBay")</answer>',
    '<think>Tap the box.</think><answer>do(action="Tap", element=[500, 100])</answer>',
    '<answer>do(action="Type", text="earbuds <b>&amp;</b>")</answer>',
    '<answer>do(action="Swipe", start=[500, 800], end=[500, 200])</answer>',
    '<answer>do(action="Long Press", element=[300, 300])</answer>',
    '<answer>do(action="Double Tap", element=[600, 600])</answer>',
    '<answer>finish(message="Results for earbuds are shown.")</answer>',
]


def record_run(tmp_path: Path) -> Path:
    run_dir = new_run_dir("open eBay & search earbuds", tmp_path)
    clock = FakeClock()
    meta = {"device": "fake-1", "provider": "zai", "model": "autoglm-phone-multilingual"}
    agent = PhoneAgent(
        FakeDevice(),
        ScriptedModel(list(SCRIPT)),
        clock=clock,
        sleep=clock.sleep,
        listeners=[TraceRecorder(run_dir, meta)],
    )
    agent.run("open eBay & search earbuds")
    return run_dir


def test_trace_has_metadata_every_step_and_the_result(tmp_path: Path) -> None:
    run_dir = record_run(tmp_path)
    records = read_trace(run_dir)
    assert [r["type"] for r in records] == ["run"] + ["step"] * 7 + ["result"]
    assert records[0]["task"] == "open eBay & search earbuds" and records[0]["model"] == "autoglm-phone-multilingual"
    tap = records[2]
    assert tap["action"] == {"action": "Tap", "element": [500, 100], "message": None}
    assert tap["points"] == [[54, 24]] and tap["current_app"] == "eBay"
    assert tap["screen_size"] == [108, 240] and tap["image_bytes"] > 0 and tap["request_messages"] == 4
    assert set(tap["durations"]) == {"capture", "model", "parse", "act", "settle"}
    assert (run_dir / tap["screenshot"]).read_bytes().startswith(b"\x89PNG")
    assert records[-1] == records[-1] | {"type": "result", "status": "finished", "steps": 7}


def test_runs_go_under_phone_agent_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHONE_AGENT_HOME", str(tmp_path))
    first, second = new_run_dir("same task"), new_run_dir("same task")
    assert first.parent == tmp_path / "runs" and first != second


def test_report_shows_every_step_with_marks_and_escaped_text(tmp_path: Path) -> None:
    html = write_report(record_run(tmp_path)).read_text(encoding="utf-8")
    assert html.count('<img src="screens/') == 7
    assert "earbuds &lt;b&gt;&amp;amp;&lt;/b&gt;" in html  # model text never becomes markup
    assert 'marker-end="url(#head)"' in html  # the swipe arrow
    assert html.count("<circle") >= 5


def test_report_of_a_run_that_never_finished(tmp_path: Path) -> None:
    run_dir = record_run(tmp_path)
    lines = (run_dir / "trace.jsonl").read_text(encoding="utf-8").splitlines()
    (run_dir / "trace.jsonl").write_text("\n".join(lines[:3]) + '\n{"type": "step", "ind', encoding="utf-8")
    html = write_report(run_dir).read_text(encoding="utf-8")
    assert "incomplete" in html and html.count("<img") == 2


KILLED_RUN = """
import sys
from pathlib import Path
from phone_agent.loop.agent import PhoneAgent
from phone_agent.trace import TraceRecorder
from tests.support import FakeDevice, ScriptedModel

class SlowModel(ScriptedModel):
    def complete(self, turns, on_text=None, tools=()):
        if len(self.requests) == 2:
            print("third step reached", flush=True)
            import threading
            threading.Event().wait()  # hang here until killed
        return super().complete(turns, on_text, tools)

run_dir = Path(sys.argv[1])
(run_dir / "screens").mkdir(parents=True)
agent = PhoneAgent(FakeDevice(), SlowModel(['do(action="Back")'] * 5), listeners=[TraceRecorder(run_dir, {})])
agent.run("go back forever")
"""


def test_killing_the_process_mid_run_leaves_a_valid_trace(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, str(run_dir)], stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        assert process.stdout is not None and "third step reached" in process.stdout.readline()
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    records = [json.loads(line) for line in (run_dir / "trace.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["type"] for r in records] == ["run", "step", "step"]
    assert all((run_dir / r["screenshot"]).is_file() for r in records[1:])


def _browser() -> str | None:
    return next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None)


def test_report_loads_in_a_real_headless_browser(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev extra")
    executable = _browser()
    if executable is None:
        pytest.skip("no Chromium on this machine (.ci/run installs Debian's chromium package)")
    report = write_report(record_run(tmp_path))
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        page = browser.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        loaded = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)")
        title = page.title()
        browser.close()
    assert errors == []
    assert loaded == [True] * 7
    assert "open eBay & search earbuds" in title
