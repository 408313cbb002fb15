"""``python -m phone_agent`` as a real process: signals, a lost adb server, the terminal, and bad input.

The phone is the virtual one behind a real adb server, the model the replay server over HTTP.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from phone_agent.sim.model_server import ReplayModelServer, ReplayScript
from phone_agent.sim.testing import AdbServer, PhoneSession, adb_server, running_phone
from phone_agent.trace import read_trace
from tests.support import invoke

ADB_KEYBOARD = "com.android.adbkeyboard/.AdbIME"
# Three steps that leave the phone on ADB Keyboard, then a fourth reply the test holds back.
TYPED_THEN_WAITING: list[Any] = [
    '<answer>do(action="Launch", app="eBay")</answer>',
    '<answer>do(action="Tap", element=[500, 145])</answer>',
    '<answer>do(action="Type", text="earbuds")</answer>',
    {"reply": '<answer>do(action="Tap", element=[500, 222])</answer>', "latency_ms": 60_000},
]


def agent_env(tmp_path: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    return dict(base if base is not None else os.environ) | agent_home(tmp_path)


def agent_home(tmp_path: Path) -> dict[str, str]:
    """A home and no config file of the test's own."""
    return {"PHONE_AGENT_HOME": str(tmp_path / "home"), "PHONE_AGENT_CONFIG": str(tmp_path / "no-config.yaml")}


def start_run(
    adb_port: int, serial: str, base_url: str, tmp_path: Path, env: dict[str, str], channel: str = "adb",
    **popen: Any
) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "phone_agent", "run", "search earbuds", "--device", serial, "--channel", channel,
            "--adb-port", str(adb_port), "--base-url", base_url, "--runs-dir", str(tmp_path / "runs")]
    return subprocess.Popen(args, env=env, **popen)


