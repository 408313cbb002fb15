"""The scrcpy channel against the virtual phone, through the real adb binary, adbutils and the genuine server jar.

These tests need the official scrcpy-server v3.3.4 file on this machine (``phone-agent setup``); without it
they fail and say so, rather than skip.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from phone_agent.device.adb import AdbDevice
from phone_agent.device.channel import open_channel
from phone_agent.device.scrcpy.device import ScrcpyDevice
from phone_agent.device.scrcpy.server import locate
from phone_agent.device.settle import SettleMode, Settler
from phone_agent.errors import ChannelError, TextInputError
from phone_agent.sim.testing import AdbServer, PhoneSession, running_phone

SEARCH_FIELD = "com.ebay.mobile:id/search_src_text"
UNICODE = '耳机 «quotes» "double" \'single\' $(rm -rf /) `id` ; && 👍🏽 e\u0301'


@pytest.fixture(scope="session")
def jar() -> Path:
    """The genuine server file; a missing one fails the test with what to do."""
    try:
        return locate(None)
    except ChannelError as exc:
        pytest.fail(f"These tests need the genuine scrcpy server: run `phone-agent setup` first. ({exc})")


@pytest.fixture
def quiet_phone(adb: AdbServer) -> Iterator[PhoneSession]:
    """A virtual phone without ADB Keyboard: text can only arrive through scrcpy's clipboard paste."""
    with running_phone(adb, adb_keyboard=False) as session:
        yield session


@pytest.fixture
def scrcpy(quiet_phone: PhoneSession, adb: AdbServer, jar: Path) -> Iterator[ScrcpyDevice]:
    with ScrcpyDevice.start(AdbDevice.connect(quiet_phone.phone.serial, port=adb.port), jar) as device:
        yield device


def settle(device: ScrcpyDevice) -> None:
    Settler(SettleMode("auto"), time.monotonic, time.sleep).wait(device, None)


