"""The scrcpy channel against the virtual phone, through the real adb binary, adbutils and the genuine server jar.

These tests need the official scrcpy-server v3.3.4 file on this machine (``phone-agent setup``); without it
they fail and say so, rather than skip.
"""

from __future__ import annotations

import re
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
from phone_agent.errors import ChannelError
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


def test_unicode_text_is_typed_byte_exact_without_adb_keyboard_and_never_reaches_a_shell(
    scrcpy: ScrcpyDevice, quiet_phone: PhoneSession
) -> None:
    open_search(scrcpy, quiet_phone)
    scrcpy.type_text("old text")
    scrcpy.type_text(UNICODE)  # replaces what the field held
    state = quiet_phone.phone.state()
    assert state["text_fields"][SEARCH_FIELD] == UNICODE
    assert not any("rm -rf" in command or "👍" in command for command in state["commands"])


def test_on_android_6_the_text_is_pasted_with_ctrl_v_as_the_server_does_not_paste(
    quiet_phone: PhoneSession, adb: AdbServer, jar: Path
) -> None:
    quiet_phone.phone.system.props.update({"ro.build.version.sdk": "23", "ro.build.version.release": "6.0"})
    with ScrcpyDevice.start(AdbDevice.connect(quiet_phone.phone.serial, port=adb.port), jar) as device:
        open_search(device, quiet_phone)
        device.type_text(UNICODE)
        device.type_text(UNICODE)  # once, not twice: the old text is replaced
    assert quiet_phone.phone.state()["text_fields"][SEARCH_FIELD] == UNICODE


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
    log = [entry for entry in quiet_phone.phone.state()["input_log"] if entry.get("via") == "scrcpy"]
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


@pytest.mark.xfail(strict=True, reason="the virtual phone has no sha256sum yet (reported to the coordinator)")
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
