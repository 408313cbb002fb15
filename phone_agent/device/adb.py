"""``AdbDevice``: the :class:`~actions.device.Device` protocol over adbutils and an adb server.

Each call opens one stream through the adb server (``host:transport:SERIAL`` then the service):
``exec:screencap`` for frames (the phone's PNG, or raw pixels where that is faster: see
:mod:`phone_agent.device.capture`), and ``shell,v2`` for commands when the phone supports it, so
exit codes are real. adbutils errors are translated to :mod:`phone_agent.errors` here and nowhere else.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import socket
import struct
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import adbutils
import cv2
import numpy as np

from actions.device import LaunchableApp, ShellResult
from phone_agent.device.adb_server import DEVICE_STATE_ADVICE, QuietAdbClient, list_devices, reattach
from phone_agent.device.app_list import AppList
from phone_agent.device.capture import ScreenCapture
from phone_agent.device.frames import Frame
from phone_agent.device.text_input import TextInput
from phone_agent.errors import DeviceError, DeviceStateError, NoDeviceError

# mCurrentFocus/mFocusedApp from `dumpsys window`; m/top/ResumedActivity (Android 9-15) from `dumpsys activity`.
_FOCUS = re.compile(r"(?:mCurrentFocus|mFocusedApp|ResumedActivity)[=:].*?\su\d+\s+([\w.]+)/")
# System dialogs an app may open as it starts (a runtime permission prompt); the launch still worked.
LAUNCH_DIALOGS = frozenset(
    {
        "com.google.android.permissioncontroller",
        "com.android.permissioncontroller",
        "com.android.packageinstaller",
        "com.google.android.packageinstaller",
    }
)
# The default home app (the ResolverActivity of "android" when the person has not chosen one), then the keyboard.
_HOME_AND_KEYBOARD = (
    "cmd package resolve-activity --brief -a android.intent.action.MAIN -c android.intent.category.HOME | tail -n 1; "
    "settings get secure default_input_method"
)
_HOME_APPS = "cmd package query-activities --brief -a android.intent.action.MAIN -c android.intent.category.HOME"
_COMPONENT = re.compile(r"([\w.]+)/[\w.$]+")
_PRIORITY = re.compile(r"priority=(-?\d+)")
_INPUT_ADVICE = (
    "Android refused the input. On Xiaomi/MIUI turn on Developer options > 'USB debugging (Security settings)'; "
    "on OPPO/OnePlus 'Disable permission monitoring'; on vivo 'USB simulated click'. `phone-agent doctor` checks it."
)
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
        self._clock = clock
        self._sleep = sleep
        self._launch_timeout = launch_timeout
        self._shell_v2 = "shell_v2" in self._features()
        self._text = TextInput(self.shell)
        self._packages: frozenset[str] = frozenset()
        self.apps = AppList(self)
        self._size: tuple[int, int] | None = None
        self._reattached = False
        self._capture = ScreenCapture(self._run, raw=raw_capture)  # None: time both ways at the first capture
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"adb-front-{serial}")
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
        """Capture the screen in one round trip (PNG or raw, whichever this phone delivers faster).

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

    def current_app(self) -> str:
        """The package in front (empty when none is found): as of the last capture if nothing was done since."""
        front, self._front = self._front, None
        return front.result() if front is not None else self._ask_front_app()

    def _ask_front_app(self) -> str:
        """The package in front, from ``dumpsys window`` (``dumpsys activity`` when that names none)."""
        window = self._execute("dumpsys window | grep -E 'mCurrentFocus|mFocusedApp'").output
        return foreground_package(window) or foreground_package(
            self._execute("dumpsys activity activities | grep -E 'ResumedActivity'").output
        )

    def home_and_keyboard(self) -> frozenset[str]:
        """The packages of the default home app and the current keyboard, in one round trip (two without a default)."""
        lines = self.shell(_HOME_AND_KEYBOARD).splitlines()
        packages = {match.group(1) for line in lines if (match := _COMPONENT.fullmatch(line.strip()))}
        if "android" in packages:  # HOME resolved to Android's chooser: no default is set, so every home app counts
            packages |= home_apps(self.shell(_HOME_APPS))
        return frozenset(packages)

    def tap(self, x: int, y: int) -> None:
        self._input(f"input tap {int(x)} {int(y)}")

    def double_tap(self, x: int, y: int) -> None:
        # Both taps in one shell: two round trips can miss Android's 300 ms double-tap window.
        self._input(f"input tap {int(x)} {int(y)} && input tap {int(x)} {int(y)}")

    def long_press(self, x: int, y: int, duration_ms: int = 800) -> None:
        self._input(f"input swipe {int(x)} {int(y)} {int(x)} {int(y)} {int(duration_ms)}")

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int) -> None:
        self._input(f"input swipe {int(x1)} {int(y1)} {int(x2)} {int(y2)} {int(duration_ms)}")

    def back(self) -> None:
        self.press_key(_KEYCODE_BACK)

    def home(self) -> None:
        self.press_key(_KEYCODE_HOME)

    def installed_packages(self) -> frozenset[str]:
        """Installed packages, listed once per device object."""
        if not self._packages:
            lines = self.shell("pm list packages").splitlines()
            self._packages = frozenset(
                line.removeprefix("package:").strip() for line in lines if line.startswith("package:")
            )
        return self._packages

    def launchable_apps(self) -> tuple[LaunchableApp, ...]:
        """The apps with a launcher icon and their labels, listed once (see :mod:`phone_agent.device.app_list`)."""
        return self.apps.launchable()

    def launch(self, package: str, activity: str | None = None) -> bool:
        """Start an app and wait (up to ``launch_timeout``) until it, or a permission prompt it opened, is in front."""
        if activity:
            component = activity if "/" in activity else f"{package}/{activity}"
            result = self.run_shell(f"am start -n {shlex.quote(component)}")
        else:
            # The launcher's intent, limited to the package: as the home screen starts an app (new task, or
            # the app's task brought back), and one `am` cheaper than `monkey`, which starts its own Java VM.
            result = self.run_shell(f"am start -a android.intent.action.MAIN -c android.intent.category.LAUNCHER "
                                    f"-f 0x10200000 -p {shlex.quote(package)}")
        # `am start` reports a missing activity as "Error: ..." (with exit 0 before Android 11).
        if result.exit_code not in (0, None) or any(line.startswith("Error") for line in result.output.splitlines()):
            return False
        return self.wait_in_front(package)

    def wait_in_front(self, package: str, failed: Callable[[], bool] | None = None) -> bool:
        """Wait (up to ``launch_timeout``) until ``package``, or a permission prompt it opened, is in front;
        give up at once when ``failed()`` says the start failed."""
        deadline = self._clock() + self._launch_timeout
        while True:
            if self.current_app() in (package, *LAUNCH_DIALOGS):
                return True
            if self._clock() >= deadline or (failed is not None and failed()):
                return False
            self._sleep(0.1)

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
        output = self.shell(f"pm clear {shlex.quote(package)}").strip()
        if output != "Success":
            raise DeviceError(f"`pm clear {package}` failed on {self.serial}: {output or 'no answer'}")

    def press_key(self, keycode: int) -> None:
        """Send one key event."""
        self._input(f"input keyevent {int(keycode)}")


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

    def _input(self, command: str) -> None:
        """Run an ``input`` command; a refusal (e.g. INJECT_EVENTS denied by a vendor ROM) is an error.

        Raises:
            DeviceError: the phone refused the input.
        """
        result = self.run_shell(command)
        if result.exit_code not in (0, None):
            detail = result.output.strip().splitlines()[-1] if result.output.strip() else "no output"
            raise DeviceError(
                f"`{command}` failed on {self.serial} (exit {result.exit_code}: {detail}). {_INPUT_ADVICE}"
            )

    def run_shell(self, command: str) -> ShellResult:
        """Run a shell command and return its output and, when the phone supports shell v2, its exit code."""
        self._front = None  # the command may change what is in front
        return self._execute(command)

    def _execute(self, command: str) -> ShellResult:
        if not self._shell_v2:
            return ShellResult(self._run(f"shell:{command}").decode("utf-8", "replace"), None)
        return _decode_shell_v2(self._run(f"shell,v2,raw:{command}"))

    # --- transport ---

    def _features(self) -> set[str]:
        try:
            with self._client.make_connection() as conn:
                conn.send_command(f"host-serial:{self.serial}:features")
                conn.check_okay()
                return set(conn.read_string_block().split(","))
        except adbutils.AdbError as exc:
            raise DeviceError(f"Cannot talk to {self.serial} through the adb server: {exc}") from exc

    def open_stream(self, service: str) -> socket.socket:
        """Open a stream to the phone's ``service`` (``shell:...``, ``localabstract:NAME``); its socket.

        Raises:
            adbutils.AdbError: the phone refused the service (nothing listens there).
            OSError: the adb server cannot be reached.
        """
        conn = self._client.make_connection()
        try:
            conn.send_command(f"host:transport:{self.serial}")
            conn.check_okay()
            conn.send_command(service)
            conn.check_okay()
        except BaseException:
            conn.conn.close()
            raise
        return conn.conn

    def push(self, local: Path, remote: str) -> None:
        """Copy a file to the phone (mode 0644).

        Raises:
            DeviceError: the copy failed.
        """
        try:
            adbutils.AdbDevice(self._client, self.serial).sync.push(local, remote, mode=0o644)
        except (adbutils.AdbError, OSError) as exc:
            raise DeviceError(f"Cannot copy {local.name} to {self.serial}:{remote} ({exc}).") from exc

    def _run(self, service: str) -> bytes:
        """Open one stream to the phone, send ``service`` and read until the phone closes it."""
        try:
            sock = self.open_stream(service)
            try:
                return _read_to_end(sock)
            finally:
                # The phone has closed the stream: no need for adbutils' shutdown-and-sleep dance.
                sock.close()
        except (adbutils.AdbError, OSError) as exc:
            raise DeviceError(f"Lost contact with {self.serial} ({exc}). Check the cable or `adb devices`.") from exc


