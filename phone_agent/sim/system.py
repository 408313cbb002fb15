"""The virtual phone's OS-level state: properties, settings, input methods, packages, files, display."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from phone_agent.sim.adb.fs import FileSystem
from phone_agent.sim.apk import ApkInfo

ADB_KEYBOARD_PACKAGE = "com.android.adbkeyboard"
ADB_KEYBOARD = "com.android.adbkeyboard/.AdbIME"
DEFAULT_IME = "com.google.android.inputmethod.latin/com.android.inputmethod.latin.LatinIME"
# Packages every phone has besides the apps the UI draws.
BASE_PACKAGES = (
    "android",
    "com.android.systemui",
    "com.android.shell",
    "com.android.providers.settings",
    "com.android.phone",
    "com.google.android.inputmethod.latin",
)


def is_system_package(package: str) -> bool:
    """True for a package shipped with the image (hidden by `pm list packages -3`)."""
    if package == ADB_KEYBOARD_PACKAGE:
        return False
    return package in BASE_PACKAGES or package.startswith(("com.android.", "com.google.android."))


@dataclass
class Display:
    """Screen geometry as `wm` and `dumpsys display` report it."""

    width: int
    height: int
    density: int = 420
    override_size: tuple[int, int] | None = None
    override_density: int | None = None
    orientation: int = 0


class SystemState:
    """Everything below the apps: one instance per phone, guarded by the phone's lock."""

    def __init__(self, *, width: int, height: int, adb_keyboard: bool, name: str,
                 clock: Callable[[], float] = time.time) -> None:
        """Create a freshly booted phone's system state."""
        self.name = name
        self.default_adb_keyboard = adb_keyboard
        self.fs = FileSystem(clock)
        self.display = Display(width, height)
        self.props: dict[str, str] = {}
        self.settings: dict[str, dict[str, str]] = {}
        self.adb_keyboard_installed = adb_keyboard
        self.apks: dict[str, ApkInfo] = {}  # apps installed from APKs, by package
        self.reset()

    def reset(self) -> None:
        """Back to the state right after boot (files, settings, IMEs, display)."""
        self.fs.reset()
        self.display = Display(self.display.width, self.display.height)
        self.adb_keyboard_installed = self.default_adb_keyboard
        self.apks = {}
        self.props = {
            "ro.product.name": self.name,
            "ro.product.model": "SimPhone",
            "ro.product.device": "sim",
            "ro.product.brand": "phoneagent",
            "ro.product.manufacturer": "PhoneAgent",
            "ro.product.cpu.abi": "x86_64",
            "ro.product.cpu.abilist": "x86_64,arm64-v8a",
            "ro.product.locale": "en-US",
            "persist.sys.locale": "en-US",
            "ro.build.version.release": "14",
            "ro.build.version.sdk": "34",
            "ro.build.type": "user",
            "ro.build.id": "UP1A.231005.007",
            "ro.build.display.id": "sim-14-UP1A",
            "ro.build.fingerprint": "phoneagent/sim/sim:14/UP1A.231005.007/1:user/release-keys",
            "ro.serialno": f"SIM-{self.name}",
            "ro.sf.lcd_density": str(self.display.density),
            "ro.secure": "1",
            "ro.debuggable": "0",
            "sys.boot_completed": "1",
            "dev.bootcomplete": "1",
            "service.adb.tcp.port": "5555",
        }
        self.settings = {
            "system": {
                "screen_brightness": "128",
                "screen_brightness_mode": "0",
                "screen_off_timeout": "600000",
                "font_scale": "1.0",
                "accelerometer_rotation": "0",
                "user_rotation": "0",
            },
            "secure": {
                "default_input_method": DEFAULT_IME,
                "enabled_input_methods": DEFAULT_IME,
                "android_id": hashlib.sha256(self.name.encode()).hexdigest()[:16],
                "show_ime_with_hard_keyboard": "1",
            },
            "global": {
                "airplane_mode_on": "0",
                "wifi_on": "1",
                "bluetooth_on": "1",
                "adb_enabled": "1",
                "window_animation_scale": "1.0",
                "transition_animation_scale": "1.0",
                "animator_duration_scale": "1.0",
                "device_name": "SimPhone",
            },
        }

    # ------------------------------------------------------------ input methods

    def installed_imes(self) -> list[str]:
        """Every IME id on the phone."""
        return [DEFAULT_IME, ADB_KEYBOARD] if self.adb_keyboard_installed else [DEFAULT_IME]

    def enabled_imes(self) -> list[str]:
        """Enabled IME ids, read from `secure enabled_input_methods` (`id[;subtype]:id…`)."""
        raw = self.settings["secure"].get("enabled_input_methods", "")
        ids = [entry.split(";", 1)[0] for entry in raw.split(":") if entry]
        installed = self.installed_imes()
        return [ime for ime in ids if ime in installed]

    def current_ime(self) -> str:
        """The selected IME id (`secure default_input_method`)."""
        return self.settings["secure"].get("default_input_method", "")

    def enable_ime(self, ime: str, enabled: bool = True) -> bool | None:
        """Enable or disable an IME; the previous enabled state, or None for an unknown id."""
        if ime not in self.installed_imes():
            return None
        current = self.enabled_imes()
        previously = ime in current
        if enabled and not previously:
            current.append(ime)
        elif not enabled and previously:
            current.remove(ime)
            if self.current_ime() == ime:
                self.settings["secure"]["default_input_method"] = current[0] if current else ""
        self.settings["secure"]["enabled_input_methods"] = ":".join(current)
        return previously

    def select_ime(self, ime: str) -> bool:
        """Make an enabled IME the current one; False for one that is not installed or not enabled.

        Android's `ime set` refuses a disabled IME as it refuses an unknown one (InputMethodManagerService's
        switchToInputMethodLocked); it enables nothing.
        """
        if ime not in self.enabled_imes():
            return False
        self.settings["secure"]["default_input_method"] = ime
        return True

    def reset_imes(self) -> None:
        """`ime reset`: only the default keyboard, enabled and selected."""
        self.settings["secure"]["enabled_input_methods"] = DEFAULT_IME
        self.settings["secure"]["default_input_method"] = DEFAULT_IME

    def adb_keyboard_active(self) -> bool:
        """True when ADB Keyboard is installed and the current IME: only then do its broadcasts act."""
        return self.adb_keyboard_installed and self.current_ime() == ADB_KEYBOARD

    def set_adb_keyboard_installed(self, installed: bool) -> None:
        """Install or uninstall ADB Keyboard; uninstalling also drops it from the IME settings."""
        if not installed and self.adb_keyboard_installed:
            self.enable_ime(ADB_KEYBOARD, enabled=False)
        self.adb_keyboard_installed = installed

    # ------------------------------------------------------------ packages and display

    def system_packages(self) -> list[str]:
        """Packages that belong to the system side (ADB Keyboard when installed)."""
        extra = [ADB_KEYBOARD_PACKAGE] if self.adb_keyboard_installed else []
        return [*BASE_PACKAGES, *extra]

    def screen_size(self) -> tuple[int, int]:
        """The size apps see: the override when `wm size WxH` set one."""
        return self.display.override_size or (self.display.width, self.display.height)

    def state(self) -> dict[str, object]:
        """JSON-able view for the observable state."""
        return {
            "ime": {
                "current": self.current_ime(),
                "enabled": self.enabled_imes(),
                "installed": self.installed_imes(),
                "adb_keyboard_active": self.adb_keyboard_active(),
            },
            "settings": {namespace: dict(values) for namespace, values in self.settings.items()},
            "display": {
                "physical_size": [self.display.width, self.display.height],
                "override_size": list(self.display.override_size) if self.display.override_size else None,
                "density": self.display.override_density or self.display.density,
                "orientation": self.display.orientation,
            },
            "files": self.fs.files(),
        }
