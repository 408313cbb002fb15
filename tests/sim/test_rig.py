"""The virtual phone as a tester's rig, through the real adb binary: logs, network, jobs, screen power, reboot."""

from __future__ import annotations

import re
import time

from phone_agent.sim.testing import AdbServer, PhoneSession
from tests.sim.helpers import adb


def test_adb_logcat_dump_shows_a_launch_and_a_log_line(adb_server: AdbServer, phone: PhoneSession) -> None:
    assert adb(adb_server, phone, "logcat", "-c").returncode == 0
    assert adb(adb_server, phone, "shell", "am start -n com.ebay.mobile/.MainActivity").returncode == 0
    assert adb(adb_server, phone, "shell", "log -p w -t MyTest 'hello from a test'").returncode == 0
    dump = adb(adb_server, phone, "logcat", "-d")
    assert dump.returncode == 0, dump.stderr
    text = dump.stdout.decode()
    assert re.search(r"I ActivityTaskManager: START u0 \{.*cmp=com\.ebay\.mobile/\.MainActivity", text)
    assert "Displayed com.ebay.mobile/.MainActivity" in text
    assert re.search(r"\s4242\s+4242 W MyTest\s*: hello from a test", text)
    only = adb(adb_server, phone, "logcat", "-d", "-v", "brief", "-s", "MyTest").stdout.decode()
    assert only == "W/MyTest  ( 4242): hello from a test\n"


def test_adbutils_logcat_follows_new_lines_until_stopped(phone: PhoneSession, tmp_path) -> None:
    path = tmp_path / "logcat.txt"
    follower = phone.device.logcat(path, clear=True, command="logcat -v time", re_filter="I/TAG")
    phone.device.shell(["log", "-p", "i", "-t", "TAG", "streamed"])
    deadline = time.monotonic() + 5
    while "streamed" not in path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    follower.stop()
    assert re.search(r"I/TAG.*streamed", path.read_text())


def test_wlan_ip_like_an_emulator(phone: PhoneSession) -> None:
    assert phone.device.wlan_ip() == "10.0.2.16"
    phone.device.shell("settings put global airplane_mode_on 1")
    assert "10.0.2.16" not in phone.device.shell("ip addr")


def test_a_pushed_script_runs_a_background_job_until_a_line_arrives(phone: PhoneSession) -> None:
    phone.device.sync.push(b"sleep 30 &\nPID=$!\nread ANY\nkill -INT $PID\nwait\necho stopped $ANY\n",
                           "/sdcard/job.sh")
    stream = phone.device.shell(["sh", "/sdcard/job.sh"], stream=True)
    started = time.monotonic()
    stream.send(b"go\n")
    assert stream.read_until_close().strip() == "stopped go"
    assert time.monotonic() - started < 5


def _png_size(data: bytes) -> tuple[int, int]:
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_adb_reboot_drops_the_phone_and_brings_it_back_with_apps_closed_and_files_kept(
        adb_server: AdbServer, phone: PhoneSession) -> None:
    phone.phone.boot_seconds = 1.0
    adb(adb_server, phone, "shell", "echo kept > /data/local/tmp/f; monkey -p com.ebay.mobile 1")
    assert adb(adb_server, phone, "reboot").returncode == 0
    adb_server.wait_for(phone.phone.serial, "offline", timeout=5)
    back = adb(adb_server, phone, "wait-for-device", "shell", "getprop sys.boot_completed; cat /data/local/tmp/f")
    assert back.stdout.split() == [b"1", b"kept"], back.stderr
    assert phone.phone.ui.foreground()[0] == "com.android.launcher3"
    assert phone.phone.ui.locked
    assert "Displayed com.android.launcher3" in adb(adb_server, phone, "logcat", "-d").stdout.decode()


def test_power_key_turns_the_screen_off_behind_a_lock_screen_that_a_swipe_up_opens(
        adb_server: AdbServer, phone: PhoneSession) -> None:
    device = phone.device
    assert device.is_screen_on()
    device.keyevent("POWER")
    assert not device.is_screen_on()
    assert "mWakefulness=Asleep" in device.shell("dumpsys power")
    raw = adb(adb_server, phone, "exec-out", "screencap").stdout[16:]
    assert raw and not any(raw[0::4] + raw[1::4] + raw[2::4])  # black, whatever the app showed
    device.keyevent("WAKEUP")
    assert "Swipe up to unlock" in device.dump_hierarchy()
    device.click(540, 1200)
    assert "Swipe up to unlock" in device.dump_hierarchy()
    device.swipe(540, 2000, 540, 600, 0.2)
    assert "Swipe up to unlock" not in device.dump_hierarchy()
    assert "isKeyguardShowing=false" in device.shell("dumpsys window")


def test_rotation_and_size_overrides_change_screenshots_and_the_hierarchy(
        adb_server: AdbServer, phone: PhoneSession) -> None:
    device = phone.device
    device.shell("settings put system user_rotation 1")
    assert device.rotation() == 1
    assert device.window_size() == (2400, 1080)
    assert _png_size(adb(adb_server, phone, "exec-out", "screencap", "-p").stdout) == (2400, 1080)
    assert 'rotation="1"' in device.dump_hierarchy()
    device.shell("settings put system user_rotation 0; wm size 720x1600")
    assert _png_size(adb(adb_server, phone, "exec-out", "screencap", "-p").stdout) == (720, 1600)
    assert "][720," in device.dump_hierarchy() and "][1080," not in device.dump_hierarchy()


def test_framebuffer_service_gives_the_screen_pixels(phone: PhoneSession) -> None:
    image = phone.device.framebuffer()
    assert image.size == (1080, 2400)
    assert image.convert("RGB").tobytes() == phone.phone.screen_image().convert("RGB").tobytes()


def test_reverse_tunnels_are_listed_and_removed(phone: PhoneSession) -> None:
    device = phone.device
    device.reverse("tcp:12345", "tcp:4000")
    assert [(item.remote, item.local) for item in device.reverse_list()] == [("tcp:12345", "tcp:4000")]
    device.reverse_remove("tcp:12345")
    assert device.reverse_list() == []


def test_screenrecord_writes_an_mp4_until_killed(phone: PhoneSession, tmp_path) -> None:
    import av

    target = tmp_path / "screen.mp4"
    phone.device.start_recording(str(target))
    phone.device.keyevent("HOME")
    time.sleep(0.3)
    phone.device.stop_recording()
    with av.open(str(target)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 1080, 2400)
        assert sum(1 for _ in container.decode(video=0)) >= 1
