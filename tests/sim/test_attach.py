"""How phones attach to an adb server (emulator announcement, `adb connect`) and several phones at once."""

from __future__ import annotations

import base64
import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from phone_agent.sim import VirtualPhone
from phone_agent.sim.system import ADB_KEYBOARD
from phone_agent.sim.testing import AdbServer, PhoneSession, port_is_free, running_phone
from tests.sim.helpers import centre

SHOP = "com.ebay.mobile"


def test_a_phone_on_an_emulator_port_announces_itself_as_emulator_5554(adb_server: AdbServer) -> None:
    if not (port_is_free(5555) and port_is_free(5554)):
        pytest.skip("port 5555 is in use on this machine")
    with running_phone(adb_server, emulator_port=5555) as (phone, device):
        assert phone.serial == "emulator-5554"
        assert adb_server.device_states()["emulator-5554"] == "device"
        result = adb_server.run("-s", "emulator-5554", "shell", "getprop ro.product.model")
        assert result.stdout == b"SimPhone\n"
        assert device.shell("echo via adbutils") == "via adbutils"
    assert "emulator-5554" not in adb_server.device_states()


def test_adb_connect_and_disconnect_with_the_binary(adb_server: AdbServer) -> None:
    phone = VirtualPhone(name="connected")
    port = phone.start()
    try:
        address = f"127.0.0.1:{port}"
        assert phone.serial == address
        connected = adb_server.run("connect", address)
        assert b"connected to " + address.encode() in connected.stdout
        adb_server.wait_for(address)
        assert adb_server.run("-s", address, "shell", "echo hi").stdout == b"hi\n"
        assert adb_server.run("disconnect", address).returncode == 0
        assert address not in adb_server.device_states()
    finally:
        phone.stop()


def drive(session: PhoneSession, index: int) -> dict[str, Any]:
    """Open the shop, type a phone-specific query through ADB Keyboard and return the phone's state."""
    phone, device = session
    device.shell(f"monkey -p {SHOP} -c android.intent.category.LAUNCHER 1")
    x, y = centre(device.dump_hierarchy(), resource_id=f"{SHOP}:id/search_src_text")
    device.click(x, y)
    device.shell(f"ime enable {ADB_KEYBOARD}; ime set {ADB_KEYBOARD}")
    text = f"phone {index} 手机"
    device.shell(["am", "broadcast", "-a", "ADB_INPUT_B64", "--es", "msg", base64.b64encode(text.encode()).decode()])
    for _ in range(index):
        device.keyevent("KEYCODE_DEL")
    return phone.state()


def test_four_phones_in_parallel_keep_independent_state(adb_server: AdbServer) -> None:
    with contextlib.ExitStack() as stack:
        sessions = [stack.enter_context(running_phone(adb_server, name=f"p{index}")) for index in range(4)]
        assert len({session.phone.port for session in sessions}) == 4
        with ThreadPoolExecutor(max_workers=4) as pool:
            states = list(pool.map(drive, sessions, range(4)))
        for index, state in enumerate(states):
            expected = f"phone {index} 手机"[: len(f"phone {index} 手机") - index]
            assert state["text_fields"][f"{SHOP}:id/search_src_text"] == expected
            assert state["name"] == f"p{index}"
            assert len([entry for entry in state["input_log"] if entry["kind"] == "key"]) == index
