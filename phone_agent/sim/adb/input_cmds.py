"""`input`, `am` and `monkey`: the commands that change what is on the screen."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field

from phone_agent.sim.adb.command_io import CommandIO
from phone_agent.sim.adb.common import (
    JAVA_FAILURE,
    LAUNCHER,
    SETTINGS,
    full_class,
    java_error,
    phone_of,
    short_component,
)
from phone_agent.sim.system import ADB_KEYBOARD_PACKAGE

_NAMED_KEYS = {
    "UNKNOWN": 0, "SOFT_LEFT": 1, "SOFT_RIGHT": 2, "HOME": 3, "BACK": 4, "CALL": 5, "ENDCALL": 6,
    "STAR": 17, "POUND": 18, "DPAD_UP": 19, "DPAD_DOWN": 20, "DPAD_LEFT": 21, "DPAD_RIGHT": 22,
    "DPAD_CENTER": 23, "VOLUME_UP": 24, "VOLUME_DOWN": 25, "POWER": 26, "CAMERA": 27, "CLEAR": 28,
    "COMMA": 55, "PERIOD": 56, "TAB": 61, "SPACE": 62, "ENTER": 66, "DEL": 67, "GRAVE": 68, "MINUS": 69,
    "EQUALS": 70, "LEFT_BRACKET": 71, "RIGHT_BRACKET": 72, "BACKSLASH": 73, "SEMICOLON": 74,
    "APOSTROPHE": 75, "SLASH": 76, "AT": 77, "PLUS": 81, "MENU": 82, "NOTIFICATION": 83, "SEARCH": 84,
    "MEDIA_PLAY_PAUSE": 85, "MEDIA_STOP": 86, "MEDIA_NEXT": 87, "MEDIA_PREVIOUS": 88, "MUTE": 91,
    "PAGE_UP": 92, "PAGE_DOWN": 93, "ESCAPE": 111, "FORWARD_DEL": 112, "MOVE_HOME": 122, "MOVE_END": 123,
    "VOLUME_MUTE": 164, "APP_SWITCH": 187, "SLEEP": 223, "WAKEUP": 224,
}
KEYCODES: dict[str, int] = {
    **_NAMED_KEYS,
    **{str(digit): 7 + digit for digit in range(10)},
    **{chr(ord("A") + index): 29 + index for index in range(26)},
}
# Keys that type a character into the focused field rather than doing something.
CHAR_KEYS: dict[int, str] = {
    **{7 + digit: str(digit) for digit in range(10)},
    **{29 + index: chr(ord("a") + index) for index in range(26)},
    55: ",", 56: ".", 62: " ", 68: "`", 69: "-", 70: "=", 71: "[", 72: "]", 73: "\\", 74: ";", 75: "'",
    76: "/", 77: "@", 81: "+",
}
ADB_KEYBOARD_ACTIONS = ("ADB_INPUT_TEXT", "ADB_INPUT_B64", "ADB_CLEAR_TEXT", "ADB_INPUT_CODE",
                        "ADB_EDITOR_CODE", "ADB_INPUT_CHARS")
_INPUT_SOURCES = {"keyboard", "mouse", "joystick", "touchnavigation", "touchpad", "trackball", "dpad",
                  "stylus", "gamepad", "touchscreen", "rotaryencoder"}


def keycode(name: str) -> int | None:
    """A key code from `66`, `KEYCODE_ENTER` or `ENTER`; None when unknown."""
    if name.isdigit():
        return int(name)
    return KEYCODES.get(name.upper().removeprefix("KEYCODE_"))


def press_key(io: CommandIO, code: int) -> None:
    """Deliver one key: character keys type into the focused field, the rest go to the UI."""
    phone = phone_of(io)
    char = CHAR_KEYS.get(code)
    if char is not None and phone.ui.insert_text(char):
        return
    phone.ui.key(code)


def input_command(io: CommandIO, args: list[str]) -> int:
    """`input [source] [-d id] tap|swipe|draganddrop|keyevent|text|press …`."""
    while args and (args[0] in _INPUT_SOURCES or args[0] == "-d"):
        args = args[2:] if args[0] == "-d" else args[1:]
    if not args:
        return io.fail("Usage: input [<source>] [-d DISPLAY_ID] <command> [<arg>...]")
    command, rest = args[0], args[1:]
    phone = phone_of(io)
    try:
        numbers = [int(float(arg)) for arg in rest] if command in ("tap", "swipe", "draganddrop") else []
    except ValueError as exc:
        return java_error(io, command, "java.lang.NumberFormatException", str(exc))
    match command, numbers:
        case "tap", [x, y]:
            phone.ui.tap(x, y)
            phone.record_input("tap", x=x, y=y)
        case ("swipe" | "draganddrop"), [x1, y1, x2, y2, *duration] if len(duration) <= 1:
            duration_ms = duration[0] if duration else 300
            phone.ui.swipe(x1, y1, x2, y2, duration_ms)
            phone.record_input(command, x1=x1, y1=y1, x2=x2, y2=y2, duration_ms=duration_ms)
        case "keyevent", _:
            return _keyevent(io, rest)
        case "press", _:
            press_key(io, 23)
            phone.record_input("key", code=23)
        case "text", _:
            return _text(io, rest)
        case _:
            return io.fail(f"Error: Invalid arguments for command: {command}\n"
                           "Usage: input [<source>] [-d DISPLAY_ID] <command> [<arg>...]")
    return 0


def _keyevent(io: CommandIO, args: list[str]) -> int:
    repeat = 2 if "--doubletap" in args else 1
    names = [arg for arg in args if not arg.startswith("--")]
    codes = [keycode(name) for name in names]
    if not names or None in codes:
        bad = next((name for name, code in zip(names, codes, strict=True) if code is None), "")
        return java_error(io, "keyevent", "java.lang.IllegalArgumentException", f"Unknown keycode: {bad}")
    for code in codes:
        assert code is not None
        for _ in range(repeat):
            press_key(io, code)
            phone_of(io).record_input("key", code=code)
    return 0


def _text(io: CommandIO, args: list[str]) -> int:
    if not args:
        return java_error(io, "text", "java.lang.IllegalArgumentException", "Argument expected after \"text\"")
    # Android types only the first argument and treats "%s" as a space.
    text = args[0].replace("%s", " ")
    phone = phone_of(io)
    if any(not (char.isascii() and (char.isprintable() or char in "\n\t")) for char in text):
        phone.record_input("text", text=text, typed=False)
        return java_error(io, "text", "java.lang.NullPointerException", "Attempt to get length of null array")
    for index, line in enumerate(text.split("\n")):
        if index:
            phone.ui.key(66)
        if line:
            phone.ui.insert_text(line)
    phone.record_input("text", text=text, typed=True)
    return 0


# ---------------------------------------------------------------- am


@dataclass
class Intent:
    """The parts of an intent that `am` accepts on its command line."""

    action: str | None = None
    data: str | None = None
    mime: str | None = None
    categories: list[str] = field(default_factory=list)
    component: str | None = None
    package: str | None = None
    flags: int = 0
    extras: dict[str, object] = field(default_factory=dict)
    options: set[str] = field(default_factory=set)

    def describe(self) -> str:
        """Android's short form: `Intent { act=… cat=[…] dat=… flg=… cmp=… (has extras) }`."""
        package, _, activity = (self.component or "").partition("/")
        parts = [
            (self.action, f"act={self.action}"),
            (self.categories, f"cat=[{','.join(self.categories)}]"),
            (self.data, f"dat={self.data}"),
            (self.mime, f"typ={self.mime}"),
            (self.flags, f"flg={self.flags:#x}"),
            (self.package, f"pkg={self.package}"),
            (self.component, f"cmp={short_component(package, full_class(package, activity))}"),
            (self.extras, "(has extras)"),
        ]
        return "Intent { " + " ".join(text for present, text in parts if present) + " }"


