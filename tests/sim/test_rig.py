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
