"""Installing a tester's own APK through the real adb binary, then using it like any app, down to the agent's Launch."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from phone_agent.cli import app
from phone_agent.sim.model_server import ReplayModelServer, ReplayScript
from phone_agent.sim.testing import AdbServer, PhoneSession
from tests.sim.apk_fixture import build_apk
from tests.sim.helpers import adb, centre

PACKAGE = "org.example.pocketnotes"


def _install(adb_server: AdbServer, phone: PhoneSession, tmp_path: Path, **overrides: object) -> bytes:
    apk = tmp_path / "notes.apk"
    apk.write_bytes(build_apk(PACKAGE, "Pocket Notes", version_name="2.1", version_code=21,
                              permissions=("android.permission.INTERNET",), **overrides))  # type: ignore[arg-type]
    result = adb(adb_server, phone, "install", str(apk))
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_any_apk_installs_registers_and_opens_a_screen_to_drive(
        adb_server: AdbServer, phone: PhoneSession, tmp_path: Path) -> None:
    assert b"Success" in _install(adb_server, phone, tmp_path)
    device = phone.device
    assert PACKAGE in device.list_packages()
    assert device.shell(f"pm path {PACKAGE}").startswith("package:/data/app/")
    dump = device.shell(f"dumpsys package {PACKAGE}")
    assert "versionCode=21" in dump and "versionName=2.1" in dump and "android.permission.INTERNET" in dump
    resolved = device.shell(f"cmd package resolve-activity --brief {PACKAGE}").splitlines()
    assert resolved[-1] == f"{PACKAGE}/.MainActivity"
    device.keyevent("HOME")
    device.click(*centre(device.dump_hierarchy(), text="Pocket Notes"))
    assert device.app_current().package == PACKAGE
    screen = device.dump_hierarchy()
    device.click(*centre(screen, resource_id=f"{PACKAGE}:id/input"))
    device.shell("input text hello")
    device.click(*centre(screen, resource_id=f"{PACKAGE}:id/button"))
    assert "OK pressed 1x: hello" in device.dump_hierarchy()
    assert f"START u0 {{flg=0x10000000 cmp={PACKAGE}/.MainActivity}}" in device.shell("logcat -d")
    assert device.shell(f"pm clear {PACKAGE}").strip() == "Success"
    assert device.app_current().package != PACKAGE
    assert adb(adb_server, phone, "uninstall", PACKAGE).stdout.strip() == b"Success"
    assert PACKAGE not in device.list_packages()
    device.keyevent("HOME")
    assert "Pocket Notes" not in device.dump_hierarchy()


def test_installed_apps_survive_a_reboot_and_bad_apks_are_refused(
        adb_server: AdbServer, phone: PhoneSession, tmp_path: Path) -> None:
    junk = tmp_path / "junk.apk"
    junk.write_bytes(b"PK\x03\x04 not really")
    refused = adb(adb_server, phone, "install", str(junk))
    assert refused.returncode != 0 and b"INSTALL_PARSE_FAILED_NOT_APK" in refused.stdout + refused.stderr
    _install(adb_server, phone, tmp_path)
    phone.phone.boot_seconds = 0.5
    adb(adb_server, phone, "reboot")
    adb_server.wait_for(phone.phone.serial, "offline", timeout=5)
    back = adb(adb_server, phone, "wait-for-device", "shell", "pm list packages -3")
    assert f"package:{PACKAGE}" in back.stdout.decode()


def test_phone_agent_run_launches_an_installed_app_by_its_label(
        adb_server: AdbServer, phone: PhoneSession, tmp_path: Path) -> None:
    _install(adb_server, phone, tmp_path)
    replies = ['<answer>do(action="Launch", app="Pocket Notes")</answer>', '<answer>finish(message="open")</answer>']
    with ReplayModelServer(ReplayScript.model_validate({"replies": replies})) as model:
        result = CliRunner().invoke(app, ["run", "open Pocket Notes", "--device", phone.phone.serial, "--adb-port",
                                          str(adb_server.port), "--base-url", model.base_url,
                                          "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    assert phone.phone.ui.foreground()[0] == PACKAGE
