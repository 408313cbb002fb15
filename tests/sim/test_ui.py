"""The virtual phone's screens and apps, driven only through taps, swipes, keys and text."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from phone_agent.sim.ui import PhoneUI
from tests.support import FakeClock

SHOP = "com.ebay.mobile"
SEARCH = f"{SHOP}:id/search_src_text"
HOME, BACK, ENTER, DEL, APP_SWITCH = 3, 4, 66, 67, 187


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1000.0)


@pytest.fixture
def ui(clock: FakeClock) -> PhoneUI:
    return PhoneUI(clock=clock)


def nodes(ui: PhoneUI) -> list[ET.Element]:
    """Every node of the current uiautomator dump."""
    return list(ET.fromstring(ui.hierarchy_xml().encode("utf-8")).iter("node"))


def find(ui: PhoneUI, *, text: str | None = None, rid: str | None = None, contains: str | None = None) -> ET.Element:
    """The first node matching exactly `text`, `rid`, or containing `contains`."""
    for node in nodes(ui):
        if text is not None and node.get("text") != text:
            continue
        if rid is not None and node.get("resource-id") != rid:
            continue
        if contains is not None and contains not in node.get("text", ""):
            continue
        return node
    raise AssertionError(f"no node text={text!r} rid={rid!r} contains={contains!r} on {ui.foreground()}")


def has(ui: PhoneUI, **query: str) -> bool:
    """Whether a matching node is on screen."""
    try:
        find(ui, **query)
    except AssertionError:
        return False
    return True


def centre(node: ET.Element) -> tuple[int, int]:
    """The middle of a node's bounds."""
    x1, y1, x2, y2 = map(int, re.findall(r"\d+", node.get("bounds", "")))
    return (x1 + x2) // 2, (y1 + y2) // 2


def tap(ui: PhoneUI, **query: str) -> None:
    """Tap the centre of the node found by `find`."""
    ui.tap(*centre(find(ui, **query)))


def long_press(ui: PhoneUI, **query: str) -> None:
    """Hold a finger on a node for 800 ms."""
    x, y = centre(find(ui, **query))
    ui.swipe(x, y, x + 2, y + 1, 800)


def open_app(ui: PhoneUI, label: str) -> None:
    """Go home and tap an app's icon."""
    ui.key(HOME)
    tap(ui, text=label)


def search(ui: PhoneUI, query: str) -> None:
    """Open the shop and search for `query` with the ENTER key."""
    open_app(ui, "eBay")
    tap(ui, rid=SEARCH)
    assert ui.insert_text(query)
    ui.key(ENTER)


def brightness(image: Image.Image) -> int:
    """The mean grey level of an image."""
    return image.convert("L").resize((1, 1)).tobytes()[0]


def visible_results(ui: PhoneUI) -> list[str]:
    """Titles of the result rows on screen."""
    return [n.get("text", "") for n in nodes(ui) if n.get("resource-id") == f"{SHOP}:id/item_title"]


def test_launcher_shows_an_icon_per_installed_app_and_starts_it(ui: PhoneUI) -> None:
    assert ui.foreground() == ("com.android.launcher3", "com.android.launcher3.Launcher")
    apps = ui.apps()
    assert apps[SHOP] == f"{SHOP}.MainActivity"
    for label in ("eBay", "Settings", "Contacts", "Messages", "Clock"):
        assert find(ui, text=label).get("clickable") == "true"
    tap(ui, text="Settings")
    assert ui.foreground() == ("com.android.settings", "com.android.settings.Settings")
    assert ui.activities("no.such.app") == []
    assert f"{SHOP}.checkout.CheckoutActivity" in ui.activities(SHOP)