class IntentError(ValueError):
    """A malformed `am` command line; the message is the Java exception text."""


_VALUE_OPTIONS = {"-R", "--user", "-P", "--start-profiler", "--sampling", "--windowingMode", "--activityType",
                  "--display", "--receiver-permission", "--attribution-tag", "--task", "-e"}
_FLAG_OPTIONS = {"-W", "-S", "-D", "-N", "--streaming", "--track-allocation", "--wait-for-debugger",
                 "--async", "--allow-background-activity-starts", "--dismiss-keyguard"}
_EXTRA_CASTS: dict[str, Callable[[str], object]] = {
    "--es": str, "--ei": int, "--el": int, "--ef": float, "--ed": float, "--eu": str, "--ecn": str,
    "--ez": lambda value: value.lower() in ("true", "t", "1"),
}


def parse_intent(args: list[str]) -> Intent:
    """Parse `am`'s intent options.

    Raises:
        IntentError: a missing argument or an unknown option.
    """
    intent = Intent()
    queue = list(args)

    def take(after: str) -> str:
        if not queue:
            raise IntentError(f'Argument expected after "{after}"')
        return queue.pop(0)

    while queue:
        arg = queue.pop(0)
        if arg in ("-a", "-d", "-t", "-c", "-n", "-p", "-f"):
            value = take(arg)
            match arg:
                case "-a":
                    intent.action = value
                case "-d":
                    intent.data = value
                case "-t":
                    intent.mime = value
                case "-c":
                    intent.categories.append(value)
                case "-n":
                    intent.component = value
                case "-p":
                    intent.package = value
                case "-f":
                    intent.flags |= int(value, 0)
        elif arg in _EXTRA_CASTS:
            key = take(arg)
            try:
                intent.extras[key] = _EXTRA_CASTS[arg](take(key))
            except ValueError as exc:
                raise IntentError(str(exc)) from None
        elif arg == "--esn":
            intent.extras[take(arg)] = None
        elif arg.startswith("--e") and arg.endswith(("a", "al")):
            key = take(arg)
            intent.extras[key] = take(key).split(",")
        elif arg in _VALUE_OPTIONS:
            intent.options.add(f"{arg}={take(arg)}")
        elif arg in _FLAG_OPTIONS or arg.startswith(("--activity-", "--receiver-")):
            intent.options.add(arg)
        elif arg.startswith("-"):
            raise IntentError(f"Unknown option: {arg}")
        elif "/" in arg and ":" not in arg and intent.component is None:
            intent.component = arg
        else:
            intent.data = arg
    return intent


