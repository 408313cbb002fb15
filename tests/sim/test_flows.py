"""User-level flows through the real adb binary, checked through the phone's state API."""

from __future__ import annotations

import base64
import io

from PIL import Image

from phone_agent.sim.system import ADB_KEYBOARD
from phone_agent.sim.testing import AdbServer, PhoneSession
from tests.sim.helpers import adb, centre

SHOP = "com.ebay.mobile"
SEARCH_FIELD = f"{SHOP}:id/search_src_text"


def screen_xml(server: AdbServer, session: PhoneSession) -> str:
    """The uiautomator dump, fetched the way an agent would."""
    result = adb(server, session, "exec-out", "uiautomator dump /sdcard/ui.xml >/dev/null && cat /sdcard/ui.xml")
    return result.stdout.decode()


def tap(server: AdbServer, session: PhoneSession, **node: str) -> None:
    """`adb shell input tap` on the centre of a node of the current screen."""
    x, y = centre(screen_xml(server, session), **node)
    assert adb(server, session, "shell", "input", "tap", str(x), str(y)).returncode == 0


def test_shop_search_flow_driven_only_by_input(adb_server: AdbServer, phone: PhoneSession) -> None:
    tap(adb_server, phone, text="eBay")
    tap(adb_server, phone, resource_id=SEARCH_FIELD)
    assert adb(adb_server, phone, "shell", "input text 'wireless%sheadphones' && input keyevent ENTER").returncode == 0
    state = phone.phone.state()
    assert state["shop"]["query"] == "wireless headphones"
    assert state["shop"]["results"][0] == "Wireless wireless headphones with charging case"
    assert state["foreground"]["activity"].endswith("SearchResultsActivity")
    adb(adb_server, phone, "shell", "input swipe 540 2000 540 800 300")
    second_title = "Sport wireless headphones, sweat-resistant"
    if second_title in screen_xml(adb_server, phone):
        tap(adb_server, phone, text=second_title)
    else:
        tap(adb_server, phone, resource_id=f"{SHOP}:id/item_title")
    state = phone.phone.state()
    assert state["shop"]["item"] is not None
    adb(adb_server, phone, "shell", "input keyevent BACK")
    assert phone.phone.state()["foreground"]["activity"].endswith("SearchResultsActivity")
    kinds = [entry["kind"] for entry in phone.phone.state()["input_log"]]
    assert kinds[:4] == ["tap", "tap", "text", "key"] and "swipe" in kinds


def test_unicode_text_through_adb_keyboard(adb_server: AdbServer, phone: PhoneSession) -> None:
    tap(adb_server, phone, text="eBay")
    tap(adb_server, phone, resource_id=SEARCH_FIELD)
    setup = adb(adb_server, phone, "shell", f"ime enable {ADB_KEYBOARD} && ime set {ADB_KEYBOARD}")
    assert setup.stdout.decode().endswith(f"Input method {ADB_KEYBOARD} selected for user #0\n")
    text = "降噪耳机 🎧 \"it's\" $HOME `x` \\ end\nsecond line"
    encoded = base64.b64encode(text.encode()).decode()
    result = adb(adb_server, phone, "shell", "am", "broadcast", "-a", "ADB_INPUT_B64", "--es", "msg", encoded)
    assert result.returncode == 0
    assert result.stdout.decode().splitlines()[-1] == "Broadcast completed: result=0"
    assert phone.phone.state()["text_fields"][SEARCH_FIELD] == text
    assert phone.phone.state()["screen"]["keyboard_label"] == "ADB Keyboard {ON}"
    shown = Image.open(io.BytesIO(adb(adb_server, phone, "exec-out", "screencap", "-p").stdout)).convert("RGB")
    without_bar = phone.phone.ui.render(keyboard_label=None).convert("RGB")
    assert shown.tobytes() != without_bar.tobytes()  # the "ADB Keyboard {ON}" bar is drawn


def test_input_text_ascii_percent_s_and_non_ascii(adb_server: AdbServer, phone: PhoneSession) -> None:
    tap(adb_server, phone, text="eBay")
    tap(adb_server, phone, resource_id=SEARCH_FIELD)
    assert adb(adb_server, phone, "shell", "input", "text", "usb%sc%scable").returncode == 0
    assert phone.phone.state()["text_fields"][SEARCH_FIELD] == "usb c cable"
    failed = adb(adb_server, phone, "shell", "input", "text", "'数据线'")
    assert failed.returncode == 255
    assert b"Exception occurred while executing 'text'" in failed.stderr
    assert phone.phone.state()["text_fields"][SEARCH_FIELD] == "usb c cable"


def test_adb_keyboard_is_inert_until_selected(adb_server: AdbServer, phone: PhoneSession) -> None:
    tap(adb_server, phone, text="eBay")
    tap(adb_server, phone, resource_id=SEARCH_FIELD)
    result = adb(adb_server, phone, "shell", "am broadcast -a ADB_INPUT_TEXT --es msg hello")
    assert result.returncode == 0
    assert phone.phone.state()["text_fields"][SEARCH_FIELD] == ""
    assert phone.phone.state()["input_log"][-1]["ime_active"] is False