def test_shop_search_to_order_placed(ui: PhoneUI) -> None:
    search(ui, "earbuds")
    assert ui.foreground()[1] == f"{SHOP}.search.SearchResultsActivity"
    state = ui.state()
    assert state["shop"]["query"] == "earbuds"
    assert len(state["shop"]["results"]) >= 15
    assert all("earbuds" in title for title in state["shop"]["results"])
    assert any("earbuds" in text for text in state["screen_texts"])
    assert visible_results(ui) and all("earbuds" in title for title in visible_results(ui))

    first = visible_results(ui)[0]
    tap(ui, text=first)
    assert ui.foreground()[1] == f"{SHOP}.viewitem.ViewItemActivity"
    assert ui.state()["shop"]["item"] == first
    tap(ui, text="Buy it now")
    assert ui.foreground()[1] == f"{SHOP}.signin.SignInActivity"
    assert has(ui, text="Sign in to continue")
    tap(ui, rid=f"{SHOP}:id/edit_text_password")
    ui.insert_text("hunter2")
    assert find(ui, rid=f"{SHOP}:id/edit_text_password").get("password") == "true"
    assert "hunter2" not in ui.hierarchy_xml()
    tap(ui, rid=f"{SHOP}:id/button_sign_in")
    assert ui.foreground()[1] == f"{SHOP}.signin.SignInActivity"
    assert has(ui, rid=f"{SHOP}:id/sign_in_error")
    assert not ui.is_secure()

    ui.set_signed_in(True)
    assert ui.foreground()[1] == f"{SHOP}.checkout.CheckoutActivity"
    assert ui.is_secure() and ui.state()["secure"]
    tap(ui, text="Confirm and pay")
    assert ui.foreground()[1] == f"{SHOP}.checkout.OrderConfirmationActivity"
    assert not ui.is_secure()
    assert has(ui, text="Order placed")
    assert ui.state()["shop"]["purchased"] == [{"title": first, "price": ui.state()["shop"]["purchased"][0]["price"]}]


def test_signed_in_buy_goes_straight_to_payment(ui: PhoneUI) -> None:
    ui.set_signed_in(True)
    search(ui, "lamp")
    tap(ui, text=visible_results(ui)[1])
    tap(ui, text="Buy it now")
    assert ui.foreground()[1] == f"{SHOP}.checkout.CheckoutActivity" and ui.is_secure()


def test_search_button_submits_and_empty_query_does_nothing(ui: PhoneUI) -> None:
    open_app(ui, "eBay")
    tap(ui, text="Search")
    assert ui.foreground()[1] == f"{SHOP}.MainActivity"
    tap(ui, rid=SEARCH)
    ui.insert_text("desk lamp")
    tap(ui, text="Search")
    assert ui.state()["shop"]["query"] == "desk lamp"
    assert has(ui, contains="desk lamp")


def test_swipe_scrolls_results_and_hides_rows_outside_the_list(ui: PhoneUI) -> None:
    search(ui, "earbuds")
    before = visible_results(ui)
    results = ui.state()["shop"]["results"]
    assert results[-1] not in before
    listing = find(ui, rid=f"{SHOP}:id/recycler")
    assert listing.get("scrollable") == "true"
    x, y = centre(listing)
    ui.swipe(x, y + 400, x, y - 400, 600)
    after = visible_results(ui)
    assert after != before and before[0] not in after
    top = int(re.findall(r"\d+", listing.get("bounds", ""))[1])
    assert all(int(re.findall(r"\d+", n.get("bounds", ""))[1]) >= top for n in nodes(ui)
               if n.get("resource-id") == f"{SHOP}:id/search_result")
    for _ in range(10):
        ui.swipe(x, y + 400, x, y - 400, 100)
    assert results[-1] in visible_results(ui)
    ui.swipe(x, y - 400, x, y + 400, 50)
    ui.swipe(x, y - 400, x, y + 400, 50)
    ui.swipe(x, y - 400, x, y + 400, 50)
    assert visible_results(ui) == before


def test_rows_scrolled_out_of_the_list_are_not_hit(ui: PhoneUI) -> None:
    search(ui, "earbuds")
    x, y = centre(find(ui, rid=f"{SHOP}:id/recycler"))
    ui.swipe(x, y + 100, x, y - 100, 600)
    first = ui.state()["shop"]["results"][0]
    assert first not in visible_results(ui)
    tap(ui, rid=f"{SHOP}:id/result_count")
    assert ui.foreground()[1] == f"{SHOP}.search.SearchResultsActivity"
    assert ui.state()["shop"]["item"] is None


