"""The scrcpy server's side of the virtual phone, driven through the real adb binary and raw sockets."""

from __future__ import annotations

import struct
import subprocess
import time
from pathlib import Path

import pytest

from phone_agent.sim.testing import AdbServer, PhoneSession
from tests.sim.apk_fixture import build_apk
from tests.sim.helpers import adb, centre
from tests.sim.scrcpy_client import CONFIG, JAR, KEY_FRAME, difference, mirror, server_command

SHOP = "com.ebay.mobile"
SEARCH = f"{SHOP}:id/search_src_text"


def wait_until(condition: object, timeout: float = 5) -> None:
    """Poll a zero-argument callable until it is true."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.02)


def test_video_header_first_frame_and_repeats(adb_server: AdbServer, phone: PhoneSession,
                                              scrcpy_server_jar: Path) -> None:
    with mirror(adb_server, phone.phone.serial, scrcpy_server_jar) as session:
        assert session.name == b"SimPhone"
        assert session.codec == 0x68323634
        assert session.size == (464, 1024)  # 1080x2400 fitted into max_size 1024, multiples of 8
        image = session.image_like(phone.phone)
        with phone.phone.lock:
            expected = phone.phone.screen_image().resize(session.size)
        assert difference(image, expected) < 4
        assert session.packets[0][0] == CONFIG and session.packets[1][0] & KEY_FRAME
        # A still screen: MediaCodec repeats the last frame about every 100 ms.
        before = len(session.packets)
        started = time.monotonic()
        while time.monotonic() - started < 0.6:
            session.next_image()
        repeats = session.packets[before:]
        assert 3 <= len(repeats) <= 9
        stamps = [pts for pts, _size in repeats]
        assert stamps == sorted(stamps) and not any(pts & (CONFIG | KEY_FRAME) for pts in stamps)
    assert adb(adb_server, phone, "shell", "ls", JAR).returncode != 0  # cleanup=true unlinks the jar


def test_touch_opens_an_app_and_the_video_shows_it(adb_server: AdbServer, phone: PhoneSession,
                                                   scrcpy_server_jar: Path) -> None:
    xml = phone.device.dump_hierarchy()
    x, y = centre(xml, text="Settings")
    with mirror(adb_server, phone.phone.serial, scrcpy_server_jar) as session:
        session.image_like(phone.phone)
        session.tap_phone(phone.phone, x, y)
        wait_until(lambda: phone.phone.ui.foreground()[0] == "com.android.settings")
        image = session.image_like(phone.phone)
        with phone.phone.lock:
            assert difference(image, phone.phone.screen_image().resize(session.size)) < 4
        # A touch sent for another frame size is stale and ignored, as the real server does.
        session.control.sendall(struct.pack(">BBqiiHHHii", 2, 0, -2, 10, 10, 100, 100, 0xFFFF, 1, 1))
        session.control.sendall(struct.pack(">BBqiiHHHii", 2, 1, -2, 10, 10, 100, 100, 0, 1, 1))
        session.key(4)  # BACK
        wait_until(lambda: phone.phone.ui.foreground()[0] == "com.android.launcher3")
    taps = [entry for entry in phone.phone.input_log if entry.get("via") == "scrcpy" and entry["kind"] == "tap"]
    assert len(taps) == 1


def test_start_app_paste_with_ack_select_all_and_get_clipboard(adb_server: AdbServer, phone: PhoneSession,
                                                                scrcpy_server_jar: Path) -> None:
    with mirror(adb_server, phone.phone.serial, scrcpy_server_jar) as session:
        name = b"+?eb"  # force-stop, then the app whose label starts with "eb"
        session.control.sendall(bytes([16, len(name)]) + name)
        wait_until(lambda: phone.phone.ui.foreground()[0] == SHOP)
        x, y = centre(phone.device.dump_hierarchy(), resource_id=SEARCH)
        session.tap_phone(phone.phone, x, y)
        wait_until(lambda: phone.phone.state()["focused_field"] == SEARCH)
        text = "Grüße 😀 ok"  # not typable by `input text`: the clipboard carries any text
        data = text.encode()
        session.control.sendall(struct.pack(">BQBI", 9, 7, 1, len(data)) + data)
        assert session.device_message() == (1, struct.pack(">Q", 7))
        assert phone.phone.state()["text_fields"][SEARCH] == text
        session.key(29, meta=0x1000)  # Ctrl+A
        session.key(67)  # DEL removes the selection
        wait_until(lambda: phone.phone.state()["text_fields"][SEARCH] == "")
        session.control.sendall(bytes([8, 0]))  # GET_CLIPBOARD, no copy key
        assert session.device_message() == (0, data)
        session.control.sendall(struct.pack(">BQBI", 9, 0, 0, 2) + b"xy")  # sequence 0: no ACK
        session.control.sendall(bytes([8, 0]))
        assert session.device_message() == (0, b"xy")


def test_long_press_through_touch_timing_and_reset_video(adb_server: AdbServer, phone: PhoneSession,
                                                         scrcpy_server_jar: Path) -> None:
    phone.device.shell("monkey -p com.android.deskclock 1")
    x, y = centre(phone.device.dump_hierarchy(), text="06:30")
    with mirror(adb_server, phone.phone.serial, scrcpy_server_jar) as session:
        session.image_like(phone.phone)
        session.tap_phone(phone.phone, x, y, hold_s=0.65)
        wait_until(lambda: (phone.phone.state()["popup"] or {}).get("menu") is True)
        before = len(session.packets)
        session.control.sendall(bytes([17]))  # RESET_VIDEO
        deadline = time.monotonic() + 5
        while not any(pts == CONFIG for pts, _ in session.packets[before:]):
            assert time.monotonic() < deadline
            session.next_image()
        after_config = session.packets[[pts for pts, _ in session.packets].index(CONFIG, before) + 1]
        assert after_config[0] & KEY_FRAME


def test_server_stops_when_its_shell_closes(adb_server: AdbServer, phone: PhoneSession,
                                            scrcpy_server_jar: Path) -> None:
    with mirror(adb_server, phone.phone.serial, scrcpy_server_jar) as session:
        session.image_like(phone.phone)
        session.process.kill()
        session.process.wait()
        with pytest.raises((EOFError, ConnectionError, TimeoutError)):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                session.next_image()


def test_a_jar_that_is_not_a_genuine_server_aborts_like_a_phone(adb_server: AdbServer, phone: PhoneSession,
                                                                  tmp_path: Path) -> None:
    fake = tmp_path / "scrcpy-server"
    fake.write_bytes(b"PK\x03\x04 not the real server")
    assert adb(adb_server, phone, "push", str(fake), JAR).returncode == 0
    result = adb(adb_server, phone, "shell", server_command("3.3.4", "tunnel_forward=true"))
    assert result.returncode == 134
    assert b"Aborted" in result.stdout + result.stderr


def test_a_version_other_than_the_jars_is_refused(adb_server: AdbServer, phone: PhoneSession,
                                                  scrcpy_server_jar: Path) -> None:
    assert adb(adb_server, phone, "push", str(scrcpy_server_jar), JAR).returncode == 0
    result = adb(adb_server, phone, "shell", server_command("3.3.3", "tunnel_forward=true"))
    assert result.returncode == 1
    assert b"The server version (3.3.4) does not match the client (3.3.3)" in result.stderr
    bad_pair = adb(adb_server, phone, "shell", server_command("3.3.4", "audio"))
    assert bad_pair.returncode == 1 and b'Invalid key=value pair: "audio"' in bad_pair.stderr


def test_unknown_options_only_warn_and_listing_apps_exits(adb_server: AdbServer, phone: PhoneSession,
                                                          scrcpy_server_jar: Path, tmp_path: Path) -> None:
    for package, label in (("org.example.long", "An Application Label Over Thirty"), ("org.example.smile", "Smile 😀")):
        (tmp_path / "app.apk").write_bytes(build_apk(package, label))
        assert adb(adb_server, phone, "install", str(tmp_path / "app.apk")).returncode == 0
    assert adb(adb_server, phone, "push", str(scrcpy_server_jar), JAR).returncode == 0
    result = subprocess.run([adb_server.adb, "-P", str(adb_server.port), "-s", phone.phone.serial, "shell",
                             server_command("3.3.4", "bogus_key=1", "list_apps=true", "log_level=info")],
                            env=adb_server.env, capture_output=True, timeout=30, check=False)
    assert result.returncode == 0
    assert b"[server] WARN: Unknown server option: bogus_key" in result.stderr
    # As LogUtils.buildAppListMessage prints it: system apps (*) first, labels padded to 30 UTF-16 units.
    assert result.stdout.decode().splitlines()[1:] == [
        "[server] INFO: Processing Android apps... (this may take some time)",
        "[server] INFO: List of apps:",
        " * Clock                          com.android.deskclock",
        " * Contacts                       com.android.contacts",
        " * Messages                       com.android.messaging",
        " * Photos                         com.google.android.apps.photos",
        " * Settings                       com.android.settings",
        " - An Application Label Over Thirty",
        " " * 34 + "org.example.long",
        " - Smile 😀                       org.example.smile",
        " - eBay                           com.ebay.mobile",
    ]


def test_a_codec_the_phone_cannot_encode_ends_the_server(adb_server: AdbServer, phone: PhoneSession,
                                                        scrcpy_server_jar: Path) -> None:
    # The video stream closes after the device name: no codec id (0 and 1 are for audio streams only).
    with pytest.raises((EOFError, ConnectionError)), mirror(adb_server, phone.phone.serial, scrcpy_server_jar,
                                                           "video_codec=h265"):
        pass