def open_search(device: ScrcpyDevice, phone: PhoneSession) -> None:
    assert device.launch("com.ebay.mobile")
    settle(device)
    node = re.search(rf'resource-id="{SEARCH_FIELD}"[^>]*bounds="\[(\d+),(\d+)\]\[(\d+),(\d+)\]"',
                     phone.phone.ui.hierarchy_xml())
    assert node is not None
    x1, y1, x2, y2 = map(int, node.groups())
    device.tap((x1 + x2) // 2, (y1 + y2) // 2)
    settle(device)


def field_shows(phone: PhoneSession, text: str) -> bool:
    """Whether the search field shows ``text`` within a second (the PASTE key is handled after Type returns)."""
    deadline = time.monotonic() + 1
    while phone.phone.state()["text_fields"].get(SEARCH_FIELD) != text and time.monotonic() < deadline:
        time.sleep(0.02)
    return phone.phone.state()["text_fields"].get(SEARCH_FIELD) == text


def test_unicode_text_is_typed_byte_exact_without_adb_keyboard_and_never_reaches_a_shell(
    scrcpy: ScrcpyDevice, quiet_phone: PhoneSession
) -> None:
    open_search(scrcpy, quiet_phone)
    scrcpy.type_text("old text")
    scrcpy.type_text(UNICODE)  # replaces what the field held
    assert field_shows(quiet_phone, UNICODE)
    state = quiet_phone.phone.state()
    assert not any("rm -rf" in command or "👍" in command for command in state["commands"])


def test_on_android_6_the_text_is_pasted_with_ctrl_v_as_the_server_does_not_paste(
    quiet_phone: PhoneSession, adb: AdbServer, jar: Path
) -> None:
    quiet_phone.phone.system.props.update({"ro.build.version.sdk": "23", "ro.build.version.release": "6.0"})
    with ScrcpyDevice.start(AdbDevice.connect(quiet_phone.phone.serial, port=adb.port), jar) as device:
        open_search(device, quiet_phone)
        device.type_text(UNICODE)
        device.type_text(UNICODE)  # once, not twice: the old text is replaced
    assert field_shows(quiet_phone, UNICODE)


def test_launch_uses_start_app_and_waits_for_the_app_in_front(scrcpy: ScrcpyDevice, quiet_phone: PhoneSession) -> None:
    assert scrcpy.launch("com.android.settings")
    assert quiet_phone.phone.state()["foreground"]["package"] == "com.android.settings"
    assert not any(command.startswith(("monkey", "am start")) for command in quiet_phone.phone.state()["commands"])
    settle(scrcpy)
    assert scrcpy.current_app() == "com.android.settings"


def test_keys_and_touches_reach_the_phone(scrcpy: ScrcpyDevice, quiet_phone: PhoneSession) -> None:
    assert scrcpy.launch("com.android.settings")
    scrcpy.home()
    settle(scrcpy)
    assert scrcpy.current_app() == quiet_phone.phone.state()["foreground"]["package"] != "com.android.settings"
    scrcpy.swipe(540, 1800, 540, 600, 200)
    scrcpy.long_press(540, 1200, 300)
    time.sleep(0.2)
    log = [entry for entry in quiet_phone.phone.state()["input_log"]
           if entry.get("via") == "scrcpy" and entry.get("code") != 224]  # every action starts with WAKEUP
    assert [entry["kind"] for entry in log] == ["start", "key", "swipe", "tap"]
    assert (log[2]["y"], log[2]["y2"]) == (1800, 600) and log[2]["duration_ms"] >= 190
    assert log[3]["duration_ms"] >= 290  # a long press holds the finger down for real


def test_the_frame_matches_a_lossless_capture(scrcpy: ScrcpyDevice, quiet_phone: PhoneSession) -> None:
    open_search(scrcpy, quiet_phone)
    time.sleep(0.5)  # a few repeated frames refine a still screen
    shot = scrcpy.screenshot()
    streamed = cv2.imdecode(np.frombuffer(shot.png, np.uint8), cv2.IMREAD_COLOR)
    lossless = cv2.imdecode(np.frombuffer(quiet_phone.phone.screencap(True), np.uint8), cv2.IMREAD_COLOR)
    assert streamed.shape == lossless.shape
    assert cv2.PSNR(streamed, lossless) > 30


def test_a_settled_screen_needs_no_capture_round_trip(scrcpy: ScrcpyDevice, quiet_phone: PhoneSession) -> None:
    scrcpy.launch("com.android.settings")
    settle(scrcpy)
    scrcpy.back()
    settle(scrcpy)
    assert not any(command.startswith("screencap") for command in quiet_phone.phone.state()["commands"])


def test_closing_stops_the_server_and_every_thread(quiet_phone: PhoneSession, adb: AdbServer, jar: Path) -> None:
    before = {thread.name for thread in threading.enumerate()}
    device = ScrcpyDevice.start(AdbDevice.connect(quiet_phone.phone.serial, port=adb.port), jar)
    device.screenshot()
    device.close()
    time.sleep(0.2)
    left = {thread.name for thread in threading.enumerate() if thread.is_alive()} - before
    assert not [name for name in left if name.startswith("scrcpy")]
    with pytest.raises(Exception):  # noqa: B017 - whatever the socket says, nothing listens any more
        AdbDevice.connect(quiet_phone.phone.serial, port=adb.port).open_stream("localabstract:scrcpy")


def test_the_jar_is_pushed_only_when_the_phone_has_another_one(
    quiet_phone: PhoneSession, adb: AdbServer, jar: Path
) -> None:
    phone = AdbDevice.connect(quiet_phone.phone.serial, port=adb.port)
    ScrcpyDevice.start(phone, jar).close()
    ScrcpyDevice.start(phone, jar).close()
    pushes = [entry for entry in quiet_phone.phone.state()["transfers"] if entry["op"] == "push"]
    assert len(pushes) == 1


def test_auto_falls_back_to_adb_with_the_reason(quiet_phone: PhoneSession, adb: AdbServer, tmp_path: Path) -> None:
    fake = tmp_path / "scrcpy-server"
    fake.write_bytes(b"not the server")
    phone = AdbDevice.connect(quiet_phone.phone.serial, port=adb.port)
    with open_channel(phone, "auto", fake) as channel:
        assert channel.name == "adb" and channel.fallback and channel.device is phone
        assert "not the official scrcpy-server v3.3.4" in channel.reason
    with pytest.raises(ChannelError, match="not the official"), open_channel(phone, "scrcpy", fake):
        pass


def test_old_android_falls_back_to_adb(quiet_phone: PhoneSession, adb: AdbServer, jar: Path) -> None:
    quiet_phone.phone.system.props.update({"ro.build.version.sdk": "19", "ro.build.version.release": "4.4"})
    with open_channel(AdbDevice.connect(quiet_phone.phone.serial, port=adb.port), "auto", jar) as channel:
        assert channel.name == "adb"
        assert "Android 4.4 (SDK 19) is older than 5.0" in channel.reason


def test_a_clipboard_the_phone_refuses_is_noticed_and_the_text_goes_over_adb(
    scrcpy: ScrcpyDevice, quiet_phone: PhoneSession
) -> None:
    quiet_phone.phone.clipboard = "copied long ago"
    quiet_phone.phone.set_faults(clipboard_set_fails=True)  # acknowledged, yet the clipboard keeps its text
    open_search(scrcpy, quiet_phone)
    scrcpy.type_text("earbuds pro")
    assert field_shows(quiet_phone, "earbuds pro")
    with pytest.raises(TextInputError, match="ADB Keyboard"):  # adb's own limit without ADB Keyboard
        scrcpy.type_text("耳机")
    assert "copied long ago" not in quiet_phone.phone.state()["text_fields"][SEARCH_FIELD]


def test_the_control_socket_sends_each_message_at_once(scrcpy: ScrcpyDevice) -> None:
    control = scrcpy._connection._control
    assert control is not None and control.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_a_server_slow_to_accept_is_waited_for_up_to_ten_seconds(
    quiet_phone: PhoneSession, adb: AdbServer, jar: Path
) -> None:
    quiet_phone.phone.set_faults(scrcpy_accept_delay_ms=5500)
    with open_channel(AdbDevice.connect(quiet_phone.phone.serial, port=adb.port), "auto", jar) as channel:
        assert channel.name == "scrcpy"


def test_a_server_that_never_accepts_falls_back_to_adb_in_one_line(
    quiet_phone: PhoneSession, adb: AdbServer, jar: Path
) -> None:
    quiet_phone.phone.set_faults(scrcpy_accept_delay_ms=60_000)
    phone = AdbDevice.connect(quiet_phone.phone.serial, port=adb.port)
    with open_channel(phone, "auto", jar, timeout=1.5) as channel:
        assert channel.name == "adb" and channel.fallback
        assert "did not answer within 1.5 s" in channel.reason and "\n" not in channel.reason


def test_an_action_after_the_screen_went_off_wakes_it_and_lands(
    scrcpy: ScrcpyDevice, quiet_phone: PhoneSession
) -> None:
    settle(scrcpy)
    x, y = centre(quiet_phone, text="Settings")
    quiet_phone.device.shell("input keyevent 223")  # the screen timed out
    with quiet_phone.phone.lock:
        quiet_phone.phone.ui.power.locked = False  # a phone without a screen lock
    scrcpy.tap(x, y)
    time.sleep(0.3)
    assert quiet_phone.phone.state()["foreground"]["package"] == "com.android.settings"


@pytest.mark.parametrize("package", ["com.example.absent", "com.android.shell"])
def test_a_launch_the_server_cannot_do_gives_up_at_once(
    quiet_phone: PhoneSession, adb: AdbServer, jar: Path, package: str
) -> None:
    phone = AdbDevice.connect(quiet_phone.phone.serial, port=adb.port, launch_timeout=60)
    with ScrcpyDevice.start(phone, jar) as device:
        for _ in range(10):  # the phone asked for its front app while its server prints the failure: no deadlock
            started = time.monotonic()
            assert not device.launch(package)
            assert time.monotonic() - started < 10  # not the minute a slow app may take


def centre(session: PhoneSession, **attributes: str) -> tuple[int, int]:
    """The centre of the first node on the phone's screen whose attributes match."""
    pattern = "".join(rf'(?=[^>]*\b{key}="{re.escape(value)}")' for key, value in attributes.items())
    node = re.search(rf'<node{pattern}[^>]*bounds="\[(\d+),(\d+)\]\[(\d+),(\d+)\]"', session.phone.ui.hierarchy_xml())
    assert node is not None, f"no node with {attributes}"
    x1, y1, x2, y2 = map(int, node.groups())
    return (x1 + x2) // 2, (y1 + y2) // 2


def test_the_ui_dump_is_in_the_videos_pixels_which_taps_use(adb: AdbServer, jar: Path) -> None:
    # A display that is no multiple of 8: the video is 1080x2336.
    with running_phone(adb, width=1080, height=2340, adb_keyboard=False) as session, ScrcpyDevice.start(
        AdbDevice.connect(session.phone.serial, port=adb.port), jar
    ) as device:
        x, y = centre(session, text="Settings")
        node = re.search(r'text="Settings"[^>]*bounds="\[(\d+),(\d+)\]\[(\d+),(\d+)\]"', device.ui_hierarchy())
        assert node is not None
        x1, y1, x2, y2 = map(int, node.groups())
        assert ((x1 + x2) // 2, (y1 + y2) // 2) == (x, y * 2336 // 2340)
        device.tap((x1 + x2) // 2, (y1 + y2) // 2)
        time.sleep(0.3)
        assert session.phone.state()["foreground"]["package"] == "com.android.settings"


def test_the_server_file_is_found_once_for_the_app_list_and_the_channel(
    quiet_phone: PhoneSession, adb: AdbServer, jar: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import phone_agent.device.channel as channel_module

    found: list[Path] = []

    def counted(server: Path | None) -> Path:
        found.append(locate(server))  # the real search, counted
        return found[-1]

    monkeypatch.setattr(channel_module, "locate", counted)
    phone = AdbDevice.connect(quiet_phone.phone.serial, port=adb.port)
    with open_channel(phone, "scrcpy", jar) as channel:
        assert channel.name == "scrcpy" and phone.apps.server == jar
    assert found == [jar]


def test_the_first_screen_after_start_is_the_one_the_encoder_refined(scrcpy: ScrcpyDevice) -> None:
    first = scrcpy.screenshot()
    later = []
    for _ in range(3):
        time.sleep(0.15)  # the server repeats a still screen every 100 ms
        later.append(scrcpy.screenshot())
    assert all(first.same(frame) for frame in later)  # a still screen does not look changed at the first action
