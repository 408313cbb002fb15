"""The control socket: client messages in (touches, keys, text, clipboard, app starts), device messages out."""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Callable

from phone_agent.sim.adb.device import ShellPhone
from phone_agent.sim.adb.input_cmds import CHAR_KEYS
from phone_agent.sim.adb.transport import StreamClosed
from phone_agent.sim.scrcpy.apps import LISTING, app_list_message
from phone_agent.sim.scrcpy.options import ServerOptions
from phone_agent.sim.scrcpy.video import VideoStreamer
from phone_agent.sim.sockets import LocalSocket

# Device -> client message types.
DEVICE_CLIPBOARD, DEVICE_ACK_CLIPBOARD = 0, 1
ACTION_DOWN, ACTION_UP = 0, 1
COPY_KEY_COPY, COPY_KEY_CUT = 1, 2
META_SHIFT_ON, META_CTRL_ON = 0x1, 0x1000
KEY_DEL, KEY_FORWARD_DEL, KEY_CUT, KEY_COPY, KEY_PASTE = 67, 112, 277, 278, 279
PASTE_SDK = 24
KEY_BACK = 4
TOUCH = struct.Struct(">BqiiHHHii")
SCROLL = struct.Struct(">iiHHhhi")
SCROLL_STEP_PX = 120  # how far one wheel notch moves a list


class ProtocolError(Exception):
    """A message the server cannot parse; it stops the controller, as in the real server."""


