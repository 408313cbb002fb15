"""The phone's Android commands, run in-process through `VirtualPhone.run` (the adb path is tested elsewhere)."""

from __future__ import annotations

import base64
import io
import re

import pytest
from PIL import Image

from phone_agent.sim import VirtualPhone
from phone_agent.sim.system import ADB_KEYBOARD, DEFAULT_IME
from tests.sim.helpers import centre

SHOP = "com.ebay.mobile"


@pytest.fixture
def phone() -> VirtualPhone:
    """A phone that never listens: the shell alone."""
    return VirtualPhone()


def focus_shop_search(phone: VirtualPhone) -> None:
    """Open the shop and tap its search field."""
    assert phone.run(f"monkey -p {SHOP} -c android.intent.category.LAUNCHER 1").status == 0
    x, y = centre(phone.ui.hierarchy_xml(), resource_id=f"{SHOP}:id/search_src_text")
    assert phone.run(f"input tap {x} {y}").status == 0


def search_text(phone: VirtualPhone) -> str:
    """What the shop's search field holds."""
    return str(phone.state()["text_fields"][f"{SHOP}:id/search_src_text"])


def test_input_tap_swipe_and_keys_reach_the_ui_and_the_log(phone: VirtualPhone) -> None:
    x, y = centre(phone.ui.hierarchy_xml(), text="eBay")
    assert phone.run(f"input tap {x} {y}").status == 0
    assert phone.state()["foreground"]["package"] == SHOP
    assert phone.run("input keyevent KEYCODE_BACK").status == 0
    assert phone.state()["foreground"]["package"] == "com.android.launcher3"
    assert phone.run("input swipe 500 1500 500 500 300 && input keyevent 3 HOME").status == 0
    kinds = [entry["kind"] for entry in phone.state()["input_log"]]
    assert kinds == ["tap", "key", "swipe", "key", "key"]
    assert phone.state()["input_log"][0] | {"t": 0} == {"t": 0, "kind": "tap", "x": x, "y": y}


def test_input_rejects_bad_arguments_like_android(phone: VirtualPhone) -> None:
    result = phone.run("input tap one 2")
    assert result.status == 255 and "NumberFormatException" in result.stderr
    result = phone.run("input keyevent KEYCODE_NOPE")
    assert result.status == 255 and "KEYCODE_NOPE" in result.stderr
    assert phone.run("input fly 1 2").status != 0


def test_input_text_types_only_its_first_argument_with_percent_s_as_space(phone: VirtualPhone) -> None:
    focus_shop_search(phone)
    assert phone.run("input text 'red%sshoes' ignored").status == 0
    assert search_text(phone) == "red shoes"
    assert phone.run("input keyevent 67 67").status == 0
    assert search_text(phone) == "red sho"


def test_input_text_with_non_ascii_fails_and_types_nothing(phone: VirtualPhone) -> None:
    focus_shop_search(phone)
    result = phone.run("input text 'café'")
    assert result.status == 255
    assert "NullPointerException" in result.stderr
    assert search_text(phone) == ""
    assert phone.state()["input_log"][-1]["typed"] is False


def test_adb_keyboard_broadcasts_act_only_while_it_is_the_current_ime(phone: VirtualPhone) -> None:
    focus_shop_search(phone)
    text = '中文 😀 "quoted" it\'s\nnew line'
    message = base64.b64encode(text.encode()).decode()
    result = phone.run(f"am broadcast -a ADB_INPUT_B64 --es msg {message}")
    assert result.stdout.startswith("Broadcasting: Intent { act=ADB_INPUT_B64 flg=0x400000 (has extras) }")
    assert result.stdout.endswith("Broadcast completed: result=0\n")
    assert search_text(phone) == ""  # the IME is not active: no receiver
    assert phone.run(f"ime enable {ADB_KEYBOARD} && ime set {ADB_KEYBOARD}").status == 0
    assert phone.run(f"am broadcast -a ADB_INPUT_B64 --es msg {message}").status == 0
    assert search_text(phone) == text
    assert phone.run("am broadcast -a ADB_CLEAR_TEXT").status == 0
    assert search_text(phone) == ""
    assert phone.run("am broadcast -a ADB_INPUT_TEXT --es msg 'plain words'").status == 0
    assert search_text(phone) == "plain words"
    assert phone.state()["screen"]["keyboard_label"] == "ADB Keyboard {ON}"


def test_adb_keyboard_missing_value_fails_like_am(phone: VirtualPhone) -> None:
    result = phone.run("am broadcast -a ADB_INPUT_TEXT --es msg")
    assert result.status == 255
    assert 'Argument expected after "msg"' in result.stderr