def test_settings_row_and_switch_both_flip_a_toggle(ui: PhoneUI) -> None:
    open_app(ui, "Settings")
    assert ui.state()["toggles"]["wifi"] is True
    tap(ui, text="Wi-Fi")
    assert ui.state()["toggles"]["wifi"] is False
    assert find(ui, rid="com.android.settings:id/switch_wifi").get("checked") == "false"
    tap(ui, rid="com.android.settings:id/switch_bluetooth")
    assert ui.state()["toggles"]["bluetooth"] is True
    assert find(ui, rid="com.android.settings:id/switch_bluetooth").get("checked") == "true"
    light = brightness(ui.render())
    tap(ui, text="Dark theme")
    assert ui.state()["toggles"]["dark_theme"] is True
    assert brightness(ui.render()) < light / 2
    ui.set_toggle("dark_theme", False)
    assert find(ui, rid="com.android.settings:id/switch_dark_theme").get("checked") == "false"


def test_message_with_cjk_and_emoji_reaches_the_contact(ui: PhoneUI) -> None:
    text = '你好 👋 "quoted" & <b>'
    open_app(ui, "Contacts")
    tap(ui, text="李雷")
    assert ui.foreground()[1] == "com.android.contacts.quickcontact.QuickContactActivity"
    tap(ui, text="Message")
    assert ui.foreground() == ("com.android.messaging", "com.android.messaging.ui.conversation.ConversationActivity")
    tap(ui, rid="com.android.messaging:id/compose_message_text")
    assert ui.insert_text(text)
    assert ui.state()["text_fields"]["com.android.messaging:id/compose_message_text"] == text
    tap(ui, text="Send")
    assert ui.state()["sent_messages"] == [{"to": "李雷", "number": "+86 10 5555 0199", "text": text}]
    assert find(ui, rid="com.android.messaging:id/message_text", text=text) is not None
    assert ui.state()["text_fields"]["com.android.messaging:id/compose_message_text"] == ""
    ui.key(BACK)
    assert ui.foreground()[1] == "com.android.messaging.ui.conversationlist.ConversationListActivity"
    assert find(ui, rid="com.android.messaging:id/conversation_snippet", text=text) is not None
    ui.key(BACK)
    assert ui.foreground()[1] == "com.android.contacts.quickcontact.QuickContactActivity"


def test_start_chat_picks_a_contact_and_enter_sends(ui: PhoneUI) -> None:
    open_app(ui, "Messages")
    tap(ui, text="Start chat")
    tap(ui, text="Bob Müller")
    tap(ui, rid="com.android.messaging:id/compose_message_text")
    ui.insert_text("Grüße")
    ui.key(ENTER)
    assert ui.state()["sent_messages"][-1] == {"to": "Bob Müller", "number": "+49 30 1234567", "text": "Grüße"}


def test_add_alarm_validates_the_time(ui: PhoneUI) -> None:
    open_app(ui, "Clock")
    tap(ui, rid="com.android.deskclock:id/fab")
    tap(ui, rid="com.android.deskclock:id/alarm_time")
    ui.insert_text("25:00")
    tap(ui, text="Save")
    assert has(ui, rid="com.android.deskclock:id/error")
    ui.clear_text()
    ui.insert_text("7:05")
    tap(ui, rid="com.android.deskclock:id/alarm_label")
    ui.insert_text("Standup")
    tap(ui, text="Save")
    assert ui.foreground()[1] == "com.android.deskclock.DeskClock"
    assert {"time": "07:05", "label": "Standup", "on": True} in ui.state()["alarms"]
    assert has(ui, text="07:05")


