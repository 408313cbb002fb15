"""Typing text on the phone: ADB Keyboard when the phone has it, escaped ``input text`` otherwise.

ADB Keyboard (``com.android.adbkeyboard/.AdbIME``) takes any Unicode text as a base64 broadcast,
but only while it is the current input method, so it is switched on at the first Type of a run and
the person's own keyboard is restored once at the end. Without it, Android's ``input text`` can
type printable ASCII only.
"""

from __future__ import annotations

import base64
import itertools
import re
import shlex
from collections.abc import Callable

from phone_agent.errors import TextInputError

ADB_KEYBOARD = "com.android.adbkeyboard/.AdbIME"
ADB_KEYBOARD_URL = "https://github.com/senzhk/ADBKeyBoard"
_KEYCODE_TAB = 61
_KEYCODE_ENTER = 66
_KEYCODE_DEL = 67
_KEYCODE_MOVE_END = 123
_FALLBACK_CLEAR_KEYS = 64
_KEY_FOR = {"\n": _KEYCODE_ENTER, "\t": _KEYCODE_TAB}
# Where `input text` cannot go on: at a newline or tab (typed as key events), and between a "%" and
# an "s" (Android reads "%s" as a space, so the two go in separate commands).
_PIECES = re.compile(r"([\n\t])|(?<=%)(?=s)")

_CURRENT = "settings get secure default_input_method"
_TAG = "current input method: "
Shell = Callable[[str], str]


def _tagged(answer: str) -> str:
    """The input method a script printed after ``_TAG`` (empty when it printed none)."""
    found = re.search(f"^{re.escape(_TAG)}(.*)$", answer, re.MULTILINE)
    return found.group(1).strip() if found else ""


class TextInput:
    """Types text through one phone's shell, choosing the best method the phone offers."""

    def __init__(self, shell: Shell) -> None:
        self._shell = shell
        self._installed: bool | None = None
        self._restore_ime: str | None = None
        self._selected = False  # ADB Keyboard was on at the last Type

    def type(self, text: str) -> None:
        """Replace the focused field's content with ``text``.

        Raises:
            TextInputError: the text is not printable ASCII and ADB Keyboard is not installed (or not selectable).
        """
        broadcasts = "am broadcast -a ADB_CLEAR_TEXT >/dev/null"
        if text:
            # An empty --es value is dropped by adb and the broadcast then fails: skip it.
            encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
            broadcasts += f" && am broadcast -a ADB_INPUT_B64 --es msg {encoded} >/dev/null"
        if self._selected:
            # Each command is a Java start-up on the phone: check the keyboard while the broadcasts go out. Sent
            # to another keyboard they reach no one, and are sent again once ADB Keyboard is back.
            if self._shell(f"{_CURRENT} & {broadcasts}; wait").strip() == ADB_KEYBOARD:
                return
            self._selected = False  # the person switched keyboards
        if not self._switch(then=broadcasts):
            self._type_with_input_text(text)

    def restore(self) -> None:
        """Give the person their own keyboard back, if we switched it."""
        self._selected = False
        if self._restore_ime is not None:
            self._shell(f"ime set {shlex.quote(self._restore_ime)}")
            self._restore_ime = None

    def select_adb_keyboard(self) -> bool:
        """Select ADB Keyboard if it is installed (and find out whether it is on)."""
        return self._switch(then=None)

    def _switch(self, then: str | None) -> bool:
        """Enable and select ADB Keyboard, then run ``then`` on the phone once it is on; whether it is on."""
        if self._installed is False:
            return False
        # Enabling an enabled keyboard changes nothing, and costs no more than asking whether it is enabled:
        # the person's keyboard is read meanwhile. Its answer tells whether ADB Keyboard is installed.
        answer = self._shell(f'ime enable {ADB_KEYBOARD} 2>&1 & echo "{_TAG}$({_CURRENT})"; wait')
        self._installed = f"Unknown input method {ADB_KEYBOARD}" not in answer
        if not self._installed:
            return False
        current = _tagged(answer)
        if current == ADB_KEYBOARD:
            if then:
                self._shell(then)
        else:
            if self._restore_ime is None and current not in ("", "null"):
                self._restore_ime = current  # remembered before switching, so an interruption can still restore it
            # ADB Keyboard listens for broadcasts only once its view is up, after the switch: reading the setting
            # back confirms the switch and gives it that time. Text goes out only to ADB Keyboard.
            answer = self._shell(
                f'ime set {ADB_KEYBOARD} >/dev/null 2>&1; now=$({_CURRENT}); echo "{_TAG}$now"'
                + (f'; [ "$now" = {ADB_KEYBOARD} ] && {then}' if then else "")
            )
            current = _tagged(answer)
        self._selected = current == ADB_KEYBOARD
        return self._selected

    def _type_with_input_text(self, text: str) -> None:
        text = text.replace("\r\n", "\n").replace("\r", "\n")  # Windows and old Mac line endings are Enter too
        bad = "".join(dict.fromkeys(ch for ch in text if ch not in _KEY_FOR and not " " <= ch <= "~"))
        if bad:
            raise TextInputError(
                f"Cannot type {bad[:10]!r} (in {text[:40]!r}): Android's `input text` handles plain ASCII only. "
                f"Install ADB Keyboard ({ADB_KEYBOARD_URL}), e.g. `adb install ADBKeyboard.apk`; "
                "phone-agent enables and selects it by itself."
            )
        steps: list[int | str] = [_KEYCODE_MOVE_END, *[_KEYCODE_DEL] * _FALLBACK_CLEAR_KEYS]
        for piece in _PIECES.split(text):
            if piece:
                steps.append(_KEY_FOR.get(piece, piece))
        commands = []
        # One shell for everything: each `input` is a Java start-up on the phone. Key runs share one command.
        for is_key, group in itertools.groupby(steps, key=lambda step: isinstance(step, int)):
            if is_key:
                commands.append("input keyevent " + " ".join(str(code) for code in group))
            else:
                # `input text` reads only its first argument and turns %s into a space.
                commands += [f"input text {shlex.quote(str(part).replace(' ', '%s'))}" for part in group]
        self._shell(" && ".join(commands))