def test_ime_commands_and_settings_share_one_state(phone: VirtualPhone) -> None:
    assert phone.run("ime list -s").stdout == f"{DEFAULT_IME}\n"
    assert phone.run("ime list -a -s").stdout == f"{DEFAULT_IME}\n{ADB_KEYBOARD}\n"
    assert phone.run(f"ime enable {ADB_KEYBOARD}").stdout == f"Input method {ADB_KEYBOARD}: now enabled for user #0\n"
    assert phone.run(f"ime enable {ADB_KEYBOARD}").stdout.endswith("already enabled for user #0\n")
    assert phone.run(f"ime set {ADB_KEYBOARD}").stdout == f"Input method {ADB_KEYBOARD} selected for user #0\n"
    assert phone.run("settings get secure default_input_method").stdout == f"{ADB_KEYBOARD}\n"
    assert ADB_KEYBOARD in phone.run("settings get secure enabled_input_methods").stdout
    assert phone.run("ime reset").stdout.startswith("Reset current and enabled IMEs for user #0")
    assert phone.run("settings get secure default_input_method").stdout == f"{DEFAULT_IME}\n"
    unknown = phone.run("ime set com.example/.Nope")
    assert unknown.status == 255
    assert unknown.stderr == "Unknown input method com.example/.Nope cannot be selected for user #0\n"


def test_ime_set_refuses_an_installed_ime_that_is_not_enabled(phone: VirtualPhone) -> None:
    refused = phone.run(f"ime set {ADB_KEYBOARD}")
    assert refused.status == 255
    assert refused.stderr == f"Unknown input method {ADB_KEYBOARD} cannot be selected for user #0\n"
    assert phone.run("settings get secure default_input_method").stdout == f"{DEFAULT_IME}\n"
    assert phone.run("ime list -s").stdout == f"{DEFAULT_IME}\n"


def test_a_phone_without_adb_keyboard_does_not_list_or_select_it() -> None:
    phone = VirtualPhone(adb_keyboard=False)
    assert ADB_KEYBOARD not in phone.run("ime list -a -s").stdout
    assert "com.android.adbkeyboard" not in phone.run("pm list packages").stdout
    assert phone.run(f"ime set {ADB_KEYBOARD}").status == 255


def test_settings_get_put_and_namespaces(phone: VirtualPhone) -> None:
    assert phone.run("settings put system screen_brightness 42").status == 0
    assert phone.run("settings get system screen_brightness").stdout == "42\n"
    assert phone.run("settings get global nothing_here").stdout == "null\n"
    assert phone.run("settings get bogus x").status == 255


def test_toggle_settings_follow_the_settings_app(phone: VirtualPhone) -> None:
    assert phone.run("settings get global wifi_on").stdout == "1\n"
    assert phone.run("svc wifi disable").status == 0
    assert phone.state()["toggles"]["wifi"] is False
    assert phone.run("settings put secure ui_night_mode 2").status == 0
    assert phone.state()["toggles"]["dark_theme"] is True
    phone.run("am start -n com.android.settings/.Settings")
    x, y = centre(phone.ui.hierarchy_xml(), text="Bluetooth")
    phone.run(f"input tap {x} {y}")
    assert phone.run("settings get global bluetooth_on").stdout == "1\n"


def test_am_start_monkey_and_force_stop(phone: VirtualPhone) -> None:
    result = phone.run(f"am start -W -n {SHOP}/.MainActivity")
    assert result.status == 0
    assert result.stdout.startswith(f"Starting: Intent {{ cmp={SHOP}/.MainActivity }}")
    assert "Status: ok" in result.stdout and "Complete" in result.stdout
    assert phone.state()["foreground"] == {"package": SHOP, "activity": f"{SHOP}.MainActivity"}
    assert phone.run(f"am force-stop {SHOP}").status == 0
    assert phone.state()["foreground"]["package"] == "com.android.launcher3"
    missing = phone.run(f"am start -n {SHOP}/.Nope")
    assert missing.status != 0 and "does not exist" in missing.stderr
    assert phone.run("am start -a android.settings.SETTINGS").status == 0
    assert phone.state()["foreground"]["package"] == "com.android.settings"
    aborted = phone.run("monkey -p com.example.none -c android.intent.category.LAUNCHER 1")
    assert aborted.status != 0 and "** No activities found to run, monkey aborted." in aborted.stdout
    started = phone.run(f"monkey -p {SHOP} -c android.intent.category.LAUNCHER 1")
    assert started.status == 0 and "Events injected: 1" in started.stdout


