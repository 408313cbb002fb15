"""Phone profiles: each command costs what it costs on that class of phone, spent for real by the sim."""

from __future__ import annotations

import gzip
import hashlib
import re
import subprocess
import time

import pytest

from phone_agent.sim import VirtualPhone
from phone_agent.sim.profiles import PROFILES, get_profile
from phone_agent.sim.testing import AdbServer, PhoneSession, running_phone
from tests.sim.helpers import adb
from tests.support import invoke

MID = PROFILES["mid-range"]


@pytest.mark.parametrize(("argv", "cost"), [
    (["input", "tap", "5", "5"], (250, 0)),
    (["input", "touchscreen", "swipe", "1", "2", "3", "4", "800"], (250 + 800, 0)),
    (["input", "swipe", "1", "2", "3", "4"], (250 + 300, 0)),
    (["cmd", "input", "keyevent", "4"], (250, 0)),
    (["/system/bin/am", "start", "-n", "a/.B"], (350, 0)),
    (["cmd", "activity", "start"], (350, 0)),
    (["monkey", "-p", "x", "1"], (600, 0)),
    (["uiautomator", "dump"], (0, 1500)),
    (["screencap", "-p"], (0, 700)),
    (["screencap", "/sdcard/s.png"], (0, 700)),
    (["screencap"], (0, 250)),
    (["settings", "get", "global", "x"], (250, 0)),
    (["app_process", "/", "com.genymobile.scrcpy.Server", "3.3.4", "tunnel_forward=true"], (600, 0)),
    (["app_process", "/", "com.genymobile.scrcpy.Server", "3.3.4", "list_apps=true"], (600 + 1500, 0)),
    (["getprop", "ro.x"], (0, 0)),
    (["echo", "hi"], (0, 0)),
])
def test_mid_range_costs_follow_the_issue_figures(argv: list[str], cost: tuple[int, int]) -> None:
    assert MID.cost_ms(argv) == cost


def test_instant_costs_nothing_and_unknown_profiles_are_refused() -> None:
    instant = get_profile("instant")
    assert instant.cost_ms(["input", "swipe", "1", "2", "3", "4", "5000"]) == (0, 0)
    assert instant.link_bytes_per_s == 0
    with pytest.raises(ValueError, match="known: instant, flagship, mid-range, emulator"):
        VirtualPhone(profile="potato")
    result = invoke("sim", "--profile", "potato")
    assert result.returncode != 0 and "--profile must be one of" in result.stdout + result.stderr


def timed(server: AdbServer, session: PhoneSession, *args: str) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    started = time.monotonic()
    result = adb(server, session, *args)
    return time.monotonic() - started, result


@pytest.mark.parametrize("sim_phone", ["mid-range"], indirect=True)
def test_a_mid_range_phone_spends_the_time_through_real_adb(adb_server: AdbServer, phone: PhoneSession) -> None:
    assert phone.phone.state()["profile"] == "mid-range"
    elapsed, result = timed(adb_server, phone, "shell", "input", "tap", "5", "5")
    assert result.returncode == 0 and elapsed >= 0.25
    elapsed, _ = timed(adb_server, phone, "shell", "input", "swipe", "500", "1500", "500", "900", "400")
    assert elapsed >= 0.25 + 0.4  # start-up, then the finger moves for the whole duration
    # A raw frame is 10 MB: 250 ms on the phone, then about 0.3 s on a 35 MB/s USB 2 link.
    elapsed, raw = timed(adb_server, phone, "exec-out", "screencap")
    assert len(raw.stdout) == 16 + 1080 * 2400 * 4
    assert elapsed >= 0.25 + len(raw.stdout) / MID.link_bytes_per_s
    elapsed, _ = timed(adb_server, phone, "exec-out", "screencap", "-p")
    assert elapsed >= 0.7


def test_commands_on_one_phone_pay_in_parallel_as_separate_processes(adb_server: AdbServer) -> None:
    """The cost is spent outside the phone's lock: another shell is not held up by a slow one."""
    with running_phone(adb_server, profile="mid-range") as session:
        slow = subprocess.Popen([adb_server.adb, "-P", str(adb_server.port), "-s", session.phone.serial, "shell",
                                 "uiautomator", "dump", "/sdcard/x.xml"], env=adb_server.env)
        time.sleep(0.2)
        elapsed, result = timed(adb_server, session, "shell", "getprop", "ro.product.model")
        slow.wait(timeout=30)
        assert result.stdout.strip() == b"SimPhone" and elapsed < 1.0


@pytest.mark.parametrize("sim_phone", ["mid-range"], indirect=True)
def test_hashing_a_frame_on_the_phone_costs_the_capture_and_the_hash_and_sends_only_the_digest(
    adb_server: AdbServer, phone: PhoneSession
) -> None:
    frame_bytes = 16 + 1080 * 2400 * 4
    elapsed, result = timed(adb_server, phone, "exec-out", "screencap 2>/dev/null | md5sum")
    digest = result.stdout.decode()
    assert re.fullmatch(r"[0-9a-f]{32}  -\n", digest) and digest[:32] == phone.phone.frames_served[-1]["md5"]
    assert MID.hash_bytes_per_s and elapsed >= 0.25 + frame_bytes / MID.hash_bytes_per_s


@pytest.mark.parametrize("sim_phone", ["mid-range"], indirect=True)
def test_deflating_a_frame_on_the_phone_costs_time_per_byte_and_sends_little(
    adb_server: AdbServer, phone: PhoneSession
) -> None:
    frame_bytes = 16 + 1080 * 2400 * 4
    elapsed, result = timed(adb_server, phone, "exec-out", "screencap 2>/dev/null | gzip -1")
    raw = gzip.decompress(result.stdout)
    assert len(raw) == frame_bytes and hashlib.md5(raw).hexdigest() == phone.phone.frames_served[-1]["md5"]
    assert len(result.stdout) < frame_bytes // 20  # a phone screen is mostly flat colour
    assert MID.deflate_bytes_per_s and elapsed >= 0.25 + frame_bytes / MID.deflate_bytes_per_s
