"""AdbDevice through the real adb binary and adbutils, against the virtual phone."""

from __future__ import annotations

import re
import struct
import time
from dataclasses import replace

import cv2
import numpy as np
import pytest

from phone_agent.device.adb import AdbDevice
from phone_agent.device.adb_server import is_network_serial
from phone_agent.errors import NoDeviceError, TextInputError
from phone_agent.sim.profiles import MB, PROFILES, Profile
from phone_agent.sim.testing import AdbServer, PhoneSession, adb_server, running_phone
from tests.support import FakeClock


def connect(adb: AdbServer, serial: str | None) -> AdbDevice:
    clock = FakeClock()
    return AdbDevice.connect(serial, port=adb.port, clock=clock, sleep=clock.sleep, launch_timeout=1.0)


def centre(session: PhoneSession, text: str) -> tuple[int, int]:
    """The centre of the first node whose text or resource-id matches, from the phone's hierarchy."""
    xml = session.phone.ui.hierarchy_xml()
    for node in re.finditer(r"<node [^>]*>", xml):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', node.group(0)))
        if text in (attrs.get("text"), attrs.get("resource-id")):
            x1, y1, x2, y2 = map(int, re.findall(r"\d+", attrs["bounds"]))
            return (x1 + x2) // 2, (y1 + y2) // 2
    raise AssertionError(f"{text!r} is not on screen")


def test_connect_picks_the_only_device_and_reports_a_missing_one(adb: AdbServer, phone: PhoneSession) -> None:
    assert connect(adb, None).serial == phone.phone.serial
    with pytest.raises(NoDeviceError, match=re.escape(phone.phone.serial)):
        connect(adb, "emulator-9999")


def test_several_devices_need_a_serial(adb: AdbServer, phone: PhoneSession) -> None:
    with running_phone(adb) as second:
        with pytest.raises(NoDeviceError, match="--device"):
            connect(adb, None)
        assert connect(adb, second.phone.serial).serial == second.phone.serial


def test_screenshot_is_the_phones_png_byte_for_byte(adb: AdbServer, phone: PhoneSession) -> None:
    shot = connect(adb, phone.phone.serial).screenshot()
    assert shot.png == phone.phone.last_screencap
    assert (shot.width, shot.height) == (1080, 2400) and not shot.secure
    assert struct.unpack(">II", shot.png[16:24]) == (1080, 2400)


def test_black_and_failed_captures_are_flagged_secure(adb: AdbServer, phone: PhoneSession) -> None:
    device = connect(adb, phone.phone.serial)
    phone.phone.secure_screen = True
    assert device.screenshot().secure
    phone.phone.secure_screen = False
    phone.phone.screencap_fails = True
    failed = device.screenshot()
    assert failed.secure and (failed.width, failed.height) == (1080, 2400)
    assert failed.png.startswith(b"\x89PNG")


def test_launch_brings_the_app_to_front_and_reports_failure(adb: AdbServer, phone: PhoneSession) -> None:
    device = connect(adb, phone.phone.serial)
    assert device.current_app() == "com.android.launcher3"
    assert {"com.ebay.mobile", "com.android.settings"} <= device.installed_packages()
    assert device.launch("com.ebay.mobile") is True
    assert device.current_app() == "com.ebay.mobile"
    assert device.launch("com.android.settings", "com.android.settings.Settings") is True
    assert phone.phone.state()["foreground"]["package"] == "com.android.settings"
    assert device.launch("com.example.absent") is False


def test_shop_search_with_unicode_text_through_adb_keyboard(adb: AdbServer, phone: PhoneSession) -> None:
    with connect(adb, phone.phone.serial) as device:
        device.launch("com.ebay.mobile")
        device.tap(*centre(phone, "com.ebay.mobile:id/search_src_text"))
        device.type_text('earbuds "pro" 耳机 🎧')
        assert phone.phone.state()["text_fields"]["com.ebay.mobile:id/search_src_text"] == 'earbuds "pro" 耳机 🎧'
        assert phone.phone.state()["ime"]["current"] == "com.android.adbkeyboard/.AdbIME"
        device.type_text("earbuds")  # Type replaces the field's content
        device.tap(*centre(phone, "com.ebay.mobile:id/search_button"))
        assert phone.phone.state()["shop"]["query"] == "earbuds"
    assert phone.phone.state()["ime"]["current"].startswith("com.google.android.inputmethod.latin")


def test_without_adb_keyboard_ascii_still_types_and_unicode_says_how_to_fix(adb: AdbServer) -> None:
    with running_phone(adb, adb_keyboard=False) as session:
        device = connect(adb, session.phone.serial)
        device.launch("com.ebay.mobile")
        device.tap(*centre(session, "com.ebay.mobile:id/search_src_text"))
        device.type_text("usb c & 'cable'")
        assert session.phone.state()["text_fields"]["com.ebay.mobile:id/search_src_text"] == "usb c & 'cable'"
        with pytest.raises(TextInputError, match="ADB Keyboard"):
            device.type_text("耳机")


