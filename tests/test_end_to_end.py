"""The product end to end: the CLI, the real adb server, the virtual phone and the replay model over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from phone_agent.cli import app
from phone_agent.device.adb import AdbDevice
from phone_agent.handoff import ConsoleHandOff
from phone_agent.loop.agent import PhoneAgent
from phone_agent.loop.results import RunResult
from phone_agent.model.client import ChatClient
from phone_agent.sim.model_server import ReplayModelServer, ReplayScript
from phone_agent.sim.testing import AdbServer, PhoneSession
from phone_agent.trace import read_trace
from tests.support import FakeClock
from tests.test_adb_device import centre

runner = CliRunner()
EBAY_SEARCH = [
    '<think>Open eBay.</think><answer>do(action="Launch", app="eBay")</answer>',
    '<answer>do(action="Tap", element=[500, 145])</answer>',
    '<answer>do(action="Type", text="earbuds")</answer>',
    '<answer>do(action="Tap", element=[500, 222])</answer>',
    '<answer>finish(message="Results for earbuds are on screen.")</answer>',
]


def script(*steps: Any) -> ReplayModelServer:
    return ReplayModelServer(ReplayScript.model_validate({"replies": list(steps)}))


def run_cli(adb: AdbServer, session: PhoneSession, server: ReplayModelServer, tmp_path: Path, *extra: str) -> Any:
    args = [
        "run",
        "open eBay and search earbuds",
        "--device",
        session.phone.serial,
        "--adb-port",
        str(adb.port),
        "--base-url",
        server.base_url,
        "--runs-dir",
        str(tmp_path),
        *extra,
    ]
    return runner.invoke(app, args)


def only_run_dir(tmp_path: Path) -> Path:
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    return run_dir


@pytest.mark.parametrize("channel", ["adb", "scrcpy"])
def test_run_searches_ebay_on_the_virtual_phone(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path, channel: str
) -> None:
    with script(*EBAY_SEARCH) as server:
        result = run_cli(adb, phone, server, tmp_path, "--channel", channel)
        requests = server.requests
    assert result.exit_code == 0, result.output
    assert f"over {channel}" in result.output
    state = phone.phone.state()
    assert state["foreground"]["package"] == "com.ebay.mobile" and state["shop"]["query"] == "earbuds"
    assert any("earbuds" in text for text in state["screen_texts"])
    records = read_trace(only_run_dir(tmp_path))
    assert records[0]["device"] == phone.phone.serial and records[0]["provider"] == "custom"
    steps = [r for r in records if r["type"] == "step"]
    assert records[0]["channel"] == channel and {s["channel"] for s in steps} == {channel}
    assert [s["action"]["action"] for s in steps] == ["Launch", "Tap", "Type", "Tap", "finish"]
    assert steps[1]["points"] == [[540, 349]] and steps[1]["screen_size"] == [1080, 2400]
    assert records[-1]["status"] == "finished"
    assert all(r.image_count == 1 for r in requests)
    # The model saw the settled screen that followed each action: the second request shows eBay.
    assert '"current_app": "eBay"' in requests[1].messages[-1]["content"][0]["text"]
    assert (only_run_dir(tmp_path) / "report.html").is_file()


def test_take_over_at_the_sign_in_wall_non_interactive_exits_3(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path
) -> None:
    with script('do(action="Take_over", message="Please sign in to eBay")') as server:
        result = run_cli(adb, phone, server, tmp_path, "--non-interactive")
    assert result.exit_code == 3
    assert "NEEDS_HUMAN: Please sign in to eBay" in result.output
    assert read_trace(only_run_dir(tmp_path))[-1]["status"] == "needs_human"


def open_item(session: PhoneSession, device: AdbDevice) -> None:
    """Search, open the first result and press Buy it now (the sign-in wall or, signed in, the payment page)."""
    device.launch("com.ebay.mobile")
    device.tap(*centre(session, "com.ebay.mobile:id/search_src_text"))
    device.type_text("earbuds")
    device.tap(*centre(session, "com.ebay.mobile:id/search_button"))
    device.tap(*centre(session, "com.ebay.mobile:id/item_title"))
    device.tap(*centre(session, "com.ebay.mobile:id/buy_it_now"))


def run_with_console(
    adb: AdbServer, session: PhoneSession, steps: Callable[[], list[str]], read: Callable[[str], str]
) -> tuple[RunResult, list[Any]]:
    """Open the purchase flow, then run the model's ``steps()`` with console hand-off answered by ``read``."""
    with AdbDevice.connect(session.phone.serial, port=adb.port) as device:
        open_item(session, device)
        with script(*steps()) as server, ChatClient(server.base_url, "m") as client:
            agent = PhoneAgent(device, client, handoff=ConsoleHandOff(read=read, write=lambda text: None))
            result = agent.run("buy the first earbuds")
        return result, server.requests


def last_text(request: Any) -> str:
    content = request.messages[-1]["content"]
    return content if isinstance(content, str) else content[0]["text"]


def test_take_over_at_the_sign_in_wall_with_a_person(adb: AdbServer, phone: PhoneSession) -> None:
    prompts: list[str] = []

    def person(prompt: str) -> str:
        prompts.append(prompt)
        phone.phone.set_signed_in(True)  # the person signs in on the phone, then presses Enter
        return ""

    steps = ['do(action="Take_over", message="Please sign in to eBay")', 'finish(message="at checkout")']
    result, requests = run_with_console(adb, phone, lambda: steps, person)
    assert result.status == "finished" and len(prompts) == 1
    assert phone.phone.state()["foreground"]["activity"].endswith("CheckoutActivity")
    # After the hand-off the agent looked again: the payment page is secure, so the model is told.
    assert "finished the manual step" in last_text(requests[1]) and "protected" in last_text(requests[1])


