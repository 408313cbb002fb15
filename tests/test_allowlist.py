"""The app allowlist: parsing and name resolution, the phone's own apps, and runs limited to allowed apps."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions import Action, Back, Launch, LaunchableApp
from apps_registry import default_registry
from phone_agent.allowlist import AllowList
from phone_agent.config import load_settings
from phone_agent.device.adb import AdbDevice
from phone_agent.errors import ConfigError
from phone_agent.handoff import NonInteractiveHandOff
from phone_agent.loop.agent import AgentSettings, PhoneAgent
from phone_agent.sim.adb import system_cmds
from phone_agent.sim.adb.shell import CommandIO
from phone_agent.sim.testing import AdbServer, PhoneSession
from phone_agent.trace import read_trace
from tests.support import FakeDevice, ScriptedModel, invoke
from tests.test_adb_device import centre
from tests.test_end_to_end import last_text, only_run_dir, run_cli, script

EBAY, SETTINGS = "com.ebay.mobile", "com.android.settings"
FINISH = 'finish(message="done")'


@pytest.fixture(autouse=True)
def no_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PHONE_AGENT_CONFIG", str(tmp_path / "none.yaml"))
    monkeypatch.delenv("PHONE_AGENT_ALLOW_APPS", raising=False)


NO_PHONE_APPS: tuple[LaunchableApp, ...] = ()
PHONE_APPS = (LaunchableApp("ATX", "com.github.uiautomator"), LaunchableApp("Einstellungen", "com.android.settings"),
              LaunchableApp("Notes", "org.example.notes"), LaunchableApp("Notes", "com.other.notes"))


def allow(*names: str, phone_apps: tuple[LaunchableApp, ...] = NO_PHONE_APPS) -> AllowList:
    return AllowList.resolve(names, default_registry(), lambda: phone_apps)


# --- parsing and resolving -------------------------------------------------------------------------------------


def test_the_environment_takes_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHONE_AGENT_ALLOW_APPS", " eBay, Settings ,,")
    assert load_settings().allow_apps == ["eBay", "Settings"]
    assert load_settings(allow_apps="易贝，设置").allow_apps == ["易贝", "设置"]  # full-width comma, flag wins
    assert load_settings(max_steps=3).allow_apps == ["eBay", "Settings"]


def test_the_config_file_takes_a_list(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("allow_apps: [eBay, 设置]\n", encoding="utf-8")
    monkeypatch.setenv("PHONE_AGENT_CONFIG", str(config))
    assert load_settings().allow_apps == ["eBay", "设置"]


def test_names_resolve_through_the_registry_with_aliases() -> None:
    allowed = allow("ebay", "易贝", "设置", "Settings")
    assert [app.name for app in allowed.apps] == ["eBay", "Settings"]
    assert allowed.names == "eBay, Settings"


def test_an_unknown_name_is_a_setup_error_with_close_matches() -> None:
    with pytest.raises(ConfigError, match=r'Unknown app "Setings" in the app allowlist.*Did you mean: Settings'):
        allow("eBay", "Setings")
    with pytest.raises(ConfigError, match="names no app"):
        allow()


def test_the_system_counts_as_allowed_other_apps_do_not() -> None:
    allowed = allow("eBay")
    system = ("android", "com.android.systemui", "com.google.android.permissioncontroller",
              "com.android.intentresolver", "com.google.android.documentsui", "com.android.documentsui",
              "com.google.android.providers.media.module", "com.google.android.gms")
    for package in (EBAY, *system):
        assert allowed.allows_package(package), package
    assert not allowed.allows_package(SETTINGS)
    assert not allowed.allows_package("com.android.launcher3")  # the home app is asked of the phone instead


def test_launching_is_refused_outside_the_list() -> None:
    allowed, registry = allow("eBay"), default_registry()
    def refusal(action: Action) -> str | None:
        return allowed.refusal(action, registry, lambda: PHONE_APPS)

    assert refusal(Launch(app="ebay")) is None
    assert refusal(Launch(app="易贝")) is None
    refused = refusal(Launch(app="Settings"))
    assert refused is not None and 'Launch "Settings" was refused' in refused and "only use eBay" in refused
    assert refusal(Launch(app="No Such App")) is not None
    assert refusal(Launch(app="ATX")) is not None  # on the phone, but not allowed
    assert refusal(Back()) is None  # only launching is refused; the front app is watched


def test_apps_the_list_does_not_know_are_allowed_by_their_label_on_the_phone() -> None:
    allowed, registry = allow("ATX", "Settings", phone_apps=PHONE_APPS), default_registry()
    assert allowed.names == "ATX, Settings"
    assert allowed.allows_package("com.github.uiautomator")
    for name in ("atx", "com.github.uiautomator", "Einstellungen"):  # Settings as a German phone labels it
        assert allowed.refusal(Launch(app=name), registry, lambda: PHONE_APPS) is None, name
    with pytest.raises(ConfigError, match=r'Several apps on this phone are named "Notes": Notes \(org.example.notes\), '
                                          r"Notes \(com.other.notes\)\. Give the package"):
        allow("Notes", phone_apps=PHONE_APPS)
    assert allow("org.example.notes", phone_apps=PHONE_APPS).names == "Notes"
    # A label the phone gives an app of the list is that app, under either name.
    german = allow("Einstellungen", phone_apps=PHONE_APPS)
    assert german.names == "Settings"
    for name in ("Settings", "设置", "Einstellungen"):
        assert german.refusal(Launch(app=name), registry, lambda: PHONE_APPS) is None, name
    with pytest.raises(ConfigError, match=r'Unknown app "ATXX" .*Did you mean: ATX\?'):
        allow("ATXX", phone_apps=PHONE_APPS)


def test_the_phone_names_its_home_app_and_keyboard(adb: AdbServer, phone: PhoneSession) -> None:
    with AdbDevice.connect(phone.phone.serial, port=adb.port) as device:
        assert device.home_and_keyboard() == {"com.android.launcher3", "com.google.android.inputmethod.latin"}


def test_without_a_default_home_app_every_home_app_counts(
    adb: AdbServer, phone: PhoneSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    def chooser(io: CommandIO, args: list[str]) -> int:  # what HOME resolves to before the person picks a default
        io.out("priority=0 preferredOrder=0 match=0x0 specificIndex=-1 isDefault=false\n"
               "android/com.android.internal.app.ResolverActivity\n")
        return 0

    monkeypatch.setattr(system_cmds, "resolve_activity", chooser)
    with AdbDevice.connect(phone.phone.serial, port=adb.port) as device:
        phone_apps = device.home_and_keyboard()
    assert {"com.android.launcher3", "com.google.android.inputmethod.latin"} <= phone_apps
    assert "com.android.settings" not in phone_apps  # its FallbackHome only stands in while the phone boots


# --- the loop ----------------------------------------------------------------------------------------------------


class Person(NonInteractiveHandOff):
    """Someone at the phone who, asked to take over, goes back to eBay and hands the phone back."""

    def __init__(self, device: FakeDevice) -> None:
        self.device = device
        self.told: list[str] = []

    def take_over(self, message: str) -> bool:
        self.told.append(message)
        self.device.foreground = EBAY
        return True


def test_the_home_app_is_asked_of_the_phone_once_per_run() -> None:
    device = FakeDevice()
    model = ScriptedModel(['do(action="Home")', 'do(action="Launch", app="eBay")', 'do(action="Home")', FINISH])
    agent = PhoneAgent(device, model, settings=AgentSettings(allowed_apps=allow("eBay")))
    assert agent.run("shop").status == "finished" and device.home_queries == 1


def test_without_an_allowlist_the_phone_is_never_asked() -> None:
    device, model = FakeDevice(), ScriptedModel(['do(action="Launch", app="Settings")', FINISH])
    assert PhoneAgent(device, model).run("x").status == "finished"
    assert device.foreground == SETTINGS and not hasattr(device, "home_queries")


def test_a_person_brings_the_phone_back_from_a_foreign_app() -> None:
    device = FakeDevice()
    device.foreground = SETTINGS
    person, model = Person(device), ScriptedModel([FINISH])
    agent = PhoneAgent(device, model, settings=AgentSettings(allowed_apps=allow("eBay")), handoff=person)
    assert agent.run("shop").status == "finished"
    (told,) = person.told
    assert "Settings (com.android.settings) came to the front" in told and "only use eBay" in told
    seen = model.requests[0][-1]["content"][0]["text"]
    assert '"current_app": "eBay"' in seen and "the person went back" in seen


# --- end to end: the CLI, the real adb server, the virtual phone and the replay model ----------------------------


def test_a_forbidden_launch_is_refused_to_the_model(adb: AdbServer, phone: PhoneSession, tmp_path: Path) -> None:
    steps = ['do(action="Launch", app="Settings")', 'do(action="Launch", app="eBay")', FINISH]
    with script(*steps) as server:
        result = run_cli(adb, phone, server, tmp_path, "--allow-apps", "ebay", "--non-interactive")
        requests = server.requests
    assert result.exit_code == 0, result.output
    assert 'Launch "Settings" was refused: this task may only use eBay' in last_text(requests[1])
    started = [entry.get("package") for entry in phone.phone.state()["input_log"] if entry["kind"] == "start"]
    assert SETTINGS not in started and phone.phone.state()["foreground"]["package"] == EBAY
    steps_done = [r for r in read_trace(only_run_dir(tmp_path)) if r["type"] == "step"]
    assert "refused" in steps_done[0]["feedback"] and steps_done[1]["feedback"] is None


def test_a_tap_into_a_foreign_app_blocks_an_unattended_run(adb: AdbServer, phone: PhoneSession, tmp_path: Path) -> None:
    x, y = centre(phone, "Settings")  # the icon on the home screen, where the run starts
    tap = f'do(action="Tap", element=[{x * 1000 // 1080}, {y * 1000 // 2400}])'
    with script(tap, FINISH) as server:
        completed = invoke("run", "open eBay", "--device", phone.phone.serial, "--adb-port", str(adb.port),
                           "--base-url", server.base_url, "--runs-dir", str(tmp_path),
                           env={"PHONE_AGENT_ALLOW_APPS": "eBay"})
        asked = len(server.requests)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "! Settings (com.android.settings) is in front: it is not an allowed app" in completed.stdout
    assert "BLOCKED: Stopped: Settings (com.android.settings) came to the front" in completed.stdout
    assert asked == 1  # the model was not asked about the foreign screen
    records = read_trace(only_run_dir(tmp_path))
    assert {"type": "foreign_app", "package": SETTINGS, "app": "Settings"}.items() <= records[-2].items()
    assert records[-1]["status"] == "blocked"
    resolves = [c for c in phone.phone.state()["commands"] if "resolve-activity" in c]
    assert len(resolves) == 1  # the home screen at the start asked once; Settings used the cached answer


def test_a_run_started_in_a_foreign_app_goes_home_and_finishes(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path
) -> None:
    with AdbDevice.connect(phone.phone.serial, port=adb.port) as device:
        assert device.launch(SETTINGS)  # someone left the phone in Settings
    with script('do(action="Launch", app="eBay")', FINISH) as server:
        result = run_cli(adb, phone, server, tmp_path, "--allow-apps", "ebay", "--non-interactive")
        requests = server.requests
    assert result.exit_code == 0, result.output
    assert '"current_app": "Home screen"' in last_text(requests[0])  # the model first saw the home screen
    assert phone.phone.state()["foreground"]["package"] == EBAY
    assert [r["type"] for r in read_trace(only_run_dir(tmp_path))].count("foreign_app") == 0
