"""Choosing and driving the text-entry method, against a recorded shell."""

from __future__ import annotations

import base64
import shlex

import pytest

from phone_agent.device.adb import AdbDevice
from phone_agent.device.text_input import ADB_KEYBOARD, TextInput
from phone_agent.errors import TextInputError
from phone_agent.sim.testing import AdbServer, PhoneSession, running_phone
from tests.test_adb_device import centre

GBOARD = "com.google.android.inputmethod.latin/com.android.inputmethod.latin.LatinIME"


class Shell:
    """A phone's IME settings, answering the few commands TextInput sends."""

    def __init__(self, installed: bool = True, enabled: bool = False, current: str = GBOARD) -> None:
        self.installed, self.enabled, self.current = installed, enabled, current
        self.commands: list[str] = []  # each simple command
        self.scripts: list[str] = []  # each call

    def __call__(self, script: str) -> str:
        """Run `a; b && c & d` in order (good enough for what TextInput sends); output of the unredirected ones."""
        self.scripts.append(script)
        lexer = shlex.shlex(script, posix=True, punctuation_chars=";&>")
        lexer.wordchars += "+"  # base64
        commands: list[list[str]] = [[]]
        for token in lexer:
            if token in (";", "&", "&&"):
                commands.append([])
            else:
                commands[-1].append(token)
        output = []
        for words in filter(None, commands):
            quiet = ">" in words
            answer = self.run(shlex.join(words[: words.index(">")] if quiet else words))
            output += [] if quiet else [answer]
        return "\n".join(line for line in output if line)

    def run(self, command: str) -> str:
        if command == "wait":
            return ""
        self.commands.append(command)
        words = shlex.split(command)
        if command == "ime list -a -s":
            return "\n".join([GBOARD] + ([ADB_KEYBOARD] if self.installed else []))
        if command == "ime list -s":
            return "\n".join([GBOARD] + ([ADB_KEYBOARD] if self.enabled else []))
        if words[:2] == ["ime", "enable"]:
            self.enabled = self.installed
        elif words[:2] == ["ime", "set"] and (words[2] != ADB_KEYBOARD or self.enabled):
            self.current = words[2]
        elif command == "settings get secure default_input_method":
            return self.current
        return ""


def test_adb_keyboard_is_enabled_selected_used_and_restored() -> None:
    shell = Shell()
    typing = TextInput(shell)
    typing.type('他说 "hi" 🎧\nline2')
    assert shell.current == ADB_KEYBOARD
    sent = [c for c in shell.commands if c.startswith("am broadcast")]
    assert sent[0] == "am broadcast -a ADB_CLEAR_TEXT"
    payload = sent[1].rsplit(" ", 1)[1]
    assert base64.b64decode(payload).decode("utf-8") == '他说 "hi" 🎧\nline2'
    typing.type("again")
    assert shell.commands.count(f"ime enable {ADB_KEYBOARD}") == 1  # switched once per run
    typing.restore()
    assert shell.current == GBOARD


def test_empty_text_only_clears() -> None:
    shell = Shell(enabled=True, current=ADB_KEYBOARD)
    TextInput(shell).type("")
    assert [c for c in shell.commands if c.startswith("am broadcast")] == ["am broadcast -a ADB_CLEAR_TEXT"]


def test_restore_does_nothing_when_adb_keyboard_was_already_current() -> None:
    shell = Shell(enabled=True, current=ADB_KEYBOARD)
    typing = TextInput(shell)
    typing.type("x")
    typing.restore()
    assert not any(c.startswith("ime set") for c in shell.commands)


def test_without_adb_keyboard_ascii_goes_through_escaped_input_text() -> None:
    shell = Shell(installed=False)
    TextInput(shell).type("it's $(id) & `ls`\nnext line")
    command = shell.scripts[-1]
    parts = [shlex.split(part) for part in command.split(" && ")]
    assert parts[0][:2] == ["input", "keyevent"]
    assert parts[1] == ["input", "text", "it's%s$(id)%s&%s`ls`"]
    assert parts[2] == ["input", "keyevent", "66"]
    assert parts[3] == ["input", "text", "next%sline"]


def test_without_adb_keyboard_non_ascii_is_a_clear_error() -> None:
    shell = Shell(installed=False)
    with pytest.raises(TextInputError, match="ADB Keyboard"):
        TextInput(shell).type("café")
    assert not any(c.startswith("input text") for c in shell.commands)


def test_a_keyboard_switched_by_the_person_is_selected_again_before_typing() -> None:
    shell = Shell()
    typing = TextInput(shell)
    typing.type("one")
    shell.current = GBOARD  # the person picked their keyboard during a hand-off
    typing.type("two")
    assert shell.current == ADB_KEYBOARD
    assert [c for c in shell.commands if c.startswith("am broadcast -a ADB_INPUT_B64")][-1].endswith("dHdv")
    typing.restore()
    assert shell.current == GBOARD


def test_the_persons_keyboard_is_remembered_before_switching() -> None:
    class Interrupted(Shell):
        def run(self, command: str) -> str:
            if command == f"ime set {ADB_KEYBOARD}":
                self.current = ADB_KEYBOARD
                raise KeyboardInterrupt  # Ctrl-C right after the switch
            return super().run(command)

    shell = Interrupted()
    typing = TextInput(shell)
    with pytest.raises(KeyboardInterrupt):
        typing.type("x")
    typing.restore()
    assert shell.current == GBOARD


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
