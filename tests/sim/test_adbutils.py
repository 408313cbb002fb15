"""The virtual phone through adbutils, the library the agent's AdbDevice is built on."""

from __future__ import annotations

import io

import adbutils
import pytest
from PIL import Image

from phone_agent.sim.testing import AdbServer, PhoneSession

SHOP = "com.ebay.mobile"


def test_shell_interleaves_stdout_and_stderr(phone: PhoneSession) -> None:
    _, device = phone
    assert device.shell("echo one; echo two >&2; echo three") == "one\ntwo\nthree"


@pytest.mark.parametrize("v2", [False, True])
def test_shell2_exit_codes(phone: PhoneSession, v2: bool) -> None:
    _, device = phone
    assert device.shell2("true", v2=v2).returncode == 0
    assert device.shell2("false", v2=v2).returncode == 1
    assert device.shell2("no-such-tool", v2=v2).returncode == 127
    result = device.shell2("echo a; false || echo b", v2=v2)
    assert (result.returncode, result.output) == (0, "a\nb\n")


def test_shell2_v2_separates_stderr(phone: PhoneSession) -> None:
    _, device = phone
    result = device.shell2("echo out; echo err >&2; exit 7", v2=True)
    assert (result.returncode, result.stdout, result.stderr) == (7, "out\n", "err\n")


def test_device_facts(phone: PhoneSession) -> None:
    sim, device = phone
    assert device.getprop("ro.build.version.sdk") == "34"
    assert device.prop.model == "SimPhone"
    assert device.window_size() == (1080, 2400)
    assert device.rotation() == 0
    assert device.is_screen_on()
    assert SHOP in device.list_packages()
    assert device.get_features().split(",")[0] == "shell_v2"
    assert device.battery().level == 100
    assert sim.serial == device.serial


def test_app_start_current_and_stop(phone: PhoneSession) -> None:
    sim, device = phone
    device.app_start(SHOP)
    current = device.app_current()
    assert (current.package, current.activity) == (SHOP, f"{SHOP}.MainActivity")
    device.app_stop(SHOP)
    assert device.app_current().package == "com.android.launcher3"
    device.app_start(SHOP, ".MainActivity")
    assert sim.state()["foreground"]["package"] == SHOP
    info = device.app_info(SHOP)
    assert info is not None and info.version_name == "1.0"


def test_screenshot_matches_the_phones_png(phone: PhoneSession) -> None:
    sim, device = phone
    image = device.screenshot(error_ok=False)
    assert image.size == (1080, 2400)
    assert sim.last_screencap is not None
    expected = Image.open(io.BytesIO(sim.last_screencap)).convert("RGB")
    assert image.convert("RGB").tobytes() == expected.tobytes()


def test_dump_hierarchy_goes_through_a_file_and_sync(phone: PhoneSession) -> None:
    sim, device = phone
    assert device.dump_hierarchy() == sim.ui.hierarchy_xml()


def test_sync_push_pull_stat_list(phone: PhoneSession) -> None:
    sim, device = phone
    payload = bytes(range(256)) * 5000  # > 1 MiB
    device.sync.push(io.BytesIO(payload), "/sdcard/data.bin")
    assert device.sync.read_bytes("/sdcard/data.bin") == payload
    assert device.sync.stat("/sdcard/data.bin").size == len(payload)
    assert device.sync.exists("/sdcard/data.bin") and not device.sync.exists("/sdcard/none")
    assert "data.bin" in [entry.path for entry in device.sync.list("/sdcard")]
    assert sim.state()["transfers"][-1] == {"op": "pull", "path": "/sdcard/data.bin"}
    device.remove("/sdcard/data.bin")
    assert not device.sync.exists("/sdcard/data.bin")


def test_pull_of_a_missing_file_raises(phone: PhoneSession) -> None:
    _, device = phone
    with pytest.raises(adbutils.AdbError):
        device.sync.read_bytes("/sdcard/missing.txt")


def test_click_swipe_keyevent_and_send_keys(phone: PhoneSession) -> None:
    sim, device = phone
    device.keyevent("HOME")
    device.click(540, 1200)
    device.swipe(540, 1800, 540, 600, 0.2)
    device.send_keys("abc")
    kinds = [entry["kind"] for entry in sim.state()["input_log"]]
    assert kinds == ["key", "tap", "swipe", "text"]
    assert sim.state()["input_log"][2]["duration_ms"] == 200


def test_unknown_service_is_refused_and_the_connection_survives(adb_server: AdbServer, phone: PhoneSession) -> None:
    _, device = phone
    connection = device.open_transport()
    try:
        connection.send_command("frobnicate:now")
        with pytest.raises(adbutils.AdbError):
            connection.check_okay()
            connection.read_until_close()
    finally:
        connection.close()
    assert device.shell("echo ok") == "ok"