def am_command(io: CommandIO, args: list[str]) -> int:
    """`am start|start-activity|broadcast|force-stop|kill|get-current-user …`."""
    if not args:
        return io.fail("usage: am [subcommand] [options]")
    command, rest = args[0], args[1:]
    if command in ("force-stop", "kill", "stop-app"):
        packages = [arg for arg in rest if not arg.startswith("-") and not arg.isdigit()]
        if not packages:
            return java_error(io, command, "java.lang.IllegalArgumentException", "Argument expected")
        phone_of(io).ui.force_stop(packages[-1])
        return 0
    if command == "get-current-user":
        io.out("0\n")
        return 0
    if command not in ("start", "start-activity", "broadcast"):
        return io.fail(f"Unknown command: {command}", JAVA_FAILURE)
    try:
        intent = parse_intent(rest)
    except IntentError as exc:
        return java_error(io, command, "java.lang.IllegalArgumentException", str(exc))
    if command == "broadcast":
        return _broadcast(io, intent)
    return _start(io, intent)


def _start(io: CommandIO, intent: Intent) -> int:
    phone = phone_of(io)
    io.out(f"Starting: {intent.describe()}\n")
    if "-S" in intent.options and intent.component:
        phone.ui.force_stop(intent.component.partition("/")[0])
    target = _resolve(io, intent)
    if target is None:
        return io.fail(f"Error: Activity not started, unable to resolve {intent.describe()}", JAVA_FAILURE)
    package, activity = target
    if not phone.ui.start(package, activity):
        shown = short_component(package, activity or "")
        return io.fail(f"Error type 3\nError: Activity class {{{shown}}} does not exist.", JAVA_FAILURE)
    phone.record_input("start", package=package, activity=activity, via="am")
    if "-W" in intent.options:
        package, activity = phone.ui.foreground()
        io.out(f"Status: ok\nLaunchState: COLD\nActivity: {short_component(package, activity)}\n"
               "TotalTime: 180\nWaitTime: 182\nComplete\n")
    return 0


