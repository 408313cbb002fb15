"""`phone-agent doctor` through the real adb server, the virtual phone and the replay model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from phone_agent.cli import app
from phone_agent.sim.model_server import ReplayModelServer, ReplayScript
from phone_agent.sim.testing import AdbServer, PhoneSession, running_phone
from tests.support import FakeClock

runner = CliRunner()
MODEL = "autoglm-phone-multilingual"
KEY = "sk-doctor-secret-55aa"
ACTION = '<think>A home screen.</think><answer>finish(message="The home screen.")</answer>'


@pytest.fixture
def model() -> Iterator[ReplayModelServer]:
    script = ReplayScript.model_validate({"model": MODEL, "replies": ["OK", ACTION]})
    with ReplayModelServer(script) as server:
        yield server


def doctor(adb: AdbServer, server: ReplayModelServer | str, *extra: str) -> Any:
    url = server if isinstance(server, str) else server.base_url
    args = ["doctor", "--adb-port", str(adb.port), "--base-url", url, "--model", MODEL, "--api-key", KEY, *extra]
    result = runner.invoke(app, args)
    assert KEY not in result.output
    return result


def lines(result: Any) -> dict[str, str]:
    return {line[2:].split(":", 1)[0]: line[0] for line in result.output.splitlines() if line[:1] in "✓!✗"}


def test_a_healthy_setup_passes_every_check(adb: AdbServer, phone: PhoneSession, model: ReplayModelServer) -> None:
    result = doctor(adb, model, "--device", phone.phone.serial, "--deep")
    assert result.exit_code == 0, result.output
    marks = lines(result)
    assert set(marks.values()) == {"✓"}, result.output
    assert {
        "adb",
        "adb server",
        "device",
        "android",
        "screen",
        "screenshot",
        "ADB Keyboard",
        "endpoint",
        "model name",
        "API key",
        "vision step",
    } <= set(marks)
    assert "bundled with adbutils" in result.output and "1080x2400" in result.output
    assert phone.phone.state()["ime"]["current"].startswith("com.google.android.inputmethod.latin")  # restored


def test_no_device(adb: AdbServer, model: ReplayModelServer) -> None:
    result = doctor(adb, model)
    assert result.exit_code == 1
    assert "✗ device: no device is attached" in result.output and "USB debugging" in result.output


def test_a_phone_without_adb_keyboard_is_a_warning_on_the_adb_channel(adb: AdbServer, model: ReplayModelServer) -> None:
    with running_phone(adb, adb_keyboard=False) as session:
        result = doctor(adb, model, "--device", session.phone.serial, "--channel", "adb")
    assert result.exit_code == 0, result.output
    assert "✓ channel: adb: chosen with --channel adb" in result.output
    assert "! ADB Keyboard: not installed" in result.output and "adb install ADBKeyboard.apk" in result.output


def test_the_scrcpy_channel_needs_no_adb_keyboard(adb: AdbServer, model: ReplayModelServer) -> None:
    with running_phone(adb, adb_keyboard=False) as session:
        result = doctor(adb, model, "--device", session.phone.serial)
    assert result.exit_code == 0, result.output
    assert "✓ channel: scrcpy: scrcpy server v3.3.4 started on the phone" in result.output, result.output
    assert "✓ ADB Keyboard: not needed" in result.output


def test_doctor_says_why_a_run_would_fall_back_to_adb(
    adb: AdbServer, phone: PhoneSession, model: ReplayModelServer, tmp_path: Path
) -> None:
    fake = tmp_path / "scrcpy-server"
    fake.write_bytes(b"scrcpy 1.0")
    result = doctor(adb, model, "--device", phone.phone.serial, "--scrcpy-server", str(fake))
    assert result.exit_code == 0, result.output
    assert "! channel: adb (scrcpy unavailable: No genuine scrcpy server v3.3.4" in result.output
    assert "phone-agent setup" in result.output
    failed = doctor(adb, model, "--device", phone.phone.serial, "--scrcpy-server", str(fake), "--channel", "scrcpy")
    assert failed.exit_code == 1 and "✗ channel: scrcpy cannot start" in failed.output


def test_a_black_screen_fails_with_advice(adb: AdbServer, phone: PhoneSession, model: ReplayModelServer) -> None:
    phone.phone.secure_screen = True
    result = doctor(adb, model, "--device", phone.phone.serial)
    assert result.exit_code == 1
    assert "✗ screenshot: the screenshot is all black" in result.output and "secure screen" in result.output


@pytest.mark.parametrize(
    "error",
    [{"status": 401, "message": f"invalid key {KEY}"}, {"status": 400, "code": "1002", "message": "token invalid"}],
)
def test_a_bad_key(adb: AdbServer, phone: PhoneSession, error: dict[str, Any]) -> None:
    script = ReplayScript.model_validate({"model": MODEL, "replies": [{"error": error}]})
    with ReplayModelServer(script) as server:
        result = doctor(adb, server, "--device", phone.phone.serial)
    assert result.exit_code == 1
    assert "✗ API key: the API key was rejected" in result.output


def test_an_unknown_model_name(adb: AdbServer, phone: PhoneSession) -> None:
    script = ReplayScript.model_validate({"model": "some-other-model", "replies": ["OK"]})
    with ReplayModelServer(script) as server:
        result = doctor(adb, server, "--device", phone.phone.serial)
    assert result.exit_code == 1
    assert f"✗ model name: '{MODEL}' is not served here" in result.output and "some-other-model" in result.output


def test_an_unreachable_endpoint(adb: AdbServer, phone: PhoneSession, model_clock: FakeClock) -> None:
    result = doctor(adb, "http://127.0.0.1:9/v1", "--device", phone.phone.serial)
    assert result.exit_code == 1
    assert "✗ endpoint: could not reach the model endpoint http://127.0.0.1:9/v1" in result.output
    assert model_clock.sleeps == [1.0]  # one retry, without its second


def test_json_lists_every_check(adb: AdbServer, phone: PhoneSession, model: ReplayModelServer) -> None:
    result = doctor(adb, model, "--device", phone.phone.serial, "--json")
    checks = json.loads(result.output)
    assert result.exit_code == 0
    assert [c["name"] for c in checks][:3] == ["adb", "adb server", "device"]
    assert all(set(c) == {"name", "status", "detail", "fix"} for c in checks)


def test_doctor_can_check_a_virtual_phone_of_its_own(model: ReplayModelServer) -> None:
    result = runner.invoke(app, ["doctor", "--device", "sim", "--base-url", model.base_url, "--model", MODEL])
    assert result.exit_code == 0, result.output
    assert "✓ device:" in result.output and "SimPhone" in result.output


@pytest.mark.parametrize(
    ("error", "line"),
    [
        ({"status": 429, "code": "1113", "message": "arrears"}, "✗ account:"),
        ({"status": 400, "code": "1211", "message": "no such model"}, "✗ model name:"),
        ({"status": 500, "message": "boom"}, "✗ model:"),
    ],
)
def test_each_model_failure_gets_its_own_line(
    adb: AdbServer, phone: PhoneSession, error: dict[str, Any], line: str, model_clock: FakeClock
) -> None:
    script = ReplayScript.model_validate({"model": MODEL, "replies": [{"error": error}] * 3})
    with ReplayModelServer(script) as server:
        result = doctor(adb, server, "--device", phone.phone.serial)
    assert result.exit_code == 1 and line in result.output, result.output


def test_a_rate_limit_is_a_warning(adb: AdbServer, phone: PhoneSession) -> None:
    error = {"status": 429, "retry_after": 0.01, "message": "slow down"}
    script = ReplayScript.model_validate({"model": MODEL, "replies": [{"error": error}] * 3})
    with ReplayModelServer(script) as server:
        result = doctor(adb, server, "--device", phone.phone.serial)
    assert result.exit_code == 0 and "! model:" in result.output and "rate" in result.output


def test_a_hostile_reply_is_shown_without_escape_sequences(adb: AdbServer, phone: PhoneSession) -> None:
    hostile = '<answer>do(action="Pwn\x1b]52;c;ZXZpbA==\x07\x1b[2J")</answer>'
    script = ReplayScript.model_validate({"model": MODEL, "replies": ["OK", hostile]})
    with ReplayModelServer(script) as server:
        result = doctor(adb, server, "--device", phone.phone.serial, "--deep")
    assert result.exit_code == 1 and "✗ vision step:" in result.output, result.output
    assert "Pwn" in result.output and "\x1b" not in result.output and "\x07" not in result.output
