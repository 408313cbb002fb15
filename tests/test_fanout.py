"""One task on several phones: ``phone-agent run/demo`` (in-process, and as a real process for Ctrl-C), virtual
phones behind real adb servers, the replay model server answering each phone's conversation from its own place."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from phone_agent.cli.fanout import worst_exit_code
from phone_agent.demo import DEMO_TASK, check_demo, demo_script
from phone_agent.errors import ConfigError, NoDeviceError
from phone_agent.fanout import PhoneRun
from phone_agent.loop.results import RunResult
from phone_agent.phones import AdbServerAddress, PhoneTarget
from phone_agent.sim.model_server import ReplayModelServer, ReplayScript
from phone_agent.sim.testing import AdbServer, PhoneSession, adb_server, running_phone
from phone_agent.trace import read_trace
from tests.support import invoke
from tests.test_cli_process import (
    ADB_KEYBOARD,
    TYPED_THEN_WAITING,
    agent_home,
    stopped_when_held,
)

FINISH = '<answer>finish(message="done")</answer>'


def agent(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return invoke(*args, "--runs-dir", str(tmp_path / "runs"), env=agent_home(tmp_path))


@pytest.fixture
def two_phones(adb: AdbServer) -> Iterator[list[PhoneSession]]:
    with running_phone(adb) as first, running_phone(adb) as second:
        yield [first, second]


def index_links(output: str) -> tuple[Path, list[Path]]:
    index = Path(re.search(r"Index: (\S+)", output).group(1))  # type: ignore[union-attr]
    links = re.findall(r'href="([^"]+)"', index.read_text(encoding="utf-8"))
    return index, [index.parent / link for link in links]


def test_demo_on_three_phones_checks_each_phone(tmp_path: Path) -> None:
    done = agent(tmp_path, "demo", "--phones", "3")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(": PASS: eBay shows") == 3
    assert done.stdout.count("FINISHED: eBay shows the search results") == 3
    index, reports = index_links(done.stdout)
    assert len(reports) == 3 and all(report.is_file() for report in reports)
    run_dirs = {report.parent for report in reports}
    assert len(run_dirs) == 3  # each phone has a run directory of its own
    for run_dir in run_dirs:
        assert read_trace(run_dir)[-1]["status"] == "finished"


def test_the_same_task_on_two_named_phones_at_once(adb: AdbServer, two_phones: list[PhoneSession],
                                                   tmp_path: Path) -> None:
    serials = [p.phone.serial for p in two_phones]
    with ReplayModelServer(demo_script(), per_conversation=True) as server:
        done = agent(tmp_path, "run", DEMO_TASK, "--device", serials[0], "--device", serials[1],
                     "--adb-port", str(adb.port), "--base-url", server.base_url)
        requests = server.requests
    assert done.returncode == 0, done.stdout + done.stderr
    assert all(check_demo(p.phone)[0] for p in two_phones)  # checked on the phones, not from the model's word
    assert len(requests) == 10  # five turns per phone, each conversation answered from its own place
    for serial in serials:
        assert f"[{serial}] 3. do(action=\"Type\", text=\"earbuds\")" in done.stdout
        assert re.search(rf"^{re.escape(serial)} +finished +5 ", done.stdout, re.MULTILINE)
    assert "2 of 2 phones finished" in done.stdout


def test_the_worst_exit_code_wins_and_every_phone_is_reported(adb: AdbServer, phone: PhoneSession,
                                                              tmp_path: Path) -> None:
    take_over = '<answer>do(action="Take_over", message="Please sign in")</answer>'
    script = ReplayScript.model_validate({"replies": [take_over]})
    with ReplayModelServer(script, per_conversation=True) as server:
        base = ["run", "open eBay", "--adb-port", str(adb.port), "--base-url", server.base_url]
        needs_person = agent(tmp_path, *base, "--device", phone.phone.serial, "--device", "emulator-5998")
        alone = agent(tmp_path, *base, "--all-devices")
    # A phone that is not there (2) outranks one that needs a person (3), which the other phone still ran into.
    assert needs_person.returncode == 2, needs_person.stdout + needs_person.stderr
    assert re.search(rf"^{re.escape(phone.phone.serial)} +needs_human ", needs_person.stdout, re.MULTILINE)
    assert re.search(r"^emulator-5998 +error .*not attached", needs_person.stdout, re.MULTILINE)
    assert "0 of 2 phones finished" in needs_person.stdout
    # Unattended per phone: no prompt waits for a person, the take-over ends that phone's run with 3.
    assert alone.returncode == 3, alone.stdout + alone.stderr
    assert "0 of 1 phones finished" in alone.stdout


def test_phones_on_two_adb_servers(adb: AdbServer, phone: PhoneSession, tmp_path: Path) -> None:
    script = ReplayScript.model_validate({"replies": [FINISH]})
    with adb_server(isolate_env=False) as other, running_phone(other) as remote, \
            ReplayModelServer(script, per_conversation=True) as server:
        hosts = ["--adb-host", f"127.0.0.1:{adb.port}", "--adb-host", f"127.0.0.1:{other.port}"]
        both = agent(tmp_path, "run", "look", "--all-devices", *hosts, "--base-url", server.base_url)
        # The same phone reached through both servers: its serial alone does not say which one.
        other.client().connect(f"127.0.0.1:{phone.phone.port}", timeout=15)
        other.wait_for(phone.phone.serial)
        ambiguous = agent(tmp_path, "run", "look", "--device", phone.phone.serial, *hosts, "--base-url",
                          server.base_url)
        chosen = agent(tmp_path, "run", "look", "--device", f"127.0.0.1:{other.port}/{phone.phone.serial}",
                       "--device", remote.phone.serial, *hosts, "--base-url", server.base_url)
    assert both.returncode == 0, both.stdout + both.stderr
    assert "2 of 2 phones finished" in both.stdout
    assert phone.phone.serial in both.stdout and remote.phone.serial in both.stdout
    assert ambiguous.returncode == 2
    assert f"is on several adb servers: choose 127.0.0.1:{adb.port}/{phone.phone.serial} or" in ambiguous.stderr
    assert chosen.returncode == 0, chosen.stdout + chosen.stderr
    assert "2 of 2 phones finished" in chosen.stdout


@pytest.mark.parametrize(("signum", "code", "message"), [
    (signal.SIGINT, 130, "Stopped with the other phones (Ctrl-C)."), (signal.SIGTERM, 143, "Stopped by SIGTERM."),
])
def test_ctrl_c_cuts_the_model_requests_in_flight_and_stops_every_phone_in_order(
    adb: AdbServer, two_phones: list[PhoneSession], tmp_path: Path, signum: int, code: int, message: str
) -> None:
    originals = [phone.phone.state()["ime"]["current"] for phone in two_phones]
    release = threading.Event()
    # Each phone types (its keyboard is ADB Keyboard then), and its fourth reply is held until the test ends.
    held = [*TYPED_THEN_WAITING[:3], {**TYPED_THEN_WAITING[3], "latency_ms": 600_000}]

    def held_back(seconds: float) -> None:
        release.wait(seconds)

    script = ReplayScript.model_validate({"replies": held})
    with ReplayModelServer(script, per_conversation=True, sleep=held_back) as server:
        args = ["-m", "phone_agent", "run", "search earbuds", "--all-devices", "--channel", "adb",
                "--adb-port", str(adb.port), "--base-url", server.base_url, "--runs-dir", str(tmp_path / "runs")]

        def both_typing() -> None:  # both phones wait for their fourth reply, on ADB Keyboard
            assert [phone.phone.state()["ime"]["current"] for phone in two_phones] == [ADB_KEYBOARD] * 2

        returncode, out = stopped_when_held(args, server, 8, signum, tmp_path, release, both_typing)
    assert returncode == code, out
    assert out.count(f"INTERRUPTED: {message}") == 2
    _, reports = index_links(out)
    traces = [read_trace(report.parent) for report in reports]
    assert [trace[-1]["status"] for trace in traces] == ["interrupted", "interrupted"]
    assert [len([line for line in trace if line["type"] == "step"]) for trace in traces] == [3, 3]
    assert [phone.phone.state()["ime"]["current"] for phone in two_phones] == originals


def run_with(status: str, error: Exception | None = None) -> PhoneRun:
    target = PhoneTarget("s", AdbServerAddress("127.0.0.1", 5037), "s")
    if status == "error":
        return PhoneRun(target, None, error)  # type: ignore[arg-type]
    return PhoneRun(target, RunResult("t", status, "", [], 0.0))  # type: ignore[arg-type]


def test_exit_code_is_the_worst_of_the_phones() -> None:
    assert worst_exit_code([run_with("finished"), run_with("finished")]) == 0
    assert worst_exit_code([run_with("finished"), run_with("stuck"), run_with("needs_human")]) == 3
    assert worst_exit_code([run_with("needs_human"), run_with("error", NoDeviceError("gone"))]) == 2
    assert worst_exit_code([run_with("failed"), run_with("interrupted")]) == 130


def test_adb_server_addresses() -> None:
    assert AdbServerAddress.parse("farm.example", 5037) == AdbServerAddress("farm.example", 5037)
    assert AdbServerAddress.parse("10.0.0.5:6000", 5037) == AdbServerAddress("10.0.0.5", 6000)
    assert AdbServerAddress.parse("[::1]:6000", 5037) == AdbServerAddress("::1", 6000)
    with pytest.raises(ConfigError, match="HOST:PORT"):
        AdbServerAddress.parse("host:99999", 5037)
