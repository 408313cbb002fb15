"""Launch by the label an app shows on the home screen, for apps missing from the app list (real adb, virtual phone)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from actions.execute import launch_app
from apps_registry import default_registry
from phone_agent.cli import app
from phone_agent.device.adb import AdbDevice
from phone_agent.sim.model_server import RecordedRequest, ReplayModelServer, ReplayScript
from phone_agent.sim.testing import AdbServer, PhoneSession
from tests.sim.apk_fixture import build_apk
from tests.sim.helpers import adb as run_adb

ATX = "com.github.uiautomator"


def install(adb: AdbServer, phone: PhoneSession, tmp_path: Path, package: str, label: str) -> None:
    apk = tmp_path / f"{package}.apk"
    apk.write_bytes(build_apk(package, label))
    result = run_adb(adb, phone, "install", str(apk))
    assert result.returncode == 0, result.stdout + result.stderr


def run(adb: AdbServer, phone: PhoneSession, tmp_path: Path, replies: list[str], *flags: str) -> tuple[str, list[str]]:
    """`phone-agent run` with replayed replies: its output, and the last user text of every model request."""
    with ReplayModelServer(ReplayScript.model_validate({"replies": replies})) as model:
        result = CliRunner().invoke(app, ["run", "open it", "--device", phone.phone.serial, "--adb-port",
                                          str(adb.port), "--base-url", model.base_url, "--non-interactive",
                                          "--runs-dir", str(tmp_path / "runs"), *flags])
        texts = [_last_user_text(request) for request in model.requests]
    assert result.exit_code == 0, result.output
    return result.output, texts


def _last_user_text(request: RecordedRequest) -> str:
    content = [m for m in request.messages if m["role"] == "user"][-1]["content"]
    return content if isinstance(content, str) else " ".join(part.get("text", "") for part in content)


@pytest.mark.parametrize("channel", ["scrcpy", "adb"])
def test_an_app_missing_from_the_list_opens_by_its_home_screen_label(
        adb: AdbServer, phone: PhoneSession, tmp_path: Path, scrcpy_server_jar: Path, channel: str) -> None:
    install(adb, phone, tmp_path, ATX, "ATX")
    replies = ['<answer>do(action="Launch", app="ATX")</answer>', '<answer>finish(message="open")</answer>']
    run(adb, phone, tmp_path, replies, "--channel", channel, "--scrcpy-server", str(scrcpy_server_jar))
    assert phone.phone.ui.foreground()[0] == ATX
