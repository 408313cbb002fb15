"""The HTTP/JSON control endpoint and `serve()`, the runner behind `phone-agent sim`."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import adbutils
import httpx
import pytest

from phone_agent.sim import ControlServer, VirtualPhone, serve
from phone_agent.sim.testing import AdbServer, free_port, port_is_free


@pytest.fixture
def control() -> Iterator[tuple[ControlServer, list[VirtualPhone]]]:
    """Two phones (not listening for adb) behind a control server."""
    phones = [VirtualPhone(name="a"), VirtualPhone(name="b")]
    server = ControlServer(phones)
    server.start()
    yield server, phones
    server.stop()


def test_state_reset_faults_popup_signed_in_and_shell(control: tuple[ControlServer, list[VirtualPhone]]) -> None:
    server, phones = control
    with httpx.Client(base_url=server.url) as http:
        listing = http.get("/phones").json()["phones"]
        assert [phone["name"] for phone in listing] == ["a", "b"]
        shell = http.post("/phones/b/shell", json={"command": "am start -n com.ebay.mobile/.MainActivity"}).json()
        assert shell["status"] == 0
        assert http.get("/phones/1/state").json()["foreground"]["package"] == "com.ebay.mobile"
        assert http.get("/phones/0/state").json()["foreground"]["package"] == "com.android.launcher3"
        faults = http.post("/phones/a/faults", json={"screencap_delay_ms": 5, "secure_screen": True,
                                                     "latency_ms": 100}).json()["faults"]
        assert faults == {"drop_connection_after": None, "screencap_delay_ms": 5, "screencap_fails": False,
                          "secure_screen": True, "latency_ms": 100, "clipboard_set_fails": False,
                          "scrcpy_accept_delay_ms": 0, "linker_warnings": False}
        assert http.post("/phones/a/faults", json={"bogus": 1}).status_code == 400
        assert http.post("/phones/a/popup", json={"title": "Hi", "message": "There", "buttons": ["OK"]}).is_success
        assert "There" in phones[0].ui.hierarchy_xml()
        assert http.post("/phones/a/signed_in", json={"value": True}).is_success
        assert http.get("/phones/a/state").json()["shop"]["signed_in"] is True
        png = http.get("/phones/a/screenshot.png")
        assert png.headers["content-type"] == "image/png" and png.content == phones[0].last_screencap
        assert http.post("/phones/a/reset").json() == {"ok": True}
        assert http.get("/phones/a/state").json()["faults"]["secure_screen"] is False
        assert http.get("/phones/zzz/state").status_code == 404
        assert http.get("/state").status_code == 404  # ambiguous with two phones


def test_serve_starts_announces_prints_and_stops(adb_server: AdbServer) -> None:
    if not port_is_free(5555):
        pytest.skip("port 5555 is in use on this machine")
    lines: list[str] = []
    ready = threading.Event()
    stop = threading.Event()
    started: list[VirtualPhone] = []

    def on_ready(phones: list[VirtualPhone], control: ControlServer) -> None:
        started.extend(phones)
        ready.set()

    thread = threading.Thread(target=serve, kwargs={
        "phones": 2, "port": None, "size": (720, 1600), "adb_keyboard": False, "latency_ms": 0,
        "adb_server_port": adb_server.port, "print_fn": lines.append, "stop_event": stop, "on_ready": on_ready})
    thread.start()
    try:
        assert ready.wait(10), lines
        assert [phone.serial for phone in started] == ["emulator-5554", "emulator-5556"]
        for serial in ("emulator-5554", "emulator-5556"):
            adb_server.wait_for(serial)
        device = adbutils.AdbClient(port=adb_server.port).device("emulator-5556")
        assert device.window_size() == (720, 1600)
        assert "com.android.adbkeyboard" not in device.shell("pm list packages")
        output = "\n".join(lines)
        assert "emulator-5554" in output and "Control endpoint: http://127.0.0.1:" in output
        assert "Ctrl-C" in output
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert not any(phone.running for phone in started)
    assert lines[-1] == "Stopped 2 virtual phone(s)."
    assert adb_server.wait_gone("emulator-5554") and adb_server.wait_gone("emulator-5556")


def test_serve_on_a_chosen_port_prints_the_adb_connect_line() -> None:
    port = free_port()
    lines: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=serve, kwargs={
        "phones": 1, "port": port, "adb_server_port": free_port(), "print_fn": lines.append, "stop_event": stop,
        "on_ready": lambda phones, control: stop.set()})
    thread.start()
    thread.join(10)
    assert f"adb connect 127.0.0.1:{port}" in "\n".join(lines)


def test_the_printed_control_url_knows_the_phones_serve_started() -> None:
    """Regression: `serve()` handed the control server a copy of its list before any phone had started."""
    port = free_port()
    lines: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=serve, kwargs={
        "phones": 2, "port": port, "adb_server_port": free_port(), "print_fn": lines.append, "stop_event": stop,
        "profile": "mid-range"})
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not any(line.startswith("Control endpoint:") for line in lines):
            assert time.monotonic() < deadline and thread.is_alive()
            time.sleep(0.02)
        url = next(line for line in lines if line.startswith("Control endpoint:")).split()[2]
        with httpx.Client() as http:
            phones = http.get(url).json()["phones"]
            assert [phone["port"] for phone in phones] == [port, port + 2]
            state = http.get(url.replace("/phones", "/phones/1/state"))
            assert state.status_code == 200 and state.json()["profile"] == "mid-range"
    finally:
        stop.set()
        thread.join(10)
