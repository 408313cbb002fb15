"""Regression suites: files, locating, the runner on virtual phones, JUnit/HTML, record and replay, pytest."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from apps_registry import default_registry
from phone_agent.cli import app
from phone_agent.device.adb import AdbDevice
from phone_agent.sim.model_server import ReplayModelServer, ReplayScript
from phone_agent.sim.testing import AdbServer, running_phone
from phone_agent.suites.case import CaseEnvironment
from phone_agent.suites.judge import judge
from phone_agent.suites.locate import ElementNotFound, find, parse_hierarchy
from phone_agent.suites.recording import same_fingerprint
from phone_agent.suites.runner import collect, run_all
from phone_agent.suites.spec import Ai, Back, SuiteError, TapStep, WaitFor, load_suite
from tests.support import ScriptedModel

SUITES = Path(__file__).parent.parent / "suites"
runner = CliRunner()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_errors_name_the_file_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path, "bad.yaml", "cases:\n  - name: x\n    steps:\n      - tap: {text: a, id: b}\n      - fly: 1\n"
    )
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    message = str(info.value)
    assert f"{path}:4: cases.0.steps.0.tap: give exactly one of text, id or point" in message
    assert f"{path}:5: cases.0.steps.1: each step is one of" in message


def test_a_case_needs_task_or_steps_and_unique_names(tmp_path: Path) -> None:
    both = write(tmp_path, "both.yaml", "cases:\n  - {name: x, task: t, steps: [back]}\n")
    with pytest.raises(SuiteError, match="either task .* or steps"):
        load_suite(both)
    twice = write(tmp_path, "twice.yaml", "cases:\n  - {name: x, task: t}\n  - {name: x, task: u}\n")
    with pytest.raises(SuiteError, match="two cases are named 'x'"):
        load_suite(twice)


def test_shorthands(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "short.yaml",
        "cases:\n  - name: x\n    steps: [back, {tap: Search}, {wait_for: Done}, {ai: open it}]\n"
        "    expect: {text_visible: Done}\n",
    )
    case = load_suite(path).cases[0]
    assert case.steps is not None
    back, tap, wait, ai = case.steps
    assert isinstance(back, Back) and isinstance(tap, TapStep) and tap.tap.text == "Search"
    assert isinstance(wait, WaitFor) and wait.wait_for.timeout == 10
    assert isinstance(ai, Ai) and ai.ai.task == "open it" and case.expect.text_visible == ["Done"]


HIERARCHY = (
    "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation=\"0\">"
    '<node text="Search" resource-id="com.ebay.mobile:id/search_button" content-desc="" bounds="[0,100][200,200]" />'
    '<node text="" resource-id="com.ebay.mobile:id/image" content-desc="Photo of earbuds" bounds="[0,300][100,400]" />'
    '<node text="Hidden" resource-id="" content-desc="" bounds="[0,0][0,0]" /></hierarchy>'
)


def test_locate_by_id_text_and_description() -> None:
    elements = parse_hierarchy(HIERARCHY)
    assert find(elements, resource_id="search_button").centre == (100, 150)
    assert find(elements, text="search").centre == (100, 150)
    assert find(elements, text="photo of").centre == (50, 350)
    with pytest.raises(ElementNotFound, match=r"no element shows 'Hidden'. On screen: 'Search', 'Photo of earbuds'"):
        find(elements, text="Hidden")


def test_judge_reads_yes_or_no_with_a_reason() -> None:
    assert judge(ScriptedModel(["<answer>YES: the button is there</answer>"]), "s", b"png").passed
    verdict = judge(ScriptedModel(["No - the list is empty"]), "s", b"png")
    assert not verdict.passed and verdict.reason == "the list is empty"
    assert not judge(ScriptedModel(["maybe"]), "s", b"png").passed
    assert judge(ScriptedModel(["是的，页面上有“立即购买”按钮"]), "s", b"png").passed
    assert not judge(ScriptedModel(["不是，列表是空的"]), "s", b"png").passed
    late = judge(ScriptedModel(["There is no error dialog and the list shows items. YES"]), "s", b"png")
    assert late.passed and "no error dialog" in late.reason


def test_shipped_suites_pass_on_two_virtual_phones_from_recordings(tmp_path: Path) -> None:
    junit, html = tmp_path / "junit.xml", tmp_path / "html"
    args = [
        "suite",
        "run",
        str(SUITES),
        "--sim",
        "2",
        "--replay",
        "--junit",
        str(junit),
        "--html",
        str(html),
        "--runs-dir",
        str(tmp_path / "runs"),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    root = ElementTree.parse(junit).getroot()
    cases = root.findall(".//testcase")
    assert root.get("tests") == str(len(cases)) and len(cases) >= 9
    assert root.get("failures") == "0" and root.get("errors") == "0"
    devices = {p.get("value") for p in root.iter("property") if p.get("name") == "device"}
    assert len(devices) == 2
    ai_case = next(c for c in cases if c.get("name") == "the agent opens an item from the results")
    reports = [p.get("value") for p in ai_case.iter("property") if p.get("name") == "report"]
    assert reports and all(Path(r).is_file() for r in reports)
    assert "replayed 3, healed 0" in result.output
    index = (html / "index.html").read_text(encoding="utf-8")
    assert index.count('<tr class="passed">') == len(cases) and "report.html" in index


def test_a_failing_case_is_reported_with_what_was_on_screen(tmp_path: Path) -> None:
    suite = write(
        tmp_path,
        "broken.yaml",
        "app: eBay\ncases:\n  - name: missing button\n    setup: [{clear: eBay}, {launch: eBay}]\n"
        "    steps: [{tap: Checkout now}]\n  - name: wrong text\n    setup: [{launch: eBay}]\n    steps: [home]\n"
        "    expect: {app: eBay, text_visible: [earbuds]}\n",
    )
    junit = tmp_path / "junit.xml"
    result = runner.invoke(
        app, ["suite", "run", str(suite), "--sim", "1", "--junit", str(junit), "--runs-dir", str(tmp_path / "runs")]
    )
    assert result.exit_code == 1
    failures = {c.get("name"): c.find("failure") for c in ElementTree.parse(junit).getroot().iter("testcase")}
    missing = failures["missing button"]
    assert missing is not None and "no element shows 'Checkout now'" in missing.get("message", "")
    assert "On screen: 'eBay'" in missing.get("message", "") and "run directory:" in (missing.text or "")
    wrong = failures["wrong text"]
    assert wrong is not None and "app: com.android.launcher3 is in front (expected eBay)" in wrong.get("message", "")


def copy_settings_suite(tmp_path: Path) -> Path:
    shutil.copy(SUITES / "settings.yaml", tmp_path / "settings.yaml")
    shutil.copytree(SUITES / "recordings" / "settings", tmp_path / "recordings" / "settings")
    return tmp_path / "settings.yaml"


def test_replay_heals_a_step_whose_screen_drifted(tmp_path: Path) -> None:
    suite = copy_settings_suite(tmp_path)
    recording = tmp_path / "recordings" / "settings" / "the-agent-turns-on-the-dark-theme.json"
    calls = json.loads(recording.read_text(encoding="utf-8"))["calls"]
    original = calls[0]["screen"]
    blank = base64.b64encode(bytes(len(base64.b64decode(original)))).decode()  # as if the app looked different
    calls[0]["screen"] = blank
    recording.write_text(json.dumps({"calls": calls}), encoding="utf-8")
    args = ["suite", "run", str(suite), "--sim", "1", "--replay", "--tags", "ai", "--runs-dir", str(tmp_path / "r")]

    without_model = runner.invoke(app, args)
    assert without_model.exit_code == 1 and "does not match the screen and no model" in without_model.output

    script = ReplayScript.model_validate({"replies": [calls[0]["reply"]]})
    with ReplayModelServer(script) as server:
        healed = runner.invoke(app, [*args, "--base-url", server.base_url])
        assert len(server.requests) == 1  # only the drifted step reached the model
    assert healed.exit_code == 0, healed.output
    assert "replayed 1, healed 1" in healed.output
    assert same_fingerprint(json.loads(recording.read_text(encoding="utf-8"))["calls"][0]["screen"], original)


def test_record_needs_a_model_and_record_with_replay_is_refused(tmp_path: Path) -> None:
    suite = copy_settings_suite(tmp_path)
    assert runner.invoke(app, ["suite", "run", str(suite), "--record", "--sim", "1"]).exit_code == 2
    both = runner.invoke(app, ["suite", "run", str(suite), "--record", "--replay"])
    assert both.exit_code == 2 and "not both" in both.output


def test_a_directory_reports_every_yaml_file_the_strict_reader_refuses(tmp_path: Path) -> None:
    copy_settings_suite(tmp_path)
    write(tmp_path, "twice.yaml", "cases:\n  - name: a\n    task: open Settings\ncases: []\n")
    (tmp_path / "latin1.yml").write_bytes("cases:\n  - name: caf\xe9\n".encode("latin-1"))
    result = runner.invoke(app, ["suite", "run", str(tmp_path), "--sim", "1"])
    assert result.exit_code == 2, result.output
    problems = [line for line in result.output.splitlines() if "twice.yaml" in line or "latin1.yml" in line]
    assert len(problems) == 2, result.output
    assert "cases from" not in result.output  # nothing ran


def test_image_expectation_matches_a_template_from_the_screen(tmp_path: Path) -> None:
    from phone_agent.sim.phone import VirtualPhone

    phone = VirtualPhone()
    phone.ui.start("com.android.settings")
    Image.open(io.BytesIO(phone.screencap())).crop((0, 250, 600, 470)).save(tmp_path / "wifi-row.png")
    Image.new("RGB", (300, 200), (250, 20, 20)).save(tmp_path / "red.png")
    suite = write(
        tmp_path,
        "image.yaml",
        "cases:\n  - name: wifi row is drawn\n    setup: [{launch: Settings}]\n    steps: []\n"
        "    expect: {image: {template: wifi-row.png}}\n"
        "  - name: a red block is not\n    setup: [{launch: Settings}]\n    steps: []\n"
        "    expect: {image: {template: red.png, threshold: 0.8}}\n",
    )
    result = runner.invoke(app, ["suite", "run", str(suite), "--sim", "1", "--runs-dir", str(tmp_path / "r")])
    assert "✓ [" in result.output and "wifi row is drawn" in result.output
    assert result.exit_code == 1 and "red.png matches at" in result.output


def test_pytest_collects_and_runs_suite_cases(tmp_path: Path) -> None:
    shutil.copy(SUITES / "clock.yaml", tmp_path / "clock.yaml")
    write(
        tmp_path,
        "failing.yaml",
        "cases:\n  - name: no such alarm\n    setup: [{launch: Clock}]\n"
        "    steps: []\n    expect: {text_visible: '23:59'}\n",
    )
    env = {**os.environ, "PHONE_AGENT_HOME": str(tmp_path / "home")}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", str(tmp_path), "--pa-sim", "-q", "-p", "no:cacheprovider", "-rf"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "1 failed, 2 passed" in completed.stdout
    assert "'23:59' is not on screen" in completed.stdout


def test_a_broken_recording_is_an_error_for_its_case_not_a_silent_pass(tmp_path: Path) -> None:
    suite = copy_settings_suite(tmp_path)
    (tmp_path / "recordings" / "settings" / "the-agent-turns-on-the-dark-theme.json").write_text(
        "<<<<<<< HEAD\n", encoding="utf-8"
    )
    junit = tmp_path / "junit.xml"
    result = runner.invoke(
        app, ["suite", "run", str(suite), "--sim", "1", "--replay", "--junit", str(junit), "--runs-dir", str(tmp_path)]
    )
    assert result.exit_code == 1 and "is not a recording" in result.output
    root = ElementTree.parse(junit).getroot()
    assert root.get("tests") == "2" and root.get("errors") == "1"


def test_shell_setup_steps_must_succeed(tmp_path: Path) -> None:
    suite = write(
        tmp_path,
        "shell.yaml",
        "cases:\n  - name: wifi off\n    setup: [{shell: svc wifi disable}, {launch: Settings}]\n    steps: []\n"
        "    expect: {checked: {Wi-Fi: false}}\n"
        "  - name: a failing command\n    setup: [{shell: no-such-tool --flag}]\n    steps: []\n",
    )
    result = runner.invoke(app, ["suite", "run", str(suite), "--sim", "1", "--runs-dir", str(tmp_path / "r")])
    assert re.search(r"wifi off\s+passed", result.output), result.output  # found the switch by its label's row
    assert "`no-such-tool --flag` exited with 127" in result.output and result.exit_code == 1


def test_teardown_runs_after_a_failing_case_and_puts_the_phone_back(tmp_path: Path) -> None:
    suite = write(
        tmp_path,
        "teardown.yaml",
        "cases:\n  - name: dark theme left on by a failing case\n"
        "    setup: [{shell: settings put secure ui_night_mode 2}, {launch: Settings}]\n"
        "    steps: [{tap: No such row}]\n"
        "    teardown: [{shell: settings put secure ui_night_mode 1}]\n"
        "  - name: the next case finds the light theme\n    setup: [{launch: Settings}]\n    steps: []\n"
        "    expect: {checked: {switch_dark_theme: false}}\n",
    )
    result = runner.invoke(app, ["suite", "run", str(suite), "--sim", "1", "--runs-dir", str(tmp_path / "r")])
    assert re.search(r"dark theme left on by a failing case\s+failed", result.output)
    assert re.search(r"the next case finds the light theme\s+passed", result.output), result.output


def test_a_users_test_rig_gets_the_virtual_phone_fixtures(tmp_path: Path) -> None:
    write(
        tmp_path,
        "test_rig.py",
        "def test_home(sim_phone):\n"
        "    sim_phone.device.shell('input keyevent HOME')\n"
        "    assert sim_phone.phone.state()['foreground']['package'] == 'com.android.launcher3'\n",
    )
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", str(tmp_path), "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "1 passed" in completed.stdout


def test_cases_of_a_phone_that_stops_answering_go_to_another(adb: AdbServer, tmp_path: Path) -> None:
    suite_file = write(
        tmp_path,
        "three.yaml",
        "cases:\n"
        + "".join(f"  - name: case {i}\n    setup: [{{launch: Settings}}]\n    steps: []\n" for i in range(3)),
    )
    items = collect([suite_file])
    events: list[tuple[str, str]] = []
    with running_phone(adb) as alive, running_phone(adb) as doomed:
        envs = [
            CaseEnvironment(AdbDevice.connect(s.phone.serial, port=adb.port), default_registry(), None, tmp_path / "r")
            for s in (doomed, alive)
        ]
        doomed.phone.stop()  # pulled out before the run
        results = run_all(items, envs, lambda event, suite, case, serial, result: events.append((event, serial)))
        assert [r.status for r in results] == ["passed"] * 3
        assert {r.device for r in results} == {alive.phone.serial}
        assert ("phone lost", doomed.phone.serial) in events
        alive.phone.stop()
        lost = run_all(items, envs)
    assert [r.status for r in lost] == ["error"] * 3
    assert lost[0].message == "no phone was left to run this case"


@pytest.mark.parametrize("channel", ["adb", "scrcpy"])
def test_a_phone_named_twice_runs_one_case_at_a_time_over_the_chosen_channel(
    adb: AdbServer, tmp_path: Path, channel: str
) -> None:
    suite = tmp_path / "settings.yaml"
    case = "  - name: {}\n    steps: [{{launch: Settings}}]\n    expect: {{app: Settings}}\n"
    suite.write_text("app: Settings\ncases:\n" + case.format("one") + case.format("two"), encoding="utf-8")
    with running_phone(adb) as session:
        serial = session.phone.serial
        args = ["suite", "run", str(suite), "--device", serial, "--device", serial, "--adb-port", str(adb.port),
                "--runs-dir", str(tmp_path / "runs"), "--channel", channel]
        result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"on {serial} over {channel}\n" in result.output and "2 of 2 cases passed" in result.output
