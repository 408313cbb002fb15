"""Stopping ``phone-agent suite run`` with Ctrl-C or SIGTERM: a real process, virtual phones behind the real adb
server, the replay model server holding a reply back."""

from __future__ import annotations

import json
import signal
import threading
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest

from phone_agent.sim.model_server import ReplayModelServer, ReplayScript
from phone_agent.sim.testing import AdbServer, PhoneSession, running_phone
from phone_agent.trace import read_trace
from tests.test_cli_process import ADB_KEYBOARD, TYPED_THEN_WAITING, stopped_when_held

# Two phones: one takes the AI case (it types, so ADB Keyboard is on, then waits for a reply held back), the other
# the scripted case (it waits for a text that never shows); the third case is never started.
SUITE = """cases:
  - name: the agent searches
    task: search earbuds
  - name: a long wait
    setup: [{launch: Settings}]
    steps: [{wait_for: {text: Never shown, timeout: 300}}, home]
  - name: never started
    steps: [home]
"""


def on_adb_keyboard(phones: list[PhoneSession]) -> None:
    assert ADB_KEYBOARD in [phone.phone.state()["ime"]["current"] for phone in phones]  # a case is typing


@contextmanager
def held_back_server() -> Iterator[tuple[ReplayModelServer, threading.Event]]:
    """The replay server: three replies that leave ADB Keyboard on, then one held until the event is set."""
    release = threading.Event()
    held = [*TYPED_THEN_WAITING[:3], {**TYPED_THEN_WAITING[3], "latency_ms": 600_000}]

    def held_back(seconds: float) -> None:
        release.wait(seconds)

    try:
        with ReplayModelServer(ReplayScript.model_validate({"replies": held}), sleep=held_back) as server:
            yield server, release
    finally:
        release.set()


@pytest.fixture
def two_phones(adb: AdbServer) -> Iterator[list[PhoneSession]]:
    with running_phone(adb) as first, running_phone(adb) as second:
        yield [first, second]


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stopped_suite_ends_the_running_cases_interrupted_and_reports_every_case(
    adb: AdbServer, two_phones: list[PhoneSession], tmp_path: Path, signum: int, code: int
) -> None:
    originals = [phone.phone.state()["ime"]["current"] for phone in two_phones]
    (tmp_path / "stop.yaml").write_text(SUITE, encoding="utf-8")
    junit, html, runs = tmp_path / "junit.xml", tmp_path / "html", tmp_path / "runs"
    with held_back_server() as (server, release):
        args = ["-m", "phone_agent", "suite", "run", str(tmp_path / "stop.yaml"), "--all-devices", "--adb-port",
                str(adb.port), "--base-url", server.base_url, "--junit", str(junit), "--html", str(html),
                "--runs-dir", str(runs)]
        typing = partial(on_adb_keyboard, two_phones)
        returncode, out = stopped_when_held(args, server, 4, signum, tmp_path, release, typing)
    assert returncode == code, out
    outcomes = {case.get("name"): case for case in ElementTree.parse(junit).getroot().iter("testcase")}
    for name in ("the agent searches", "a long wait"):
        error = outcomes[name].find("error")
        assert error is not None and error.get("type") == "interrupted", name
    skipped = outcomes["never started"].find("skipped")
    assert skipped is not None and skipped.get("message") == "not run: the suite was stopped first"
    assert "0 of 3 cases passed (2 interrupted, 1 not run)" in out
    page = (html / "index.html").read_text(encoding="utf-8")
    assert page.count('<tr class="interrupted">') == 2 and page.count('<tr class="not_run">') == 1
    records = {json.loads(path.read_text(encoding="utf-8"))["case"]: json.loads(path.read_text(encoding="utf-8"))
               for path in runs.rglob("case.json")}
    assert sorted(records) == ["a long wait", "the agent searches"]
    assert {record["status"] for record in records.values()} == {"interrupted"}
    (report,) = records["the agent searches"]["reports"]
    trace = read_trace(Path(report).parent)
    assert trace[-1]["status"] == "interrupted" and len([line for line in trace if line["type"] == "step"]) == 3
    assert [phone.phone.state()["ime"]["current"] for phone in two_phones] == originals


def test_ctrl_c_stops_pytest_after_writing_the_running_cases_records(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path
) -> None:
    original = phone.phone.state()["ime"]["current"]
    suites, runs = tmp_path / "suites", tmp_path / "runs"
    suites.mkdir()
    (suites / "stop.yaml").write_text(
        "cases:\n  - name: the agent searches\n    task: search earbuds\n  - name: never started\n    steps: [home]\n",
        encoding="utf-8",
    )
    with held_back_server() as (server, release):
        args = ["-m", "pytest", str(suites), "-p", "no:cacheprovider", "--pa-device", phone.phone.serial,
                "--pa-adb-port", str(adb.port), "--pa-base-url", server.base_url, "--pa-runs-dir", str(runs)]
        typing = partial(on_adb_keyboard, [phone])
        returncode, out = stopped_when_held(args, server, 4, signal.SIGINT, tmp_path, release, typing)
    assert returncode == pytest.ExitCode.INTERRUPTED, out  # pytest stopped: the next case did not run
    assert "KeyboardInterrupt" in out and "passed" not in out
    (record,) = [json.loads(path.read_text(encoding="utf-8")) for path in runs.rglob("case.json")]
    assert (record["case"], record["status"]) == ("the agent searches", "interrupted")
    trace = read_trace(Path(record["reports"][0]).parent)
    assert trace[-1]["status"] == "interrupted" and len([line for line in trace if line["type"] == "step"]) == 3
    assert phone.phone.state()["ime"]["current"] == original