@pytest.mark.parametrize(("answer", "purchases"), [("n", 0), ("y", 1)])
def test_sensitive_payment_tap_is_confirmed_or_denied(
    adb: AdbServer, phone: PhoneSession, answer: str, purchases: int
) -> None:
    phone.phone.set_signed_in(True)
    asked: list[str] = []

    def person(prompt: str) -> str:
        asked.append(prompt)
        return answer

    def steps() -> list[str]:
        x, y = centre(phone, "com.ebay.mobile:id/confirm_and_pay")
        pay = f'do(action="Tap", element=[{x * 1000 // 1080}, {y * 1000 // 2400}], message="Pay for the earbuds")'
        return [pay, 'finish(message="done")']

    result, requests = run_with_console(adb, phone, steps, person)
    assert result.status == "finished" and "Pay for the earbuds" in asked[0]
    assert len(phone.phone.state()["shop"]["purchased"]) == purchases
    assert ("declined" in last_text(requests[1])) is (purchases == 0)


def test_interact_feeds_the_persons_choice_back(adb: AdbServer, phone: PhoneSession) -> None:
    steps = ['do(action="Interact", message="Black or white earbuds?")', 'finish(message="ok")']
    result, requests = run_with_console(adb, phone, lambda: steps, lambda prompt: "white")
    assert result.status == "finished"
    assert "The person answered: white" in last_text(requests[1])


FINISH = 'finish(message="done")'
SECRET = "sk-e2e-secret-7d1f"


@pytest.mark.parametrize(
    ("steps", "exit_code", "expected"),
    [
        ([{"error": {"status": 429, "retry_after": 0.01}}, {"drop": True}, FINISH], 0, "FINISHED: done"),
        ([{"error": {"status": 401, "message": f"bad key {SECRET}"}}], 2, "API key was rejected"),
        ([{"error": {"status": 400, "code": "1002", "message": "token expired"}}], 2, "API key was rejected"),
        ([{"error": {"status": 429, "code": "1113", "message": "arrears"}}], 2, "no balance"),
        ([{"error": {"status": 400, "code": "1211", "message": "model not found"}}], 2, "--model"),
        ([{"error": {"status": 400, "code": "1301", "message": "unsafe"}}], 1, "refused"),
        ([{"error": {"status": 500, "retry_after": 0.01}}] * 5, 1, "gave up after 4 retries"),
        (["no action here"] * 4, 1, "no action here"),
    ],
)
def test_model_failures_give_the_documented_exit_code(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path, steps: list[Any], exit_code: int, expected: str,
    model_clock: FakeClock,
) -> None:
    with script(*steps) as server:
        result = run_cli(adb, phone, server, tmp_path, "--api-key", SECRET, "--quiet")
    assert result.exit_code == exit_code, result.output
    assert expected in result.output
    assert SECRET not in result.output
    trace = (only_run_dir(tmp_path) / "trace.jsonl").read_text(encoding="utf-8")
    assert SECRET not in trace


def test_no_device_is_a_one_line_setup_error(adb: AdbServer, tmp_path: Path) -> None:
    with script(FINISH) as server:
        args = ["run", "x", "--adb-port", str(adb.port), "--base-url", server.base_url, "--device", "emulator-5998"]
        result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "emulator-5998" in result.output and "is not attached" in result.output


def test_unreachable_endpoint_is_a_setup_error(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path, model_clock: FakeClock
) -> None:
    args = [
        "run",
        "x",
        "--device",
        phone.phone.serial,
        "--adb-port",
        str(adb.port),
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--runs-dir",
        str(tmp_path),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "could not reach the model endpoint" in result.output
    assert model_clock.sleeps == [1.0, 2.0, 4.0, 8.0]  # retried as a real run would, without the 15 s


def processes_using(directory: Path) -> list[int]:
    """PIDs of live processes whose environment mentions ``directory`` (what the demo started has it as TMPDIR)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if str(directory).encode() in environ.read_bytes():
                found.append(int(environ.parent.name))
        except OSError:
            continue  # gone, or not ours to read
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc to list what is left running")
def test_demo_in_a_clean_environment_passes_and_leaves_nothing_running(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if "API_KEY" not in key and "ADB" not in key}
    env |= {"PHONE_AGENT_HOME": str(tmp_path), "HOME": str(tmp_path), "PHONE_AGENT_CONFIG": str(tmp_path / "none")}
    env["TMPDIR"] = str(tmp_path)
    completed = subprocess.run(
        [sys.executable, "-m", "phone_agent", "demo"], env=env, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "RECORDING" in completed.stdout and "PASS" in completed.stdout
    assert 'phone-agent run --device sim "open eBay and search earbuds"' in completed.stdout
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert (run_dir / "report.html").is_file()
    assert json.loads((run_dir / "trace.jsonl").read_text(encoding="utf-8").splitlines()[-1])["status"] == "finished"
    assert processes_using(tmp_path) == []


def test_devices_lists_the_phone_with_its_model_and_state(adb: AdbServer, phone: PhoneSession) -> None:
    result = runner.invoke(app, ["devices", "--json", "--adb-port", str(adb.port)])
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert {"serial": phone.phone.serial, "state": "device", "model": "SimPhone"} in rows