class Controller:
    """Reads control messages and acts on the phone's UI, as the user's finger and keyboard would."""

    def __init__(self, phone: ShellPhone, sock: LocalSocket, options: ServerOptions, stop: threading.Event,
                 video: VideoStreamer | None, log: Callable[[str, str], None]) -> None:
        """Control `phone`; touches are in the coordinates of `video`'s frames."""
        self.phone = phone
        self.sock = sock
        self.options = options
        self.stop = stop
        self.video = video
        self.log = log
        self._pointers: dict[int, tuple[float, int, int]] = {}  # pointer id -> (down time, x, y) on the phone
        self._all_selected = False  # Ctrl+A selected the focused field's text
        self._write_lock = threading.Lock()

    def run(self) -> None:
        """Handle messages until the client closes the socket or sends garbage; then the server stops."""
        try:
            while not self.stop.is_set():
                kind = self._read(1)
                self._handle(kind[0])
        except (StreamClosed, EOFError):
            pass
        except ProtocolError as exc:
            self.log("ERROR", f"Controller error: {exc}")
        finally:
            self.stop.set()

    # ------------------------------------------------------------ parsing

    def _read(self, size: int) -> bytes:
        data = self.sock.read_exact(size)
        if data is None:
            raise EOFError
        return data

    def _string(self, length_bytes: int) -> str:
        length = int.from_bytes(self._read(length_bytes), "big")
        return self._read(length).decode("utf-8", "replace") if length else ""

    def _handle(self, kind: int) -> None:
        match kind:
            case 0:  # INJECT_KEYCODE
                action, code, _repeat, meta = struct.unpack(">Biii", self._read(13))
                if action == ACTION_DOWN:
                    self._key(code, meta)
            case 1:  # INJECT_TEXT
                self._type(self._string(4))
            case 2:  # INJECT_TOUCH
                action, pointer, x, y, width, height, _pressure, _button, _buttons = TOUCH.unpack(
                    self._read(TOUCH.size))
                self._touch(action, pointer, x, y, width, height)
            case 3:  # INJECT_SCROLL
                x, y, width, height, _h, v, _buttons = SCROLL.unpack(self._read(SCROLL.size))
                self._scroll(x, y, width, height, v / 0x8000 * 16)
            case 4:  # BACK_OR_SCREEN_ON: the screen is always on, so it is BACK
                if self._read(1)[0] == ACTION_DOWN:
                    self._key(KEY_BACK, 0)
            case 8:  # GET_CLIPBOARD
                self._get_clipboard(self._read(1)[0])
            case 9:  # SET_CLIPBOARD
                sequence, paste = struct.unpack(">QB", self._read(9))
                self._set_clipboard(self._string(4), bool(paste), sequence)
            case 10:  # SET_DISPLAY_POWER
                self._read(1)
            case 5 | 6 | 7 | 11 | 15:  # panels, rotation, keyboard settings: nothing on the virtual phone
                pass
            case 12:  # UHID_CREATE
                self._read(6)
                self._string(1)
                self._string(2)
            case 13:  # UHID_INPUT
                self._read(2)
                self._string(2)
            case 14:  # UHID_DESTROY
                self._read(2)
            case 16:  # START_APP
                self._start_app(self._string(1))
            case 17:  # RESET_VIDEO
                if self.video is not None:
                    self.video.request_reset()
            case _:
                raise ProtocolError(f"Unknown event type: {kind}")

    # ------------------------------------------------------------ acting

    def _to_phone(self, x: int, y: int, width: int, height: int) -> tuple[int, int] | None:
        """Video coordinates to the phone's; None for a stale frame size (the server ignores those)."""
        if self.video is None:
            return x, y
        video_width, video_height = self.video.size
        if (width, height) != (video_width, video_height):
            return None
        return x * self.phone.ui.width // video_width, y * self.phone.ui.height // video_height

    def _touch(self, action: int, pointer: int, x: int, y: int, width: int, height: int) -> None:
        point = self._to_phone(x, y, width, height)
        if point is None:
            assert self.video is not None
            current = "x".join(map(str, self.video.size))
            self.log("VERBOSE",
                     f"Ignore positional event generated for size {width}x{height} (current size is {current})")
            return
        if action == ACTION_DOWN:
            self._pointers[pointer] = (time.monotonic(), *point)
        elif action == ACTION_UP and pointer in self._pointers:
            down_at, x1, y1 = self._pointers.pop(pointer)
            if self._pointers:
                return  # a second finger: the virtual phone knows no multi-touch gestures
            duration_ms = int((time.monotonic() - down_at) * 1000)
            with self.phone.lock:
                self._all_selected = False
                # The UI turns a still, short touch into a tap, a still, long one into a long press, else a scroll.
                self.phone.ui.swipe(x1, y1, point[0], point[1], duration_ms)
                moved = (x1, y1) != point
                self.phone.record_input("swipe" if moved else "tap", x=x1, y=y1, x2=point[0], y2=point[1],
                                        duration_ms=duration_ms, via="scrcpy")

    def _scroll(self, x: int, y: int, width: int, height: int, notches: float) -> None:
        point = self._to_phone(x, y, width, height)
        if point is None or not notches:
            return
        with self.phone.lock:
            self.phone.ui.swipe(point[0], point[1], point[0], point[1] + int(notches * SCROLL_STEP_PX), 300)
            self.phone.record_input("scroll", x=point[0], y=point[1], notches=notches, via="scrcpy")

    def _key(self, code: int, meta: int) -> None:
        with self.phone.lock:
            ui = self.phone.ui
            self.phone.record_input("key", code=code, meta=meta, via="scrcpy")
            if meta & META_CTRL_ON:
                match code:
                    case 29:  # Ctrl+A
                        self._all_selected = ui.state().get("focused_field") is not None
                    case 31 | 52:  # Ctrl+C, Ctrl+X
                        self._copy(cut=code == 52)
                    case 50:  # Ctrl+V
                        self._insert(self.phone.clipboard)
                return
            char = CHAR_KEYS.get(code)
            if char is not None:
                self._insert(char.upper() if meta & META_SHIFT_ON else char)
            elif code in (KEY_DEL, KEY_FORWARD_DEL) and self._all_selected:
                self._all_selected = False
                ui.clear_text()
            elif code in (KEY_COPY, KEY_CUT):
                self._copy(cut=code == KEY_CUT)
            elif code == KEY_PASTE:
                self._insert(self.phone.clipboard)
            else:
                self._all_selected = False
                ui.key(code)

    def _insert(self, text: str) -> None:
        """Type into the focused field, replacing the selection (call under the phone lock)."""
        if self._all_selected:
            self.phone.ui.clear_text()
            self._all_selected = False
        self.phone.ui.insert_text(text)

    def _type(self, text: str) -> None:
        # The server types through the key map: characters it has no key for are skipped.
        typable = "".join(char for char in text if char.isascii() and (char.isprintable() or char == "\n"))
        if typable != text:
            self.log("WARN", "Could not inject some characters of the text")
        with self.phone.lock:
            for index, line in enumerate(typable.split("\n")):
                if index:
                    self.phone.ui.key(66)
                if line:
                    self._insert(line)
            self.phone.record_input("text", text=text, typed=typable == text, via="scrcpy")

    def _copy(self, cut: bool) -> None:
        """COPY/CUT with the field's text selected puts it on the clipboard (call under the phone lock)."""
        field = self.phone.ui.state().get("focused_field")
        if not self._all_selected or field is None:
            return
        self.phone.clipboard = self.phone.ui.state()["text_fields"].get(field, "")
        if cut:
            self.phone.ui.clear_text()
            self._all_selected = False
        if self.options.clipboard_autosync:
            self._send_clipboard(self.phone.clipboard)

    def _get_clipboard(self, copy_key: int) -> None:
        if copy_key in (COPY_KEY_COPY, COPY_KEY_CUT):
            with self.phone.lock:
                self._copy(cut=copy_key == COPY_KEY_CUT)
        if not self.options.clipboard_autosync:
            self._send_clipboard(self.phone.clipboard)

    def _set_clipboard(self, text: str, paste: bool, sequence: int) -> None:
        with self.phone.lock:
            # Like Device.setClipboardText: no change when it already holds the text; a phone may refuse silently.
            changed = self.phone.clipboard != text and not self.phone.faults.clipboard_set_fails
            if changed:
                self.phone.clipboard = text
            self.phone.record_input("clipboard", text=text, paste=paste, via="scrcpy")
            # The server presses PASTE only on Android 7+ (KEYCODE_PASTE came with API 24), whatever the clipboard has.
            sdk = self.phone.system.props.get("ro.build.version.sdk", "")
            if paste and not (sdk.isdigit() and int(sdk) < PASTE_SDK):
                self._insert(self.phone.clipboard)
        if changed:
            self.log("INFO", "Device clipboard set")
        # The acknowledgement comes whether or not the clipboard took the text.
        if sequence:
            self._write(struct.pack(">BQ", DEVICE_ACK_CLIPBOARD, sequence))

    def _send_clipboard(self, text: str) -> None:
        data = text.encode()
        self._write(struct.pack(">BI", DEVICE_CLIPBOARD, len(data)) + data)

    def _start_app(self, name: str) -> None:
        force_stop = name.startswith("+")
        name = name.removeprefix("+")
        with self.phone.lock:
            apps = self.phone.ui.launchable()  # (label, package)
            if name.startswith("?"):
                self.log("INFO", LISTING)
                found = [(label, package) for label, package in apps if label.lower().startswith(name[1:].lower())]
                if len(found) != 1:
                    self.log("WARN", f'No app found for name "{name[1:]}"' if not found
                             else app_list_message(f'No unique app found for name "{name[1:]}":', found))
                    return
                package = found[0][1]
            elif name in {package for _label, package in apps}:
                package = name
            elif name in self.phone.system.system_packages():  # installed, without a launcher activity
                self.log("INFO", f'Starting app "{name}" [{name}] on display 0...')
                self.log("WARN", f"Cannot create launch intent for app {name}")
                return
            else:
                self.log("WARN", f'No app found for package "{name}"')
                return
            if force_stop:
                self.phone.ui.force_stop(package)
            self.phone.ui.start(package)
            self.phone.record_input("start", package=package, activity=None, via="scrcpy")
            label = next(label for label, launchable in apps if launchable == package)
        self.log("INFO", f'Starting app "{label}" [{package}] on display 0...')

    def _write(self, data: bytes) -> None:
        with self._write_lock:
            self.sock.write(data)
