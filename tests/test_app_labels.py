"""Launch by the label an app shows on the home screen, for apps missing from the app list (real adb, virtual phone)."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from typer.testing import CliRunner

from actions.execute import launch_app
from apps_registry import default_registry
from phone_agent.cli import app
from phone_agent.device.adb import AdbDevice
from phone_agent.device.scrcpy.connection import push_if_changed
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


LONG = "My Extremely Long Application Label"  # over scrcpy's 30-unit column: its package is printed on the next line


def connect(adb: AdbServer, phone: PhoneSession, server: Path | None) -> AdbDevice:
    device = AdbDevice.connect(phone.phone.serial, port=adb.port, launch_timeout=2.0)
    device.apps.server = server
    return device


def app_lists(phone: PhoneSession) -> list[str]:
    return [command for command in phone.phone.state()["commands"] if "list_apps=true" in command]


def test_labels_match_loosely_once_listed_and_near_misses_are_named(
        adb: AdbServer, phone: PhoneSession, tmp_path: Path, scrcpy_server_jar: Path) -> None:
    for package, label in (("org.example.cafe", "Café Notes"), ("org.example.long", LONG), (ATX, "ATX")):
        install(adb, phone, tmp_path, package, label)
    device, registry = connect(adb, phone, scrcpy_server_jar), default_registry()
    assert launch_app("cafe  NOTES", device, registry) == (True, None)
    assert phone.phone.ui.foreground()[0] == "org.example.cafe"
    assert launch_app("my extremely long application label", device, registry) == (True, None)
    assert phone.phone.ui.foreground()[0] == "org.example.long"
    launched, feedback = launch_app("Cafe Notez", device, registry)
    assert not launched and feedback is not None
    assert feedback.startswith('Unknown app "Cafe Notez".') and "similar name: Café Notes." in feedback
    assert launch_app("atx", device, registry) == (True, None)
    assert phone.phone.ui.foreground()[0] == ATX
    assert len(app_lists(phone)) == 1  # listed once for the device, whatever is launched after


def test_two_apps_with_one_label_are_named_with_their_packages_and_open_by_package(
        adb: AdbServer, phone: PhoneSession, tmp_path: Path, scrcpy_server_jar: Path) -> None:
    install(adb, phone, tmp_path, "org.example.notes", "Notes")
    install(adb, phone, tmp_path, "com.other.notes", "Notes")
    device, registry = connect(adb, phone, scrcpy_server_jar), default_registry()
    launched, feedback = launch_app("notes", device, registry)
    assert not launched and feedback == ('Several apps on this phone are named "notes": Notes (com.other.notes), '
                                         "Notes (org.example.notes). Launch one by its package name.")
    assert phone.phone.ui.foreground()[0] == "com.android.launcher3"
    assert launch_app("com.other.notes", device, registry) == (True, None)
    assert phone.phone.ui.foreground()[0] == "com.other.notes"


def test_without_the_server_file_packages_still_open_by_a_name_part_and_a_jar_left_on_the_phone_serves(
        adb: AdbServer, phone: PhoneSession, tmp_path: Path, scrcpy_server_jar: Path) -> None:
    install(adb, phone, tmp_path, ATX, "ATX")
    device, registry = connect(adb, phone, None), default_registry()
    launched, feedback = launch_app("ATX", device, registry)
    assert not launched and feedback == 'Unknown app "ATX". Use one of the names the app list gives.'
    assert launch_app("uiautomator", device, registry) == (
        True, f'"uiautomator" is not in the app list; opened the installed package {ATX}.')
    assert not app_lists(phone)
    apps = device.launchable_apps()  # the launcher activities: no labels, and no package without an icon
    assert {app.label for app in apps} == {""} and {ATX, "com.ebay.mobile"} <= {app.package for app in apps}
    assert "com.android.shell" not in {app.package for app in apps}
    # A scrcpy channel leaves its jar on the phone: a later device lists labels with it, without the file here.
    push_if_changed(device, scrcpy_server_jar)
    device.home()
    assert launch_app("ATX", connect(adb, phone, None), registry) == (True, None)
    assert phone.phone.ui.foreground()[0] == ATX


def test_the_allowlist_refuses_a_label_outside_it(
        adb: AdbServer, phone: PhoneSession, tmp_path: Path, scrcpy_server_jar: Path) -> None:
    install(adb, phone, tmp_path, ATX, "ATX")
    replies = ['<answer>do(action="Launch", app="ATX")</answer>', '<answer>finish(message="no")</answer>']
    _output, texts = run(adb, phone, tmp_path, replies, "--allow-apps", "eBay", "--channel", "adb",
                         "--scrcpy-server", str(scrcpy_server_jar))
    assert 'Launch "ATX" was refused' in texts[1]
    assert phone.phone.ui.foreground()[0] != ATX


def test_the_allowlist_takes_a_label_the_app_list_does_not_know(
        adb: AdbServer, phone: PhoneSession, tmp_path: Path, scrcpy_server_jar: Path) -> None:
    install(adb, phone, tmp_path, ATX, "ATX")
    replies = ['<answer>do(action="Launch", app="atx")</answer>', '<answer>finish(message="open")</answer>']
    output, texts = run(adb, phone, tmp_path, replies, "--allow-apps", "ATX", "--channel", "adb",
                        "--scrcpy-server", str(scrcpy_server_jar))
    assert "refused" not in texts[1] and "finished" in output.lower()
    assert phone.phone.ui.foreground()[0] == ATX  # in front, and not taken for a foreign app


def test_a_suite_launch_step_opens_by_label_and_fails_as_the_agents_launch_does(
        adb: AdbServer, phone: PhoneSession, tmp_path: Path, scrcpy_server_jar: Path) -> None:
    for package, label in (("org.example.cafe", "Café Notes"), ("org.example.notes", "Notes"),
                           ("com.other.notes", "Notes")):
        install(adb, phone, tmp_path, package, label)
    suite = tmp_path / "labels.yaml"
    case = "  - name: {}\n    steps: [home, {{launch: {}}}]\n"
    suite.write_text("cases:\n" + case.format("by label", "cafe notes") + case.format("near miss", "Cafe Notez")
                     + case.format("two apps", "Notes") + case.format("by package", "com.other.notes"),
                     encoding="utf-8")
    junit = tmp_path / "junit.xml"
    result = CliRunner().invoke(app, ["suite", "run", str(suite), "--device", phone.phone.serial, "--adb-port",
                                      str(adb.port), "--junit", str(junit), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 1, result.output
    failures = {case.get("name"): case.find("failure") for case in ElementTree.parse(junit).getroot().iter("testcase")}
    assert failures["by label"] is None and failures["by package"] is None
    near_miss, two_apps = failures["near miss"], failures["two apps"]
    assert near_miss is not None and two_apps is not None
    assert near_miss.get("message", "").startswith('Unknown app "Cafe Notez".')
    assert "similar name: Café Notes." in near_miss.get("message", "")
    assert two_apps.get("message") == ('Several apps on this phone are named "Notes": Notes (com.other.notes), '
                                       "Notes (org.example.notes). Launch one by its package name.")
    assert phone.phone.ui.foreground()[0] == "com.other.notes"


def test_apps_installed_after_the_first_listing_are_found_once_the_phone_is_asked_afresh(
        adb: AdbServer, phone: PhoneSession, tmp_path: Path, scrcpy_server_jar: Path) -> None:
    device, registry = connect(adb, phone, scrcpy_server_jar), default_registry()
    assert launch_app("ATX", device, registry)[0] is False  # listed now, without it
    install(adb, phone, tmp_path, ATX, "ATX")
    assert launch_app("ATX", device, registry)[0] is False  # the lists are kept for the device object...
    device.forget_apps()  # ...until a new session (each MCP run_task) asks afresh
    assert launch_app("ATX", device, registry) == (True, None)
    assert ATX in device.installed_packages()
