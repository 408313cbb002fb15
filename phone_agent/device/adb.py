"""``AdbDevice``: the :class:`~actions.device.Device` protocol over an adb server.

Frames come from ``exec:screencap`` (the phone's PNG, or raw pixels, plain or gzipped, where that is
faster: see :mod:`phone_agent.device.capture`), everything else from shell commands: touches and keys
(:mod:`~phone_agent.device.shell_input`), apps (:mod:`~phone_agent.device.app_control`,
:mod:`~phone_agent.device.app_list`) and text (:mod:`~phone_agent.device.text_input`), all over the
streams of :mod:`~phone_agent.device.adb_link`.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import adbutils
import cv2
import numpy as np

from actions.device import LaunchableApp, ShellResult
from phone_agent.device.adb_link import AdbLink
from phone_agent.device.adb_server import DEVICE_STATE_ADVICE, QuietAdbClient, list_devices, reattach
from phone_agent.device.app_control import AppControl, front_package
from phone_agent.device.app_list import AppList
from phone_agent.device.capture import PNG, RAW, ScreenCapture
from phone_agent.device.frames import Frame
from phone_agent.device.shell_input import ShellInput
from phone_agent.device.text_input import TextInput
from phone_agent.errors import DeviceError, DeviceStateError, NoDeviceError

_SIZE = re.compile(r"(Physical|Override) size:\s*(\d+)x(\d+)")
_ORIENTATION = re.compile(r"orientation=(\d)")
_KEYCODE_HOME = 3
_KEYCODE_BACK = 4
_DUMP_FILE = "/sdcard/window_dump.xml"


class AdbDevice:
    """One phone reached through an adb server. Use it as a context manager to restore the IME."""

    def __init__(
        self,
        serial: str,
        client: adbutils.AdbClient,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        launch_timeout: float = 5.0,
        raw_capture: bool | None = None,
    ) -> None:
        self.serial = serial
        self._client = client
        self._sleep = sleep
        self._link = AdbLink(client, serial)
        self._text = TextInput(self.shell)
        self._input = ShellInput(serial, self.run_shell)
        self._apps = AppControl(serial, self.run_shell, self.current_app, clock=clock, sleep=sleep,
                                launch_timeout=launch_timeout)
        self.apps = AppList(self)
        self._size: tuple[int, int] | None = None
        self._reattached = False
        # None: time each way at the first capture.
        way = None if raw_capture is None else RAW if raw_capture else PNG
        self._capture_began = threading.Event()  # set when a capture's stream is open: the phone is capturing
        self._capture = ScreenCapture(lambda service: self._link.read(service, self._capture_began.set), way=way)
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"adb-front-{serial}")
        self._capturing = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"adb-capture-{serial}")
        self._front: Future[str] | None = None

    @classmethod
    def connect(
        cls, serial: str | None = None, *, host: str = "127.0.0.1", port: int = 5037, **kwargs: object
    ) -> AdbDevice:
        """Pick the device to drive: ``serial`` if given, else the only one attached.

        Raises:
            NoDeviceError: no device, the named one is absent, or several and none named.
            DeviceStateError: the device is unauthorized or offline.
            DeviceError: the adb server cannot be reached.
        """
        client = QuietAdbClient(host=host, port=port)
        devices = list_devices(client)
        if serial is not None:
            matches = [d for d in devices if d.serial == serial]
            if not matches:
                known = ", ".join(d.serial for d in devices) or "none"
                raise NoDeviceError(
                    f"Device {serial!r} is not attached (attached: {known}). Check `phone-agent devices`."
                )
        elif not devices:
            raise NoDeviceError(
                "No Android device found. Connect a phone with USB debugging on (Settings > Developer options), "
                "start an emulator, or `adb connect HOST:PORT`; then check `phone-agent devices`."
            )
        elif len(devices) > 1:
            names = ", ".join(d.serial for d in devices)
            raise NoDeviceError(f"Several devices are attached ({names}). Choose one with --device SERIAL.")
        else:
            matches = devices
        info = matches[0]
        if info.state != "device":
            advice = DEVICE_STATE_ADVICE.get(info.state, "check the phone and `adb devices`")
            raise DeviceStateError(f"Device {info.serial} is {info.state}: {advice}.")
        return cls(info.serial, client, **kwargs)  # type: ignore[arg-type]

    def __enter__(self) -> AdbDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Restore the person's keyboard if a Type switched it; a phone that cannot be reached is left as it is."""
        with contextlib.suppress(DeviceError):
            self.release_input()
        self._background.shutdown(wait=False, cancel_futures=True)
        self._capturing.shutdown(wait=False, cancel_futures=True)

    def release_input(self) -> None:
        """Give the person their own keyboard back (before a hand-off and at the end of a run).

        When the adb server has gone away (``adb kill-server``), it is started again, once per loss,
        so the phone is not left on ADB Keyboard.

        Raises:
            DeviceError: the phone cannot be reached.
        """
        try:
            self._text.restore()
        except DeviceError:
            if self._reattached:
                raise
            self._reattached = True
            if not reattach(self._client, self.serial):
                raise
            self._text.restore()
            self._reattached = False  # back: a later kill-server is a new loss

    # --- the Device protocol ---

    def screenshot(self) -> Frame:
        """Capture the screen in one round trip (PNG, raw or deflated raw, whichever this phone delivers fastest).

        The app in front is asked for at the same time, for ``current_app``. A capture that fails or
        comes back all black is flagged ``secure``; a failed one also says why in ``failure``.
        """
        self._front = self._background.submit(self._ask_front_app)
        try:
            return self._capture.capture()
        except ValueError as exc:
            width, height = self.screen_size()
            ok, encoded = cv2.imencode(".png", np.zeros((height, width), np.uint8))
            return Frame.from_png(encoded.tobytes(), width, height, failure=f"screencap failed: {exc}")

    def screenshot_held(self, hold: float) -> tuple[Frame, bool]:
        """A capture, and whether the screen showed exactly the same ``hold`` seconds after the capture began.

        The second look is a raw capture hashed on the phone, taken while the frame crosses the cable, so
        it adds no time while the capture is the slower of the two. Only a raw frame can be matched against
        it: a phone captured as PNG answers False (not known), as does one that sent no digest.
        """
        if not self._capture.digests:
            return self.screenshot(), False
        began = self._capture_began
        began.clear()
        capturing = self._capturing.submit(self.screenshot)
        capturing.add_done_callback(lambda _: began.set())  # a capture that could not start wakes the wait too
        began.wait()  # the hold counts from the phone's capture, not from a thread that may start late
        self._sleep(hold)
        try:
            later = self._capture.raw_digest()
        except DeviceError:
            later = None  # the capture tells whether the phone is gone
        frame = capturing.result()
        return frame, later is not None and later == frame.digest

    def current_app(self) -> str:
        """The package in front (empty when none is found): as of the last capture if nothing was done since."""
        front, self._front = self._front, None
        return front.result() if front is not None else self._ask_front_app()

    def _ask_front_app(self) -> str:
        return front_package(lambda command: self._link.shell(command).output)

    def home_and_keyboard(self) -> frozenset[str]:
        """The packages of the default home app and the current keyboard, in one round trip (two without a default)."""
        return self._apps.home_and_keyboard()

    def tap(self, x: int, y: int) -> None:
        self._input.tap(x, y)

    def double_tap(self, x: int, y: int) -> None:
        self._input.double_tap(x, y)

    def long_press(self, x: int, y: int, duration_ms: int = 800) -> None:
        self._input.long_press(x, y, duration_ms)

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int) -> None:
        self._input.swipe(x1, y1, x2, y2, duration_ms)

    def back(self) -> None:
        self.press_key(_KEYCODE_BACK)

    def home(self) -> None:
        self.press_key(_KEYCODE_HOME)

    def installed_packages(self) -> frozenset[str]:
        """Installed packages, listed once per device object."""
        return self._apps.installed()

    def forget_apps(self) -> None:
        """Ask the phone afresh for its installed and launchable apps (some may have been installed meanwhile)."""
        self._apps.forget_installed()
        self.apps.forget()

    def launchable_apps(self) -> tuple[LaunchableApp, ...]:
        """The apps with a launcher icon and their labels, listed once (see :mod:`phone_agent.device.app_list`)."""
        return self.apps.launchable()

    def launch(self, package: str, activity: str | None = None) -> bool:
        """Start an app and wait (up to ``launch_timeout``) until it, or a permission prompt it opened, is in front."""
        return self._apps.launch(package, activity)

    def wait_in_front(self, package: str, failed: Callable[[], bool] | None = None) -> bool:
        """Wait (up to ``launch_timeout``) until ``package``, or a permission prompt it opened, is in front;
        give up at once when ``failed()`` says the start failed."""
        return self._apps.wait_in_front(package, failed)

    def type_text(self, text: str) -> None:
        self._text.type(text)

    # --- used by suites and doctor ---

    def ui_hierarchy(self) -> str:
        """The current screen's ``uiautomator dump`` XML.

        Raises:
            DeviceError: the dump failed (some screens, e.g. with animations, cannot be dumped).
        """
        # Remove the old dump first: a failed dump can exit 0 and would leave the previous screen's file.
        result = self.run_shell(f"rm -f {_DUMP_FILE}; uiautomator dump {_DUMP_FILE} && cat {_DUMP_FILE}")
        start = result.output.find("<?xml")
        if start < 0 or "ERROR:" in result.output[:start]:
            raise DeviceError(f"uiautomator dump failed on {self.serial}: {result.output[:start].strip()[:200]}")
        return result.output[start:]

    def clear_app(self, package: str) -> None:
        """Stop an app and erase its data (``pm clear``).

        Raises:
            DeviceError: the phone refused (some vendor ROMs forbid clearing over adb).
        """
        self._apps.clear(package)

    def press_key(self, keycode: int) -> None:
        """Send one key event."""
        self._input.press_key(keycode)

    def screen_size(self) -> tuple[int, int]:
        """The display size in pixels as it is turned now (``wm size``; an override wins over the physical size)."""
        if self._size is None:
            sizes = {kind: (int(w), int(h)) for kind, w, h in _SIZE.findall(self.shell("wm size"))}
            self._size = sizes.get("Override") or sizes.get("Physical") or (1080, 2400)
        width, height = self._size
        return (height, width) if self.rotation() in (1, 3) else (width, height)

    def rotation(self) -> int:
        """The display rotation in quarter turns (0 portrait, 1 and 3 landscape), from ``dumpsys display``."""
        match = _ORIENTATION.search(self.shell("dumpsys display | grep -E 'orientation='"))
        return int(match.group(1)) if match else 0

    def getprop(self, name: str) -> str:
        """One system property, e.g. ``ro.build.version.release``."""
        return self.shell(f"getprop {shlex.quote(name)}").strip()

    def shell(self, command: str) -> str:
        """Run a shell command and return its output (stdout then stderr).

        Raises:
            DeviceError: the phone or the adb server cannot be reached.
        """
        return self.run_shell(command).output

    def run_shell(self, command: str) -> ShellResult:
        """Run a shell command and return its output and, when the phone supports shell v2, its exit code."""
        self._front = None  # the command may change what is in front
        return self._link.shell(command)

    # --- streams, for the scrcpy channel ---

    def open_stream(self, service: str) -> socket.socket:
        """Open a stream to the phone's ``service`` (``shell:...``, ``localabstract:NAME``); its socket.

        Raises:
            adbutils.AdbError: the phone refused the service (nothing listens there).
            OSError: the adb server cannot be reached.
        """
        return self._link.open_stream(service)

    def push(self, local: Path, remote: str) -> None:
        """Copy a file to the phone (mode 0644).

        Raises:
            DeviceError: the copy failed.
        """
        self._link.push(local, remote)