def test_long_press_opens_a_context_menu(ui: PhoneUI) -> None:
    open_app(ui, "Clock")
    assert [a["time"] for a in ui.state()["alarms"]] == ["06:30"]
    x, y = centre(find(ui, text="06:30"))
    ui.swipe(x, y, x, y, 200)
    assert ui.state()["popup"] is None
    long_press(ui, text="06:30")
    assert ui.state()["popup"]["menu"] is True
    assert find(ui, text="Delete").get("clickable") == "true"
    tap(ui, text="Delete")
    assert ui.state()["alarms"] == [] and ui.state()["popup"] is None

    search(ui, "earbuds")
    title = visible_results(ui)[2]
    long_press(ui, text=title)
    ui.tap(5, ui.height // 2 + 500)
    assert ui.state()["popup"] is None and ui.state()["shop"]["watchlist"] == []
    long_press(ui, text=title)
    tap(ui, text="Add to watchlist")
    assert ui.state()["shop"]["watchlist"] == [title]


def test_double_tap_on_the_item_photo_toggles_watching(ui: PhoneUI, clock: FakeClock) -> None:
    search(ui, "earbuds")
    tap(ui, text=visible_results(ui)[0])
    photo = centre(find(ui, rid=f"{SHOP}:id/item_image"))
    ui.tap(*photo)
    clock.advance(0.5)
    ui.tap(*photo)
    assert ui.state()["shop"]["watchlist"] == []
    clock.advance(0.1)
    ui.tap(*photo)
    assert len(ui.state()["shop"]["watchlist"]) == 1
    assert has(ui, contains="Watching")
    clock.advance(1)
    ui.tap(*photo)
    clock.advance(0.25)
    ui.tap(*photo)
    assert ui.state()["shop"]["watchlist"] == []
    clock.advance(1)
    ui.tap(*photo)
    tap(ui, rid=f"{SHOP}:id/item_price")
    ui.tap(*photo)
    assert ui.state()["shop"]["watchlist"] == []


def test_back_and_home_work_like_android(ui: PhoneUI) -> None:
    search(ui, "earbuds")
    ui.key(HOME)
    assert ui.foreground()[0] == "com.android.launcher3"
    assert (SHOP, f"{SHOP}.search.SearchResultsActivity") in ui.back_stack()
    tap(ui, text="eBay")
    assert ui.foreground()[1] == f"{SHOP}.search.SearchResultsActivity"
    open_app(ui, "Settings")
    ui.key(BACK)
    assert ui.foreground()[0] == "com.android.launcher3"
    assert ui.start(SHOP)
    ui.key(BACK)
    assert ui.foreground()[1] == f"{SHOP}.MainActivity"
    ui.key(BACK)
    assert ui.foreground()[0] == "com.android.launcher3"
    ui.key(BACK)
    assert ui.back_stack() == [("com.android.launcher3", "com.android.launcher3.Launcher")]
    assert not ui.start("no.such.app") and not ui.start(SHOP, "com.ebay.mobile.Nope")
    assert ui.start(SHOP, ".viewitem.ViewItemActivity")
    assert ui.back_stack()[-2:] == [(SHOP, f"{SHOP}.MainActivity"), (SHOP, f"{SHOP}.viewitem.ViewItemActivity")]
    ui.force_stop(SHOP)
    assert ui.foreground()[0] == "com.android.launcher3" and all(p != SHOP for p, _ in ui.back_stack())


def test_app_switch_shows_recents_and_switches(ui: PhoneUI) -> None:
    open_app(ui, "Settings")
    open_app(ui, "Clock")
    ui.key(APP_SWITCH)
    assert ui.foreground()[1] == "com.android.quickstep.RecentsActivity"
    tap(ui, text="Settings")
    assert ui.foreground()[0] == "com.android.settings"
    ui.key(APP_SWITCH)
    ui.key(BACK)
    assert ui.foreground()[0] == "com.android.settings"


def test_transition_shows_an_intermediate_frame_for_the_latency(ui: PhoneUI, clock: FakeClock) -> None:
    ui.latency_ms = 400
    frame = ui.frame_id()
    tap(ui, text="eBay")
    assert not ui.settled() and not ui.state()["settled"]
    assert ui.frame_id() > frame
    loading = ui.render()
    clock.advance(0.3)
    assert not ui.settled()
    clock.advance(0.11)
    assert ui.settled()
    settled = ui.render()
    assert loading.tobytes() != settled.tobytes()
    tap(ui, rid=SEARCH)
    ui.insert_text("x")
    assert ui.settled()


def test_animation_knob_never_settles(ui: PhoneUI, clock: FakeClock) -> None:
    ui.set_animation(True)
    frame = ui.frame_id()
    first = ui.render()
    clock.advance(0.2)
    second = ui.render()
    assert not ui.settled() and first.tobytes() != second.tobytes()
    assert ui.frame_id() == frame
    assert has(ui, rid="android:id/progress")
    ui.set_animation(False)
    assert ui.settled()


def test_popup_is_modal_and_closed_by_a_button(ui: PhoneUI) -> None:
    ui.show_popup("Update available", 'Install "v2" & restart?', ["Later", "Install"])
    assert has(ui, text="Update available") and has(ui, text='Install "v2" & restart?')
    assert find(ui, text="Later").get("package") == "android"
    ui.tap(10, ui.height // 2 + 600)
    tap(ui, text="eBay")
    assert ui.foreground()[0] == "com.android.launcher3" and ui.state()["popup"] is not None
    tap(ui, text="Install")
    assert ui.state()["popup"] is None
    assert ui.state()["popup_log"] == [{"title": "Update available", "button": "Install"}]
    ui.show_popup("Battery low", "10% left", [])
    ui.key(BACK)
    assert ui.state()["popup"] is None and ui.state()["popup_log"][-1] == {"title": "Battery low", "button": ""}


def test_render_size_keyboard_bar_and_speed(clock: FakeClock) -> None:
    ui = PhoneUI(720, 1600, clock=clock)
    image = ui.render()
    assert image.size == (720, 1600) and image.mode == "RGB"
    open_app(ui, "eBay")
    tap(ui, rid=SEARCH)
    plain = ui.render()
    with_bar = ui.render(keyboard_label="ADB Keyboard {ON}")
    assert plain.tobytes() != with_bar.tobytes()
    content = find(ui, rid="android:id/content")
    assert int(re.findall(r"\d+", content.get("bounds", ""))[3]) < 1600 - 96 - 1
    big = PhoneUI(clock=clock)
    started = time.perf_counter()
    for _ in range(5):
        big.tap(5, 5)
        big.render()
    print(f"5 renders after input: {(time.perf_counter() - started) * 1000:.0f} ms")


def test_frame_id_moves_only_when_content_changes(ui: PhoneUI, clock: FakeClock) -> None:
    first = ui.frame_id()
    ui.render()
    assert ui.frame_id() == first
    ui.tap(ui.width // 2, 5)
    assert ui.frame_id() == first
    open_app(ui, "eBay")
    second = ui.frame_id()
    assert second > first
    tap(ui, rid=SEARCH)
    assert ui.frame_id() > second
    clock.advance(61)
    assert ui.frame_id() > second + 1


def test_text_editing_keys_and_focus(ui: PhoneUI) -> None:
    assert not ui.insert_text("nothing focused") and not ui.clear_text()
    open_app(ui, "eBay")
    assert not ui.insert_text("still nothing")
    tap(ui, rid=SEARCH)
    assert find(ui, rid=SEARCH).get("focused") == "true"
    ui.insert_text("abc")
    ui.key(DEL)
    ui.key(999)
    assert ui.state()["text_fields"][SEARCH] == "ab"
    assert ui.state()["focused_field"] == SEARCH
    assert ui.clear_text() and ui.state()["text_fields"][SEARCH] == ""
    ui.tap(-1, 10)
    ui.tap(10, ui.height)


def test_xml_escapes_any_text(ui: PhoneUI) -> None:
    tricky = 'He said "hi" & <bye> \'ok\' 李雷 😀\n\x00end'
    open_app(ui, "eBay")
    tap(ui, rid=SEARCH)
    ui.insert_text(tricky)
    xml = ui.hierarchy_xml()
    assert xml.startswith("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation=\"0\">")
    assert find(ui, rid=SEARCH).get("text") == tricky.replace("\x00", "\ufffd")
    for node in nodes(ui):
        assert re.fullmatch(r"\[\d+,\d+\]\[\d+,\d+\]", node.get("bounds", ""))
    ui.render()


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=40))
def test_any_typed_text_survives_the_dump_and_the_screen(text: str) -> None:
    ui = PhoneUI(360, 800, clock=FakeClock(1000.0))
    open_app(ui, "eBay")
    tap(ui, rid=SEARCH)
    ui.insert_text(text)
    shown = find(ui, rid=SEARCH).get("text", "")
    assert len(shown) == len(text)
    assert all(a == b or b == "\ufffd" for a, b in zip(text, shown, strict=True))
    ui.render()
