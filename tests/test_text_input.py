"""Choosing and driving the text-entry method, against a recorded shell."""

from __future__ import annotations

import base64
import contextlib
import shlex
from collections.abc import Iterator
from typing import Any

import pytest

from phone_agent.device.adb import AdbDevice
from phone_agent.device.text_input import ADB_KEYBOARD, TextInput
from phone_agent.errors import TextInputError
from phone_agent.sim.testing import AdbServer, PhoneSession, running_phone
from tests.test_adb_device import centre

GBOARD = "com.google.android.inputmethod.latin/com.android.inputmethod.latin.LatinIME"
FIELD = "com.ebay.mobile:id/search_src_text"


class Recorded:
    """A phone's shell through the real adb server, remembering each script sent."""

    def __init__(self, device: AdbDevice) -> None:
        self.device = device
        self.scripts: list[str] = []

    def __call__(self, script: str) -> str:
        self.scripts.append(script)
        return self.device.shell(script)


@contextlib.contextmanager
def typing_on(adb: AdbServer, **phone: Any) -> Iterator[tuple[TextInput, Recorded, PhoneSession]]:
    """TextInput on a virtual phone with eBay's search field focused; its recorded shell; the phone."""
    with running_phone(adb, **phone) as session, AdbDevice.connect(session.phone.serial, port=adb.port) as device:
        device.launch("com.ebay.mobile")
        device.tap(*centre(session, FIELD))
        shell = Recorded(device)
        yield TextInput(shell), shell, session


def keyboard_broadcasts(session: PhoneSession) -> list[tuple[str, str | None]]:
    """The ADB Keyboard broadcasts the phone received: (action, decoded text)."""
    return [(e["action"], e["text"]) for e in session.phone.state()["input_log"] if e["kind"] == "adb_keyboard"]


def test_adb_keyboard_is_enabled_selected_used_and_restored(adb: AdbServer) -> None:
    text = '他说 "hi" 🎧\nline2'
    with typing_on(adb) as (typing, shell, session):
        typing.type(text)
        assert session.phone.state()["ime"]["current"] == ADB_KEYBOARD
        assert session.phone.state()["text_fields"][FIELD] == text
        sent = keyboard_broadcasts(session)
        assert sent == [("ADB_CLEAR_TEXT", None), ("ADB_INPUT_B64", text)]
        payload = next(c for c in shell.scripts if "ADB_INPUT_B64" in c).split("--es msg ")[1].split()[0]
        assert base64.b64decode(payload).decode("utf-8") == text
        typing.type("again")
        assert sum(c.count(f"ime enable {ADB_KEYBOARD}") for c in shell.scripts) == 1  # switched once per run
        typing.restore()
        assert session.phone.state()["ime"]["current"] == GBOARD


def test_the_first_type_is_two_round_trips_and_the_person_s_keyboard_is_known_before_the_switch(
    adb: AdbServer,
) -> None:
    with typing_on(adb) as (typing, shell, session):
        typing.type("耳机")
        assert session.phone.state()["text_fields"][FIELD] == "耳机"
        assert len(shell.scripts) == 2
        assert "ime set" not in shell.scripts[0] and "ime set" in shell.scripts[1]


def test_shell_metacharacters_reach_the_field_as_typed(adb: AdbServer) -> None:
    text = "it's $(id) & `ls`; \"$HOME\" | x > /sdcard/y\n* ~"
    with typing_on(adb) as (typing, shell, session):
        typing.type(text)
        state = session.phone.state()
    assert state["text_fields"][FIELD] == text
    assert state["unknown_commands"] == [] and "/sdcard/y" not in state["files"]


def test_empty_text_only_clears(adb: AdbServer) -> None:
    with typing_on(adb) as (typing, shell, session):
        session.device.shell(f"ime enable {ADB_KEYBOARD}; ime set {ADB_KEYBOARD}")
        typing.type("")
        assert keyboard_broadcasts(session) == [("ADB_CLEAR_TEXT", None)]


def test_restore_does_nothing_when_adb_keyboard_was_already_current(adb: AdbServer) -> None:
    with typing_on(adb) as (typing, shell, session):
        session.device.shell(f"ime enable {ADB_KEYBOARD}; ime set {ADB_KEYBOARD}")
        typing.type("x")
        typing.restore()
        assert not any("ime set" in c for c in shell.scripts)
        assert session.phone.state()["text_fields"][FIELD] == "x"


def test_without_adb_keyboard_ascii_goes_through_escaped_input_text(adb: AdbServer) -> None:
    with typing_on(adb, adb_keyboard=False) as (typing, shell, session):
        typing.type("it's $(id) & `ls`\nnext line")
        command = shell.scripts[-1]
        typing.type("again")
        assert len(shell.scripts) == 3  # ADB Keyboard is looked for once
    parts = [shlex.split(part) for part in command.split(" && ")]
    assert parts[0][:2] == ["input", "keyevent"]
    assert parts[1] == ["input", "text", "it's%s$(id)%s&%s`ls`"]
    assert parts[2] == ["input", "keyevent", "66"]
    assert parts[3] == ["input", "text", "next%sline"]