def _resolve(io: CommandIO, intent: Intent) -> tuple[str, str | None] | None:
    apps = phone_of(io).ui.apps()
    if intent.component:
        package, _, activity = intent.component.partition("/")
        return package, full_class(package, activity) if activity else None
    if "android.intent.category.HOME" in intent.categories:
        return LAUNCHER, None
    if intent.package and intent.package in apps:
        return intent.package, None
    if intent.action and intent.action.startswith("android.settings.") and SETTINGS in apps:
        return SETTINGS, None
    return None


def _broadcast(io: CommandIO, intent: Intent) -> int:
    intent.flags |= 0x400000  # am adds FLAG_RECEIVER_INCLUDE_BACKGROUND to every broadcast
    io.out(f"Broadcasting: {intent.describe()}\n")
    if intent.action in ADB_KEYBOARD_ACTIONS:
        _adb_keyboard(io, intent)
    io.out("Broadcast completed: result=0\n")
    return 0


def _adb_keyboard(io: CommandIO, intent: Intent) -> None:
    """Act as ADB Keyboard's receiver, which exists only while it is the current IME."""
    phone = phone_of(io)
    targeted_elsewhere = intent.package not in (None, ADB_KEYBOARD_PACKAGE)
    active = phone.system.adb_keyboard_active() and not targeted_elsewhere
    text: str | None = None
    applied = False
    if active:
        message = intent.extras.get("msg")
        match intent.action:
            case "ADB_INPUT_TEXT" if isinstance(message, str):
                text = message
            case "ADB_INPUT_B64" if isinstance(message, str):
                try:
                    text = base64.b64decode(message, validate=True).decode("utf-8")
                except (binascii.Error, UnicodeDecodeError):
                    text = None
            case "ADB_INPUT_CHARS":
                chars = intent.extras.get("chars")
                if isinstance(chars, list):
                    text = "".join(chr(int(code)) for code in chars if str(code).strip().isdigit())
            case "ADB_CLEAR_TEXT":
                applied = phone.ui.clear_text()
            case "ADB_INPUT_CODE" | "ADB_EDITOR_CODE":
                code = intent.extras.get("code")
                if isinstance(code, int):
                    # An editor action (search, go, done) submits the field like ENTER does.
                    press_key(io, 66 if intent.action == "ADB_EDITOR_CODE" else code)
                    applied = True
        if text is not None:
            applied = phone.ui.insert_text(text)
    phone.record_input("adb_keyboard", action=intent.action, text=text, applied=applied, ime_active=active)


def monkey_command(io: CommandIO, args: list[str]) -> int:
    """`monkey -p PKG -c CATEGORY COUNT`: launch the package's launcher activity, as agents use it."""
    for arg in args:
        io.out(f"  bash arg: {arg}\n")
    packages = [args[index + 1] for index, arg in enumerate(args[:-1]) if arg == "-p"]
    count = next((arg for arg in reversed(args) if arg.isdigit()), "1")
    phone = phone_of(io)
    launchable = [package for package in packages if package in phone.ui.apps()]
    if not launchable:
        io.out("** No activities found to run, monkey aborted.\n")
        return 252
    phone.ui.start(launchable[0])
    phone.record_input("start", package=launchable[0], activity=None, via="monkey")
    io.out(f"Events injected: {count}\n## Network stats: elapsed time=21ms (0ms mobile, 0ms wifi, 21ms "
           "not connected)\n")
    return 0