def test_gestures_scroll_press_and_navigate(adb: AdbServer, phone: PhoneSession) -> None:
    device = connect(adb, phone.phone.serial)
    device.launch("com.ebay.mobile")
    device.tap(*centre(phone, "com.ebay.mobile:id/search_src_text"))
    device.type_text("earbuds")
    device.tap(*centre(phone, "com.ebay.mobile:id/search_button"))
    before = phone.phone.state()["screen_texts"]
    device.swipe(540, 1800, 540, 700, 600)
    assert phone.phone.state()["screen_texts"] != before
    device.long_press(*centre(phone, "com.ebay.mobile:id/item_title"), 800)
    assert "Add to watchlist" in phone.phone.state()["screen_texts"]
    device.back()  # closes the menu
    device.tap(*centre(phone, "com.ebay.mobile:id/item_title"))
    device.double_tap(*centre(phone, "com.ebay.mobile:id/item_image"))
    assert phone.phone.state()["shop"]["watchlist"]
    device.home()
    assert device.current_app() == "com.android.launcher3"


def test_shell_v2_gives_real_exit_codes(adb: AdbServer, phone: PhoneSession) -> None:
    device = connect(adb, phone.phone.serial)
    assert device.run_shell("exit 3").exit_code == 3
    result = device.run_shell("echo out; nosuchcommand")
    assert "out" in result.output and "not found" in result.output and result.exit_code == 127
    assert device.getprop("ro.build.version.sdk").isdigit()
    assert device.screen_size() == (1080, 2400)


@pytest.mark.parametrize(("profile", "command"), [
    # USB 2: 10 MB of raw pixels take 0.3 s on the cable, deflating them on the phone less.
    (PROFILES["mid-range"], "(screencap | gzip -1) 2>/dev/null"),
    (replace(PROFILES["mid-range"], deflate_bytes_per_s=20 * MB), "screencap 2>/dev/null"),  # a slow phone CPU
])
def test_a_phone_slow_at_png_is_captured_raw_and_shows_the_same_screen(
    adb: AdbServer, profile: Profile, command: str
) -> None:
    with running_phone(adb, profile=profile) as session:
        device = AdbDevice.connect(session.phone.serial, port=adb.port)
        first = device.screenshot()  # times one capture each way
        commands = len(session.phone.state()["commands"])
        second = device.screenshot()
        captured = [c for c in session.phone.state()["commands"][commands:] if "screencap" in c]
        assert device.current_app() == "com.android.launcher3"  # asked while capturing
    assert captured == [command]
    assert second.png != first.png and second.same(first) and not second.secure
    png = cv2.imdecode(np.frombuffer(first.png, np.uint8), cv2.IMREAD_COLOR)
    assert np.array_equal(second.pixels(), png)
    assert np.array_equal(cv2.imdecode(np.frombuffer(second.png, np.uint8), cv2.IMREAD_COLOR), png)


def test_a_raw_capture_that_fails_is_retried_as_png_which_says_why(adb: AdbServer) -> None:
    with running_phone(adb, profile="flagship") as session:
        device = AdbDevice.connect(session.phone.serial, port=adb.port)
        device.screenshot()
        session.phone.screencap_fails = True
        failed = device.screenshot()
    assert failed.secure and "failed to take screenshot" in (failed.failure or "")


def test_a_held_capture_tells_a_still_screen_from_a_moving_one_with_one_frame_on_the_cable(adb: AdbServer) -> None:
    with running_phone(adb) as session:
        device = AdbDevice.connect(session.phone.serial, port=adb.port, raw_capture=True)
        still, held = device.screenshot_held(0.05)
        served = [frame["md5"] for frame in session.phone.frames_served]
        session.phone.ui.set_animation(True)
        moving, moving_held = device.screenshot_held(0.2)
        commands = session.phone.state()["commands"]
    assert held and served == [still.digest, still.digest]  # the frame, then the phone's digest of a later one
    assert not moving_held and moving.digest is not None
    assert commands.count("screencap 2>/dev/null") == 2 and commands.count("(screencap | md5sum) 2>/dev/null") == 2


def test_the_hold_of_a_held_capture_counts_from_the_phones_capture_not_from_a_thread_starting(adb: AdbServer) -> None:
    with running_phone(adb) as session:
        captures_begun: list[int] = []

        def sleep(seconds: float) -> None:  # where the hold starts: the frame's capture must be under way by then
            captures_begun.append(session.phone.state()["commands"].count("screencap 2>/dev/null"))
            time.sleep(seconds)

        device = AdbDevice.connect(session.phone.serial, port=adb.port, raw_capture=True, sleep=sleep)
        for _ in range(5):
            device.screenshot_held(0.01)
    assert captures_begun == [1, 2, 3, 4, 5]