def test_dumpsys_formats_parse_like_adbutils_expects(phone: VirtualPhone) -> None:
    phone.run(f"am start -n {SHOP}/.MainActivity")
    window = phone.run("dumpsys window windows").stdout
    focus = re.search(r"mCurrentFocus=Window\{.*\s+(?P<package>[^\s]+)/(?P<activity>[^\s]+)\}", window)
    assert focus is not None and focus.groups() == (SHOP, f"{SHOP}.MainActivity")
    assert re.search(rf"mFocusedApp=ActivityRecord\{{\w+ u0 {SHOP}/\.MainActivity t\d+\}}", window)
    activities = phone.run("dumpsys activity activities").stdout
    assert re.search(rf"mResumedActivity: ActivityRecord\{{.*?\s+{SHOP}/\.MainActivity\s.*?\}}", activities)
    top = phone.run("dumpsys activity top").stdout
    assert re.search(rf"ACTIVITY {SHOP}/\.MainActivity \w+ pid=\d+", top)
    assert re.search(r"orientation=0", phone.run("dumpsys display").stdout)
    assert "mHoldingDisplaySuspendBlocker=true" in phone.run("dumpsys power").stdout


def test_wm_size_reports_and_overrides(phone: VirtualPhone) -> None:
    assert phone.run("wm size").stdout == "Physical size: 1080x2400\n"
    assert phone.run("wm size 720x1600 && wm size").stdout == "Physical size: 1080x2400\nOverride size: 720x1600\n"
    assert phone.run("wm size reset && wm size").stdout == "Physical size: 1080x2400\n"


def test_screencap_and_uiautomator_write_files(phone: VirtualPhone) -> None:
    assert phone.run("screencap -p /sdcard/s.png").stdout == ""
    png = phone.system.fs.read("/sdcard/s.png")
    assert png == phone.last_screencap
    assert Image.open(io.BytesIO(png)).size == (1080, 2400)
    result = phone.run("uiautomator dump")
    assert result.stdout == "UI hierchary dumped to: /sdcard/window_dump.xml\n"
    assert phone.system.fs.read("/sdcard/window_dump.xml").decode() == phone.ui.hierarchy_xml()
    assert phone.run("uiautomator dump /data/local/tmp/d.xml && cat /data/local/tmp/d.xml").stdout.startswith("UI hier")


def test_packages(phone: VirtualPhone) -> None:
    third_party = phone.run("pm list packages -3").stdout.split()
    assert sorted(third_party) == ["package:com.android.adbkeyboard", f"package:{SHOP}"]
    assert phone.run("pm list packages ebay").stdout == f"package:{SHOP}\n"
    assert phone.run(f"pm path {SHOP}").stdout.startswith("package:/data/app/")
    assert phone.run("pm path com.example.none").status == 1
    assert phone.run(f"pm clear {SHOP}").stdout == "Success\n"
    resolved = phone.run(f"cmd package resolve-activity --brief {SHOP}").stdout.splitlines()
    assert resolved[-1] == f"{SHOP}/.MainActivity"
    assert phone.run("cmd package resolve-activity --brief com.example.none").stdout == "No activity found\n"


def test_getprop(phone: VirtualPhone) -> None:
    assert phone.run("getprop ro.build.version.sdk").stdout == "34\n"
    assert phone.run("getprop ro.build.version.release").stdout == "14\n"
    assert phone.run("getprop ro.nothing fallback").stdout == "fallback\n"
    assert "[ro.product.model]: [SimPhone]" in phone.run("getprop").stdout


def test_unknown_commands_are_logged_in_the_state(phone: VirtualPhone) -> None:
    result = phone.run("su -c reboot")
    assert (result.status, result.stderr) == (127, "/system/bin/sh: su: not found\n")
    assert phone.state()["unknown_commands"] == ["su -c reboot"]


def test_reset_restores_a_fresh_phone(phone: VirtualPhone) -> None:
    phone.run(f"ime enable {ADB_KEYBOARD}; ime set {ADB_KEYBOARD}; echo x > /sdcard/x; "
              f"am start -n {SHOP}/.MainActivity; nope")
    phone.secure_screen = True
    phone.reset()
    state = phone.state()
    assert state["ime"]["current"] == DEFAULT_IME
    assert state["files"] == {} and state["unknown_commands"] == [] and state["input_log"] == []
    assert state["foreground"]["package"] == "com.android.launcher3"
    assert state["faults"]["secure_screen"] is False
