"""``ScrcpyDevice``: the :class:`~actions.device.Device` protocol over a running scrcpy server.

The screen is the newest decoded video frame: its thumbnail comes from its luma, and it is encoded to
PNG on the host once per screen content. Touches, keys, app starts and text go over the control
socket in milliseconds. What scrcpy does not do (the app in front, the package list, the UI
hierarchy) the phone's ``AdbDevice`` still does.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av

from actions.device import LaunchableApp, ShellResult
from phone_agent.device.adb import AdbDevice
from phone_agent.device.frames import Frame, encode_png
from phone_agent.device.scrcpy import protocol
from phone_agent.device.scrcpy.connection import ScrcpyConnection, ServerOptions
from phone_agent.device.scrcpy.front import ASK_AFTER_QUIET, FrontApp
from phone_agent.device.scrcpy.server import START_TIMEOUT
from phone_agent.device.scrcpy.video import VideoReader
from phone_agent.device.settle import SettleMode, Settler
from phone_agent.errors import DeviceError, TextInputError

# Video luma is limited range (black is 16): a frame is black when its brightest thumbnail pixel is below this.
_LUMA_BLACK = 16 + 8
_DOUBLE_TAP_GAP = 0.1  # between the two taps: inside Android's 300 ms DOUBLE_TAP_TIMEOUT, above its 40 ms minimum
_MOVE_INTERVAL = 1 / 60  # swipe moves at a display's frame rate
_ACK_TIMEOUT = 3.0
_BOUNDS = re.compile(r'bounds="\[(-?\d+),(-?\d+)\]\[(-?\d+),(-?\d+)\]"')
_READ_BACK_TIMEOUT = 1.0  # the server answers GET_CLIPBOARD right after the ACK; silence: it holds no text


class ScrcpyDevice:
    """One phone driven through its scrcpy server. Use it as a context manager: closing stops the server."""

    channel = "scrcpy"

    def __init__(
        self,
        adb: AdbDevice,
        connection: ScrcpyConnection,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.adb = adb
        self.serial = adb.serial
        self._connection = connection
        self._sleep = sleep
        self._changes_at_input = 0
        self._sequence = itertools.count(1)  # clipboard sequences: 0 would mean "no acknowledgement"
        self._clipboard_works = True  # False once the phone ignored SET_CLIPBOARD: Type then goes over adb
        self._encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scrcpy-encode")
        self._frame: tuple[int, Frame] | None = None  # the newest screen content and its frame
        self._front = FrontApp(adb.current_app)

    @classmethod
    def start(cls, adb: AdbDevice, jar: Path, options: ServerOptions | None = None, *, timeout: float = START_TIMEOUT,
              sleep: Callable[[float], None] = time.sleep) -> ScrcpyDevice:
        """Start the scrcpy server on ``adb``'s phone and connect to it.

        Raises:
            ChannelError: scrcpy cannot run there (the message says why).
            DeviceError: the phone cannot be reached.
        """
        device = cls(adb, ScrcpyConnection.start(adb, jar, options or ServerOptions(), timeout=timeout), sleep=sleep)
        # The encoder's first frame is its roughest; the repeats that follow (100 ms apart) refine it. The first
        # screen counts once they stopped changing it, or a still screen would look changed at the first action.
        Settler(SettleMode("auto"), time.monotonic, sleep).wait(device, None)
        return device

    def __enter__(self) -> ScrcpyDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the server (closing its sockets ends it)."""
        self._front.close()
        self._encoder.shutdown(wait=True, cancel_futures=True)
        self._connection.close()

    # --- the live screen (phone_agent.device.settle.LiveScreen) ---

    def screen_changes(self) -> int:
        """How many frames with new content arrived since the last input.

        Settling calls this while it waits, so it is also where the app in front is asked for, and the
        frame encoded, ahead of time. Not before the screen changed: the phone may not have carried out the
        input yet (Home from an app whose screen never showed leaves the same screen), so the answer could
        be from before it and would then be kept.
        """
        video = self._video()
        quiet_for = time.monotonic() - video.changed_at
        if video.changes != self._changes_at_input:
            self._front.prefetch(video.changes, quiet_for)
        if quiet_for >= ASK_AFTER_QUIET:
            self._newest()  # likely the settled screen: its PNG is encoded while the wait ends
        return video.changes - self._changes_at_input

    def screenshot(self) -> Frame:
        """The newest frame; its PNG is encoded once per screen, however often MediaCodec repeats its frame.

        Raises:
            DeviceError: the server or its stream has gone.
        """
        frame = self._newest()
        if frame is None:
            raise DeviceError(f"The scrcpy stream of {self.serial} ended: {self._connection.failure() or 'no frame'}")
        return frame

    def _newest(self) -> Frame | None:
        """The newest frame, whose thumbnail is its luma's; PNG-encoded in the background, once per content."""
        decoded, small, changes = self._video().newest()
        if decoded is None or small is None or self._connection.failure() is not None:
            return None
        if self._frame is None or self._frame[0] != changes:
            png = self._encoder.submit(_to_png, decoded)
            frame = Frame(png.result, decoded.width, decoded.height, small, secure=int(small.max()) < _LUMA_BLACK,
                          pixels=lambda: decoded.to_ndarray(format="bgr24"))
            self._frame = (changes, frame)
        return self._frame[1]

    # --- the Device protocol ---

    def current_app(self) -> str:
        return self._front.get(self._video().changes)

    def installed_packages(self) -> frozenset[str]:
        return self.adb.installed_packages()

    def home_and_keyboard(self) -> frozenset[str]:
        return self.adb.home_and_keyboard()

    def launchable_apps(self) -> tuple[LaunchableApp, ...]:
        return self.adb.launchable_apps()

    def release_input(self) -> None:
        self.adb.release_input()  # scrcpy never switches the keyboard; this restores one an earlier Type switched

    # --- the rest of SuiteDevice: shell, UI dump and app data over adb; sizes are the video's (taps use them) ---

    def ui_hierarchy(self) -> str:
        """uiautomator's dump with its bounds in the video's pixels, which taps use: the video may be smaller than
        the display (rounded to multiples of 8, or downsized after an encoder error)."""
        xml = self.adb.ui_hierarchy()
        (width, height), (display_width, display_height) = self.screen_size(), self.adb.screen_size()
        if (width, height) == (display_width, display_height):
            return xml

        def scaled(bounds: re.Match[str]) -> str:
            x1, y1, x2, y2 = map(int, bounds.groups())
            return (f'bounds="[{x1 * width // display_width},{y1 * height // display_height}]'
                    f'[{x2 * width // display_width},{y2 * height // display_height}]"')

        return _BOUNDS.sub(scaled, xml)

    def shell(self, command: str) -> str:
        return self.adb.shell(command)

    def run_shell(self, command: str) -> ShellResult:
        return self.adb.run_shell(command)

    def clear_app(self, package: str) -> None:
        self.adb.clear_app(package)

    def screen_size(self) -> tuple[int, int]:
        frame = self._video().latest()
        return (frame.width, frame.height) if frame is not None else (self._connection.width, self._connection.height)

    def press_key(self, keycode: int) -> None:
        self._input()
        self._key(keycode)

    def tap(self, x: int, y: int) -> None:
        self._input()
        self._touch(protocol.ACTION_DOWN, x, y)
        self._touch(protocol.ACTION_UP, x, y)

    def double_tap(self, x: int, y: int) -> None:
        self.tap(x, y)
        self._sleep(_DOUBLE_TAP_GAP)
        self._touch(protocol.ACTION_DOWN, x, y)
        self._touch(protocol.ACTION_UP, x, y)

    def long_press(self, x: int, y: int, duration_ms: int = 800) -> None:
        self._input()
        self._touch(protocol.ACTION_DOWN, x, y)
        self._sleep(duration_ms / 1000)
        self._touch(protocol.ACTION_UP, x, y)

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int) -> None:
        self._input()
        self._touch(protocol.ACTION_DOWN, x1, y1)
        steps = max(1, round(duration_ms / 1000 / _MOVE_INTERVAL))
        for step in range(1, steps + 1):
            self._sleep(duration_ms / 1000 / steps)
            self._touch(protocol.ACTION_MOVE, x1 + (x2 - x1) * step // steps, y1 + (y2 - y1) * step // steps)
        self._touch(protocol.ACTION_UP, x2, y2)

    def back(self) -> None:
        self._input()
        self._key(protocol.KEYCODE_BACK)

    def home(self) -> None:
        self._input()
        self._key(protocol.KEYCODE_HOME)

    def launch(self, package: str, activity: str | None = None) -> bool:
        """Start an app with START_APP (no Java start-up on the phone) and wait until it is in front.

        An explicit activity needs ``am start``, which the adb side runs.
        """
        self._input()
        if activity:
            return self.adb.launch(package, activity)
        mark = self._connection.output_mark()
        self._connection.send(protocol.start_app(package))
        # The server reports no failure to the client; it only prints one (Controller.startApp, Device.startApp).
        failures = (f'No app found for package "{package}"', f"Cannot create launch intent for app {package}")
        return self.adb.wait_in_front(
            package, lambda: any(line in self._connection.printed_since(mark) for line in failures)
        )

    def type_text(self, text: str) -> None:
        """Clear the focused field (select all, delete), then paste ``text`` through the phone's clipboard.

        Any Unicode text goes this way without ADB Keyboard, and nothing of it reaches a shell. The server
        acknowledges SET_CLIPBOARD even when the phone refused the text (some Samsung phones, scrcpy issue
        3611), so the clipboard is read back before pasting; where it did not take, Type goes over adb.

        Raises:
            TextInputError: the text is too long, or the phone did not confirm the clipboard.
        """
        self._input()
        self._key(protocol.KEYCODE_A, meta=protocol.META_CTRL)
        self._key(protocol.KEYCODE_DEL)
        if not text:
            return
        if self._clipboard_works and self._set_clipboard(text):
            # The server pastes only from Android 7 (KEYCODE_PASTE came with API 24); text fields take Ctrl+V before.
            if self._connection.pastes:
                self._key(protocol.KEYCODE_PASTE)
            else:
                self._key(protocol.KEYCODE_V, meta=protocol.META_CTRL)
            return
        self._clipboard_works = False
        self.adb.type_text(text)

    def _set_clipboard(self, text: str) -> bool:
        """Put ``text`` on the phone's clipboard; False when the phone kept another text there.

        Raises:
            TextInputError: the text is too long, or the server did not acknowledge it.
        """
        sequence = next(self._sequence)
        try:
            message = protocol.set_clipboard(sequence, text, paste=False)
        except ValueError as exc:
            raise TextInputError(f"Cannot type the text: {exc}.") from None
        self._connection.send(message)
        if not self._connection.wait_ack(sequence, _ACK_TIMEOUT):
            raise TextInputError(
                f"{self.serial} did not confirm the clipboard within {_ACK_TIMEOUT:g} s: the text may not have been "
                f"typed. {self._connection.failure() or ''}".strip()
            )
        return self._connection.clipboard(_READ_BACK_TIMEOUT) == text

    # --- helpers ---

    def _video(self) -> VideoReader:
        assert self._connection.video is not None
        return self._connection.video

    def _input(self) -> None:
        """Mark the start of an action (screen changes from now on are its effect) and wake the screen: the server
        woke it only at its start, and an Android whose screen went off since drops touches and sends no frames.
        WAKEUP does nothing to a screen that is on."""
        self._key(protocol.KEYCODE_WAKEUP)
        self._changes_at_input = self._video().changes
        self._front.forget()

    def _touch(self, action: int, x: int, y: int) -> None:
        # The server drops touches whose frame size is not the current video size (e.g. after a rotation).
        self._connection.send(protocol.touch(action, int(x), int(y), *self.screen_size()))

    def _key(self, code: int, *, meta: int = 0) -> None:
        self._connection.send(protocol.keycode(protocol.ACTION_DOWN, code, meta=meta)
                              + protocol.keycode(protocol.ACTION_UP, code, meta=meta))


def _to_png(frame: av.VideoFrame) -> bytes:
    """A decoded frame as PNG.

    Raises:
        DeviceError: OpenCV cannot encode it.
    """
    try:
        return encode_png(frame.to_ndarray(format="bgr24"))
    except ValueError as exc:
        raise DeviceError(f"Cannot encode the video frame: {exc}") from None
