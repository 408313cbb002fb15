"""Every fault knob, observed the way a client sees it: through adbutils and the adb server."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator

import adbutils
import pytest
from PIL import Image

from phone_agent.sim.testing import AdbServer, PhoneSession, running_phone
from tests.sim.helpers import centre
from tests.support import FakeClock


def png_of(device: adbutils.AdbDevice) -> bytes:
    """`screencap -p` as raw bytes through adbutils."""
    data = device.shell("screencap -p", encoding=None)
    assert isinstance(data, bytes)
    return data


def is_black(png: bytes) -> bool:
    """True when every pixel is black."""
    return Image.open(io.BytesIO(png)).convert("RGB").getextrema() == ((0, 0), (0, 0), (0, 0))


def test_connection_drop_makes_adbutils_raise(adb_server: AdbServer, phone: PhoneSession) -> None:
    sim, device = phone
    assert device.shell("echo before") == "before"
    sim.drop_connection_after(0)
    with pytest.raises(adbutils.AdbError):
        device.shell("echo during")
    assert sim.state()["faults"]["drop_connection_after"] is None  # one drop per arming
    # Like a real TCP device, the adb server reconnects by itself and the phone works again.
    adb_server.wait_for(sim.serial)
    assert device.shell("echo after") == "after"


def test_connection_drop_after_n_messages_lets_earlier_ones_through(phone: PhoneSession) -> None:
    sim, device = phone
    sim.drop_connection_after(4)  # OPEN and the OKAY of one shell call, then the next OPEN drops
    assert device.shell("echo one") == "one"
    with pytest.raises(adbutils.AdbError):
        for _ in range(3):
            device.shell("echo more")


def test_slow_screencap(phone: PhoneSession) -> None:
    sim, device = phone
    sim.screencap_delay_ms = 300
    started = time.monotonic()
    png_of(device)
    assert time.monotonic() - started >= 0.3


def test_failing_screencap(adb_server: AdbServer, phone: PhoneSession) -> None:
    sim, device = phone
    sim.screencap_fails = True
    with pytest.raises(adbutils.AdbError):
        device.screenshot(error_ok=False)
    result = adb_server.run("-s", sim.serial, "exec-out", "screencap", "-p")
    # exec: has no separate stderr channel, as on a real device: the message arrives instead of a PNG.
    assert result.stdout.startswith(b"Error: failed to take screenshot")
    assert adb_server.run("-s", sim.serial, "shell", "screencap -p > /dev/null").returncode == 1
    sim.screencap_fails = False
    assert device.screenshot(error_ok=False).size == (1080, 2400)


def test_secure_screen_gives_a_black_frame(phone: PhoneSession) -> None:
    sim, device = phone
    assert not is_black(png_of(device))
    sim.secure_screen = True
    assert is_black(png_of(device))
    sim.secure_screen = False
    assert not is_black(png_of(device))


@pytest.fixture
def slow_phone(adb_server: AdbServer) -> Iterator[tuple[PhoneSession, FakeClock]]:
    """A phone with 400 ms transitions on a hand-moved clock."""
    clock = FakeClock(1000.0)
    with running_phone(adb_server, latency_ms=400, clock=clock) as session:
        yield session, clock


def test_latency_shows_an_intermediate_frame_until_the_screen_settles(
        slow_phone: tuple[PhoneSession, FakeClock]) -> None:
    (sim, device), clock = slow_phone
    x, y = centre(sim.ui.hierarchy_xml(), text="eBay")
    device.shell(f"input tap {x} {y}")
    assert sim.state()["screen"]["settled"] is False
    during = png_of(device)
    clock.advance(0.5)
    assert sim.state()["screen"]["settled"] is True
    after = png_of(device)
    assert during != after
    assert png_of(device) == after  # settled frames are stable (and served from the cache)
    assert sim.state()["foreground"]["package"] == "com.ebay.mobile"


def test_latency_is_a_knob_at_run_time(phone: PhoneSession) -> None:
    sim, _ = phone
    sim.latency_ms = 250
    assert sim.ui.latency_ms == 250
    assert sim.state()["faults"]["latency_ms"] == 250


def test_popup_covers_the_screen_until_dismissed(phone: PhoneSession) -> None:
    sim, device = phone
    before = png_of(device)
    sim.show_popup("Update available", "Install the new version?", ["Later", "Install"])
    assert png_of(device) != before
    xml = device.dump_hierarchy()
    assert "Install the new version?" in xml
    x, y = centre(xml, text="Later")
    device.shell(f"input tap {x} {y}")
    assert "Install the new version?" not in device.dump_hierarchy()
