"""The virtual phone through Google's adb binary (`adb -P PORT -s SERIAL …`), as a user's shell drives it."""

from __future__ import annotations

import os
from pathlib import Path

from phone_agent.sim.testing import AdbServer, PhoneSession, running_phone
from tests.sim.apk_fixture import build_apk
from tests.sim.helpers import adb


def test_devices_lists_the_banner_props(adb_server: AdbServer, phone: PhoneSession) -> None:
    listing = adb_server.run("devices", "-l").stdout.decode()
    line = next(line for line in listing.splitlines() if line.startswith(phone.phone.serial))
    assert "device product:sim model:SimPhone device:sim" in line
    assert adb(adb_server, phone, "get-state").stdout == b"device\n"


def test_exec_out_screencap_is_byte_exact(adb_server: AdbServer, phone: PhoneSession) -> None:
    result = adb(adb_server, phone, "exec-out", "screencap", "-p")
    assert result.returncode == 0
    assert result.stdout[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.stdout == phone.phone.last_screencap
    assert result.stdout == phone.phone.screencap()


def test_shell_v2_exit_codes_and_separate_streams(adb_server: AdbServer, phone: PhoneSession) -> None:
    assert adb(adb_server, phone, "shell", "exit 3").returncode == 3
    result = adb(adb_server, phone, "shell", "echo out; echo err >&2; false")
    assert (result.returncode, result.stdout, result.stderr) == (1, b"out\n", b"err\n")
    result = adb(adb_server, phone, "shell", "echo a; false || echo b")
    assert (result.returncode, result.stdout) == (0, b"a\nb\n")


def test_shell_arguments_are_quoted_like_sh(adb_server: AdbServer, phone: PhoneSession) -> None:
    result = adb(adb_server, phone, "shell", "echo", "'a  b'", '"$HOME"')
    assert result.stdout == b"a  b /\n"


def test_unknown_command_is_127_and_logged(adb_server: AdbServer, phone: PhoneSession) -> None:
    result = adb(adb_server, phone, "shell", "definitely-not-android")
    assert result.returncode == 127
    assert result.stderr == b"/system/bin/sh: definitely-not-android: not found\n"
    assert phone.phone.state()["unknown_commands"] == ["definitely-not-android"]


def test_shell_stdin_reaches_commands(adb_server: AdbServer, phone: PhoneSession) -> None:
    result = adb(adb_server, phone, "shell", "cat > /sdcard/in.txt; cat /sdcard/in.txt | wc -l", input=b"1\n2\n3\n")
    assert result.stdout == b"3\n"
    assert phone.phone.system.fs.read("/sdcard/in.txt") == b"1\n2\n3\n"


def test_push_pull_round_trip_of_a_large_file(adb_server: AdbServer, phone: PhoneSession, tmp_path: Path) -> None:
    payload = os.urandom(3 * 1024 * 1024 + 12345)  # several 1 MiB packets and 64 KiB sync chunks
    source = tmp_path / "big.bin"
    source.write_bytes(payload)
    pushed = adb(adb_server, phone, "push", str(source), "/sdcard/Download/")
    assert pushed.returncode == 0, pushed.stderr
    assert phone.phone.system.fs.read("/sdcard/Download/big.bin") == payload
    target = tmp_path / "back.bin"
    pulled = adb(adb_server, phone, "pull", "/sdcard/Download/big.bin", str(target))
    assert pulled.returncode == 0, pulled.stderr
    assert target.read_bytes() == payload
    listing = adb(adb_server, phone, "shell", "ls -l /sdcard/Download").stdout.decode()
    assert str(len(payload)) in listing and "big.bin" in listing


def test_push_creates_directories_and_pull_of_a_missing_file_fails(
        adb_server: AdbServer, phone: PhoneSession, tmp_path: Path) -> None:
    small = tmp_path / "small.txt"
    small.write_text("hello")
    assert adb(adb_server, phone, "push", str(small), "/data/local/tmp/new/dir/small.txt").returncode == 0
    assert adb(adb_server, phone, "shell", "cat /data/local/tmp/new/dir/small.txt").stdout == b"hello"
    missing = adb(adb_server, phone, "pull", "/sdcard/nothing.png", str(tmp_path / "x.png"))
    assert missing.returncode != 0
    assert b"No such file or directory" in missing.stderr
    denied = adb(adb_server, phone, "push", str(small), "/system/small.txt")
    assert denied.returncode != 0


def test_pull_of_a_directory_uses_listing(adb_server: AdbServer, phone: PhoneSession, tmp_path: Path) -> None:
    adb(adb_server, phone, "shell", "mkdir -p /sdcard/dir && echo 1 > /sdcard/dir/a && echo 2 > /sdcard/dir/b")
    result = adb(adb_server, phone, "pull", "/sdcard/dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "dir" / "a").read_text() == "1\n"
    assert (tmp_path / "dir" / "b").read_text() == "2\n"


def test_screencap_to_a_file_then_pull(adb_server: AdbServer, phone: PhoneSession, tmp_path: Path) -> None:
    assert adb(adb_server, phone, "shell", "screencap -p /sdcard/screen.png").returncode == 0
    assert adb(adb_server, phone, "pull", "/sdcard/screen.png", str(tmp_path / "s.png")).returncode == 0
    assert (tmp_path / "s.png").read_bytes() == phone.phone.last_screencap


def test_unsupported_device_services_fail_cleanly(adb_server: AdbServer, phone: PhoneSession) -> None:
    result = adb(adb_server, phone, "jdwp")
    assert result.returncode != 0
    # The phone is still usable afterwards.
    assert adb(adb_server, phone, "shell", "echo alive").stdout == b"alive\n"


def test_adb_reverse_keeps_a_tunnel_table(adb_server: AdbServer, phone: PhoneSession) -> None:
    assert adb(adb_server, phone, "reverse", "tcp:8081", "tcp:8081").returncode == 0
    assert adb(adb_server, phone, "reverse", "--list").stdout.decode().split()[1:] == ["tcp:8081", "tcp:8081"]
    assert adb(adb_server, phone, "reverse", "--remove-all").returncode == 0
    assert adb(adb_server, phone, "reverse", "--list").stdout.strip() == b""


def test_shell_without_a_command_reads_commands_from_stdin(adb_server: AdbServer, phone: PhoneSession) -> None:
    result = adb(adb_server, phone, "shell", input=b"echo hi\ngetprop ro.build.version.sdk\nexit 4\necho never\n")
    assert (result.returncode, result.stdout) == (4, b"hi\n34\n")


def test_adb_install_of_adb_keyboard_through_abb_exec(adb_server: AdbServer, tmp_path: Path) -> None:
    apk = tmp_path / "ADBKeyboard.apk"
    apk.write_bytes(build_apk("com.android.adbkeyboard", "ADB Keyboard", ime_service=".AdbIME"))
    with running_phone(adb_server, adb_keyboard=False) as session:
        assert "com.android.adbkeyboard" not in session.device.shell("pm list packages")
        installed = adb(adb_server, session, "install", str(apk))
        assert installed.returncode == 0, installed.stdout + installed.stderr
        assert b"Success" in installed.stdout
        assert "com.android.adbkeyboard/.AdbIME" in session.device.shell("ime list -a -s")


def test_root_and_remount_are_refused_like_a_user_build(adb_server: AdbServer, phone: PhoneSession) -> None:
    assert adb(adb_server, phone, "remount").returncode != 0
    assert b"cannot run as root in production builds" in adb(adb_server, phone, "root").stdout
    assert adb(adb_server, phone, "shell", "echo still here").stdout == b"still here\n"