def test_a_phone_captured_as_png_cannot_tell_held_and_is_not_asked(adb: AdbServer, phone: PhoneSession) -> None:
    device = AdbDevice.connect(phone.phone.serial, port=adb.port, raw_capture=False)
    shot, held = device.screenshot_held(0.05)
    assert not held and shot.digest is None and shot.png == phone.phone.last_screencap
    assert not any("md5sum" in command for command in phone.phone.state()["commands"])


def test_the_keyboard_comes_back_after_every_adb_kill_server(monkeypatch: pytest.MonkeyPatch) -> None:
    with adb_server() as server, running_phone(server) as session:
        for name, value in server.env.items():  # the server restarted here keeps to the test's private home
            monkeypatch.setenv(name, value)
        original = session.phone.state()["ime"]["current"]
        with connect(server, session.phone.serial) as device:
            device.launch("com.ebay.mobile")
            device.tap(*centre(session, "com.ebay.mobile:id/search_src_text"))
            for _ in range(2):  # a long suite can lose its server more than once
                device.type_text("earbuds 耳机")
                assert session.phone.state()["ime"]["current"] == "com.android.adbkeyboard/.AdbIME"
                assert server.run("kill-server").returncode == 0
                device.release_input()
                assert session.phone.state()["ime"]["current"] == original


@pytest.mark.parametrize(
    ("serial", "network"),
    [
        ("192.168.1.20:5555", True),
        ("adb-R5CT1234ABC-Xy1zAb._adb-tls-connect._tcp", True),
        ("adb-R5CT1234ABC-Xy1zAb._adb-tls-connect._tcp.", True),
        ("adb-R5CT1234ABC-Xy1zAb._adb._tcp", True),
        ("emulator-5554", False),
        ("R5CT1234ABC", False),
    ],
)
def test_network_serials_are_told_from_usb_ones(serial: str, network: bool) -> None:
    assert is_network_serial(serial) is network


def test_linker_warnings_on_stderr_break_neither_the_deflated_capture_nor_the_phones_digest(adb: AdbServer) -> None:
    with running_phone(adb, profile="mid-range") as session:
        session.phone.linker_warnings = True  # an old phone: every program it starts warns on stderr
        device = AdbDevice.connect(session.phone.serial, port=adb.port)
        device.screenshot()  # times one capture each way
        commands = len(session.phone.state()["commands"])
        shot, held = device.screenshot_held(0.05)
        captured = [c for c in session.phone.state()["commands"][commands:] if "screencap" in c]
    assert held and shot.digest is not None and not shot.secure
    assert captured == ["(screencap | gzip -1) 2>/dev/null", "(screencap | md5sum) 2>/dev/null"]


def screencaps(session: PhoneSession, since: int) -> list[str]:
    """The screencap commands the phone ran since the ``since``-th command."""
    return [command for command in list(session.phone.state()["commands"])[since:] if "screencap" in command]


def test_the_way_moves_off_gzip_when_a_photo_screen_makes_it_slower_than_raw(adb: AdbServer) -> None:
    deflated, raw = "(screencap | gzip -1) 2>/dev/null", "screencap 2>/dev/null"
    with running_phone(adb, profile="mid-range") as session:
        device = AdbDevice.connect(session.phone.serial, port=adb.port)
        device.screenshot()  # times each way on the flat home screen: gzip wins
        start = len(session.phone.state()["commands"])
        for _ in range(5):
            device.screenshot()
        flat = screencaps(session, start)
        device.launch("com.google.android.apps.photos")  # a camera photo deflates to ~80 %
        photo = []
        for _ in range(6):
            before = len(session.phone.state()["commands"])
            device.screenshot()
            photo.append(screencaps(session, before))
    assert flat == [deflated] * 5  # a steady way is not timed again
    timing = photo.index(["screencap -p", raw, deflated])  # once three of the last five captures were slow
    assert 3 <= timing < 5 and photo[:timing] == [[deflated]] * timing
    assert photo[timing + 1:] == [[raw]] * (len(photo) - timing - 1)


def test_a_way_timed_on_a_black_screen_is_timed_again_once_the_screen_shows_something(
    adb: AdbServer, phone: PhoneSession
) -> None:
    device = AdbDevice.connect(phone.phone.serial, port=adb.port)
    phone.phone.secure_screen = True  # locked, or a FLAG_SECURE window: every way's capture is black
    device.screenshot()
    device.screenshot()  # still black: its time is not what real screens cost
    start = len(phone.phone.state()["commands"])
    phone.phone.secure_screen = False
    device.screenshot()
    assert len(screencaps(phone, start)) == 1  # the screen seen, then timed again
    start = len(phone.phone.state()["commands"])
    device.screenshot()
    device.screenshot()
    timed = ["screencap -p", "screencap 2>/dev/null", "(screencap | gzip -1) 2>/dev/null"]
    assert screencaps(phone, start)[:3] == timed and len(screencaps(phone, start)) == 4  # and kept