def test_without_adb_keyboard_non_ascii_is_a_clear_error(adb: AdbServer) -> None:
    with (
        typing_on(adb, adb_keyboard=False) as (typing, shell, _),
        pytest.raises(TextInputError, match="ADB Keyboard"),
    ):
        typing.type("café")
    assert not any("input text" in c for c in shell.scripts)


def test_a_keyboard_switched_by_the_person_is_selected_again_before_typing(adb: AdbServer) -> None:
    with typing_on(adb) as (typing, shell, session):
        typing.type("one")
        session.device.shell(f"ime set {GBOARD}")  # the person picked their keyboard during a hand-off
        typing.type("two")
        assert session.phone.state()["ime"]["current"] == ADB_KEYBOARD
        assert [c for c in shell.scripts if "ADB_INPUT_B64" in c][-1].split("--es msg ")[1].startswith("dHdv")
        assert session.phone.state()["text_fields"][FIELD] == "two"
        typing.restore()
        assert session.phone.state()["ime"]["current"] == GBOARD


def test_the_persons_keyboard_is_remembered_before_switching(adb: AdbServer) -> None:
    class Interrupted(Recorded):
        def __call__(self, script: str) -> str:
            answer = super().__call__(script)
            if f"ime set {ADB_KEYBOARD}" in script:
                raise KeyboardInterrupt  # Ctrl-C while the switch's answer was on its way
            return answer

    with typing_on(adb) as (typing, shell, session):
        interrupted = TextInput(Interrupted(shell.device))
        with pytest.raises(KeyboardInterrupt):
            interrupted.type("x")
        assert session.phone.state()["ime"]["current"] == ADB_KEYBOARD
        interrupted.restore()
        assert session.phone.state()["ime"]["current"] == GBOARD


def field_after_typing(adb: AdbServer, session: PhoneSession, text: str) -> tuple[str, list[str], list[int]]:
    """Type into eBay's search box on a phone without ADB Keyboard: the field, the shell commands, the keys."""
    with AdbDevice.connect(session.phone.serial, port=adb.port) as device:
        device.launch("com.ebay.mobile")
        device.tap(*centre(session, "com.ebay.mobile:id/search_src_text"))
        before = len(session.phone.state()["commands"])
        keys_before = len([e for e in session.phone.state()["input_log"] if e["kind"] == "key"])
        device.type_text(text)
    state = session.phone.state()
    keys = [e["code"] for e in state["input_log"] if e["kind"] == "key"][keys_before:]
    return state["text_fields"]["com.ebay.mobile:id/search_src_text"], state["commands"][before:], keys


def test_without_adb_keyboard_percent_s_and_tabs_are_typed_in_one_shell(adb: AdbServer) -> None:
    with running_phone(adb, adb_keyboard=False) as session:
        field, commands, keys = field_after_typing(adb, session, "100%sure\t50% s")
    assert field == "100%sure50% s"  # the virtual phone, like a one-line field, does not insert the tab
    assert keys[-1] == 61  # TAB, as a key event
    assert len([c for c in commands if "input text" in c]) == 1  # one shell for the whole text


def test_without_adb_keyboard_the_error_shows_the_characters_in_order(adb: AdbServer) -> None:
    with running_phone(adb, adb_keyboard=False) as session, pytest.raises(TextInputError) as raised:
        field_after_typing(adb, session, "earbuds 耳机降噪")
    assert "'耳机降噪'" in str(raised.value) and "earbuds 耳机降噪" in str(raised.value)


def test_a_type_with_adb_keyboard_on_is_one_shell_that_checks_the_keyboard_meanwhile(adb: AdbServer) -> None:
    with running_phone(adb) as session, AdbDevice.connect(session.phone.serial, port=adb.port) as device:
        own = session.device.shell("settings get secure default_input_method").strip()
        device.launch("com.ebay.mobile")
        device.tap(*centre(session, "com.ebay.mobile:id/search_src_text"))
        device.type_text("first")
        before = len(session.phone.state()["commands"])
        device.type_text("耳机")
        state = session.phone.state()
        assert state["text_fields"]["com.ebay.mobile:id/search_src_text"] == "耳机"
        assert len(state["commands"]) == before + 1
        session.device.shell(f"ime set {own}")  # the person switched keyboards
        device.type_text("again")
        assert session.phone.state()["text_fields"]["com.ebay.mobile:id/search_src_text"] == "again"


def test_without_adb_keyboard_every_line_ending_is_one_enter(adb: AdbServer) -> None:
    with running_phone(adb, adb_keyboard=False) as session:
        with AdbDevice.connect(session.phone.serial, port=adb.port) as device:
            device.launch("com.ebay.mobile")
            device.tap(*centre(session, "com.ebay.mobile:id/search_src_text"))
            device.type_text("earbuds\r\npro\rmax\n")
        state = session.phone.state()
    assert state["shop"]["query"] == "earbuds"  # the first Enter searched for what was typed before it
    assert [e["code"] for e in state["input_log"] if e["kind"] == "key"].count(66) == 3