def home_apps(listing: str) -> set[str]:
    """The packages in ``query-activities --brief`` output, less those of negative priority.

    Settings' FallbackHome (priority -1000) answers HOME only while the phone boots: it is no home app.
    """
    packages, priority = set(), 0
    for line in listing.splitlines():
        if found := _PRIORITY.match(line.strip()):
            priority = int(found.group(1))
        elif (match := _COMPONENT.fullmatch(line.strip())) and priority >= 0:
            packages.add(match.group(1))
    return packages


def foreground_package(dumpsys: str) -> str:
    """The package of the first focus or resumed-activity line in ``dumpsys`` output ("" when none)."""
    match = _FOCUS.search(dumpsys)
    return match.group(1) if match else ""


def _read_to_end(sock: socket.socket) -> bytes:
    sock.settimeout(30)
    chunks = []
    while chunk := sock.recv(1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _decode_shell_v2(data: bytes) -> ShellResult:
    """Split shell-v2 frames (id byte, uint32 length, payload) into output and exit code.

    Raises:
        DeviceError: the stream ended without an exit code (the connection dropped mid-command).
    """
    output = bytearray()
    exit_code = None
    offset = 0
    while offset + 5 <= len(data):
        kind, length = struct.unpack_from("<BI", data, offset)
        payload = data[offset + 5 : offset + 5 + length]
        offset += 5 + length
        if kind in (1, 2):
            output += payload
        elif kind == 3 and payload:
            exit_code = payload[0]
    if exit_code is None:
        raise DeviceError("The connection to the phone dropped in the middle of a command. Check `adb devices`.")
    return ShellResult(output.decode("utf-8", "replace"), exit_code)

