"""What each shell command costs on a class of phone: the virtual phone spends this time for real.

The figures and their sources are in docs/phone-costs.md. A command that acts (input, am, …) waits
before its effect lands, as the phone first starts the process; a command that reads (screencap,
uiautomator dump, dumpsys) captures at once and answers when its time is up.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1_000_000
DEFAULT_SWIPE_MS = 300  # what `input swipe` uses without a duration


@dataclass(frozen=True)
class Profile:
    """Costs in milliseconds per command kind; the link's and hashing's speed in bytes per second (0 = no limit)."""

    name: str
    input_ms: int = 0  # `input …` (start-up and the injection; a swipe also takes its duration)
    am_ms: int = 0  # `am start|broadcast|force-stop`
    monkey_ms: int = 0  # `monkey -p PKG …` (always a Java VM)
    service_ms: int = 0  # `pm`, `settings`, `ime`, `wm`, other `cmd SERVICE` calls
    dumpsys_ms: int = 0
    uiautomator_ms: int = 0  # `uiautomator dump` (Java VM, wait for idle, walk the tree)
    screencap_png_ms: int = 0  # the phone compresses the PNG itself
    screencap_raw_ms: int = 0
    app_process_ms: int = 0  # a Java VM for an on-device server such as scrcpy's
    list_apps_ms: int = 0  # scrcpy's server listing the launchable apps with their labels, after its start
    link_bytes_per_s: int = 0
    hash_bytes_per_s: int = 0  # `md5sum`, `sha256sum` (0 = instant)
    deflate_bytes_per_s: int = 0  # `gzip` compressing (0 = instant)
    gestures_take_time: bool = False  # `input swipe … D` blocks for D ms

    def cost_ms(self, argv: list[str]) -> tuple[int, int]:
        """(wait before running, minimum total) for one command line."""
        name = argv[0].rsplit("/", 1)[-1] if argv else ""
        args = argv[1:]
        if name == "cmd" and args:
            name, args = _CMD_SERVICES.get(args[0], "pm"), args[1:]
        match name:
            case "input":
                return self.input_ms + self._gesture_ms(args), 0
            case "am":
                return self.am_ms, 0
            case "monkey":
                return self.monkey_ms, 0
            case "pm" | "settings" | "ime" | "wm":
                return self.service_ms, 0
            case "app_process":
                # A listing loads every launchable app's resources for its label before it prints the list.
                listing = any(arg.lower() == "list_apps=true" for arg in args)
                return self.app_process_ms + (self.list_apps_ms if listing else 0), 0
            case "dumpsys":
                return 0, self.dumpsys_ms
            case "uiautomator":
                return 0, self.uiautomator_ms
            case "screencap":
                png = "-p" in args or any(arg.endswith(".png") for arg in args)
                return 0, self.screencap_png_ms if png else self.screencap_raw_ms
        return 0, 0

    def _gesture_ms(self, args: list[str]) -> int:
        """How long `input [source] swipe|draganddrop X1 Y1 X2 Y2 [D]` holds the finger down."""
        verb = next((index for index, arg in enumerate(args) if arg in ("swipe", "draganddrop")), None)
        if not self.gestures_take_time or verb is None:
            return 0
        numbers = args[verb + 1:]
        if len(numbers) == 4:
            return DEFAULT_SWIPE_MS
        try:
            return max(0, int(float(numbers[4]))) if len(numbers) == 5 else 0
        except ValueError:
            return 0


# `cmd SERVICE` runs the same code as the wrapper script named here.
_CMD_SERVICES = {"input": "input", "activity": "am", "package": "pm", "settings": "settings",
                 "input_method": "ime", "window": "wm"}

PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile("instant"),
        Profile("flagship", input_ms=120, am_ms=200, monkey_ms=350, service_ms=120, dumpsys_ms=60,
                uiautomator_ms=900, screencap_png_ms=450, screencap_raw_ms=120, app_process_ms=300,
                list_apps_ms=600, link_bytes_per_s=100 * MB, hash_bytes_per_s=600 * MB,
                deflate_bytes_per_s=150 * MB, gestures_take_time=True),
        Profile("mid-range", input_ms=250, am_ms=350, monkey_ms=600, service_ms=250, dumpsys_ms=150,
                uiautomator_ms=1500, screencap_png_ms=700, screencap_raw_ms=250, app_process_ms=600,
                list_apps_ms=1500, link_bytes_per_s=35 * MB, hash_bytes_per_s=250 * MB,
                deflate_bytes_per_s=80 * MB, gestures_take_time=True),
        Profile("emulator", input_ms=300, am_ms=400, monkey_ms=700, service_ms=300, dumpsys_ms=100,
                uiautomator_ms=2000, screencap_png_ms=900, screencap_raw_ms=280, app_process_ms=700,
                list_apps_ms=1000, link_bytes_per_s=200 * MB, hash_bytes_per_s=800 * MB,
                deflate_bytes_per_s=200 * MB, gestures_take_time=True),
    )
}
DEFAULT_PROFILE = "instant"


def get_profile(name: str) -> Profile:
    """A profile by name.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown phone profile {name!r}; known: {', '.join(PROFILES)}") from None