def wait_until(condition: Callable[[], bool], process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"the run ended early with {process.returncode}"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def stopped_when_held(args: list[str], server: ReplayModelServer, requests: int, signum: int, tmp_path: Path,
                      release: threading.Event, before: Callable[[], None] = lambda: None) -> tuple[int, str]:
    """Run ``python ARGS``; once ``requests`` model requests came (a held one among them), run the checks of
    ``before`` and send ``signum``. Its exit code and output (stderr included)."""
    process = subprocess.Popen([sys.executable, *args], env=agent_env(tmp_path), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: len(server.requests) == requests, process)
        before()
        process.send_signal(signum)
        out, _ = process.communicate(timeout=60)  # no reply comes: only cutting the requests ends the run
    finally:
        release.set()
        if process.poll() is None:
            process.kill()
    return process.returncode, out.decode()


def held_back_server() -> tuple[ReplayModelServer, threading.Event]:
    """The replay server whose held-back reply waits until the event is set."""
    release = threading.Event()
    script = ReplayScript.model_validate({"replies": TYPED_THEN_WAITING})
    return ReplayModelServer(script, sleep=lambda seconds: release.wait(seconds)), release


@pytest.mark.parametrize("channel", ["adb", "scrcpy"])
@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)]
)
def test_a_signal_ends_the_run_in_order_and_gives_the_keyboard_back(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path, signum: int, code: int, channel: str
) -> None:
    original_ime = phone.phone.state()["ime"]["current"]
    server, release = held_back_server()
    with server:
        process = start_run(adb.port, phone.phone.serial, server.base_url, tmp_path, agent_env(tmp_path), channel,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wait_until(lambda: len(server.requests) == 4, process)
            # The adb channel types through ADB Keyboard; the scrcpy channel pastes and never switches keyboards.
            assert phone.phone.state()["ime"]["current"] == (ADB_KEYBOARD if channel == "adb" else original_ime)
            process.send_signal(signum)
            out, err = process.communicate(timeout=60)
        finally:
            release.set()
            if process.poll() is None:
                process.kill()
    assert process.returncode == code, out.decode() + err.decode()
    assert b"Traceback" not in err
    (run_dir,) = (tmp_path / "runs").iterdir()
    result = read_trace(run_dir)[-1]
    assert result["type"] == "result" and result["status"] == "interrupted"
    assert (run_dir / "report.html").is_file()
    assert phone.phone.state()["ime"]["current"] == original_ime


@pytest.fixture
def own_adb() -> Iterator[AdbServer]:
    """An adb server of this test alone, since the test kills it (whatever restarts it is stopped after)."""
    with adb_server(isolate_env=False) as server:
        yield server


def test_after_adb_kill_server_the_run_fails_but_gives_the_keyboard_back_quietly(
    own_adb: AdbServer, tmp_path: Path
) -> None:
    with running_phone(own_adb) as session:
        original_ime = session.phone.state()["ime"]["current"]
        server, release = held_back_server()
        with server:
            process = start_run(own_adb.port, session.phone.serial, server.base_url, tmp_path,
                                agent_env(tmp_path, own_adb.env), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                wait_until(lambda: len(server.requests) == 4, process)
                assert session.phone.state()["ime"]["current"] == ADB_KEYBOARD
                assert own_adb.run("kill-server").returncode == 0
                release.set()
                out, err = process.communicate(timeout=90)
            finally:
                release.set()
                if process.poll() is None:
                    process.kill()
        output = out.decode() + err.decode()
        assert process.returncode == 1, output
        assert "daemon not running" not in output and "Traceback" not in output
        assert f"Started the adb server on port {own_adb.port}" in err.decode()
        assert session.phone.state()["ime"]["current"] == original_ime
        (run_dir,) = (tmp_path / "runs").iterdir()
        assert read_trace(run_dir)[-1]["status"] == "failed"


def read_until(master: int, marker: bytes, timeout: float = 60) -> bytes:
    """Read the terminal until ``marker`` appears (or it closes)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the other side closed
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_the_hand_off_prompt_starts_on_a_line_of_its_own(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path
) -> None:
    reply = '<think>Sign in needed.</think><answer>do(action="Take_over", message="Please sign in")</answer>'
    with ReplayModelServer(ReplayScript.model_validate({"replies": [reply]})) as server:
        master, slave = pty.openpty()
        process = start_run(adb.port, phone.phone.serial, server.base_url, tmp_path, agent_env(tmp_path),
                            stdin=slave, stdout=slave, stderr=slave)
        os.close(slave)
        try:
            shown = read_until(master, b"press Enter")
            os.write(master, b"stop\n")
            shown += read_until(master, b"\x00", timeout=30)  # to the end
            assert process.wait(timeout=30) == 3, shown.decode(errors="replace")
        finally:
            os.close(master)
            if process.poll() is None:
                process.kill()
    text = shown.decode(errors="replace").replace("\r\n", "\n")
    assert "Sign in needed.\nYour turn: Please sign in" in text


def run_cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "phone_agent", *args], env=env or agent_env(tmp_path),
                          capture_output=True, text=True, timeout=120)


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


SUITE = "app: Settings\ncases:\n  - name: opens\n    steps: [{launch: Settings}]\n    expect: {app: Settings}\n"
APPS = "- name: Zettlr\n  package: com.zettlr.app\n"


@pytest.mark.parametrize(
    ("command", "content", "expected"),
    [
        ("suite", SUITE.replace("opens", "opens \xe9").encode("latin-1"), "bad.yaml:3: not UTF-8 text (byte 0xe9)"),
        ("apps", b"- name: Caf\xe9\n  package: com.cafe.app\n", "bad.yaml:1: not UTF-8 text (byte 0xe9)"),
        ("suite", "cases: " + "[" * 5000 + "]" * 5000, "nested more than 100 levels deep"),
        ("apps", "[" * 5000 + "]" * 5000, "nested more than 100 levels deep"),
        ("suite", SUITE + "app: Clock\n", "bad.yaml:6: the key 'app' is given twice (first on line 1)"),
        ("apps", APPS + "  package: org.zettlr\n", "bad.yaml:3: the key 'package' is given twice (first on line 2)"),
        ("suite", SUITE + "#" * (5 * 1024 * 1024), "more than the 5 MB a YAML file may have"),
        ("apps", APPS + "#" * (5 * 1024 * 1024), "more than the 5 MB a YAML file may have"),
    ],
    ids=["suite-not-utf8", "apps-not-utf8", "suite-deep", "apps-deep", "suite-repeated-key", "apps-repeated-key",
         "suite-too-big", "apps-too-big"],  # short ids: the test id lands in the child's environment
)
def test_bad_suite_and_apps_files_give_one_line_and_exit_2(
    adb: AdbServer, tmp_path: Path, command: str, content: str | bytes, expected: str
) -> None:
    bad = write(tmp_path / "bad.yaml", content)
    args = ["suite", "run", str(bad)] if command == "suite" else ["apps", "--apps-file", str(bad)]
    completed = invoke(*args, env=agent_home(tmp_path))  # in this process: parsing is no matter of processes
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert expected in completed.stderr and "Traceback" not in completed.stderr


def test_a_config_file_with_a_repeated_key_is_a_setup_error(adb: AdbServer, tmp_path: Path) -> None:
    config = write(tmp_path / "config.yaml", "max_steps: 10\nlang: en\nmax_steps: 20\n")
    completed = invoke("apps", env=agent_home(tmp_path) | {"PHONE_AGENT_CONFIG": str(config)})
    assert completed.returncode == 2
    assert "config.yaml:3: the key 'max_steps' is given twice (first on line 1)" in completed.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["   "], "The task is empty"),
        (["x", "--adb-port", "99999"], "adb_port: Input should be less than or equal to 65535"),
        (["x", "--runs-dir", "{file}/runs"], "Cannot write run directories in"),
    ],
)
def test_bad_flags_give_one_line_and_exit_2(adb: AdbServer, tmp_path: Path, args: list[str], expected: str) -> None:
    file = write(tmp_path / "a-file", "not a directory")
    args = [arg.replace("{file}", str(file)) for arg in args]
    completed = run_cli(tmp_path, "run", *args, "--base-url", "http://127.0.0.1:9/v1", "--device", "emulator-5998")
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert expected in completed.stderr and "Traceback" not in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1
