"""`settings`, `ime`, `pm`, `getprop`: commands over the phone's system state."""

from __future__ import annotations

from phone_agent.sim.adb.command_io import CommandIO
from phone_agent.sim.adb.common import JAVA_FAILURE, phone_of, short_component
from phone_agent.sim.adb.fs import FsError
from phone_agent.sim.apk import ApkError, read_apk
from phone_agent.sim.system import ADB_KEYBOARD_PACKAGE, is_system_package
from phone_agent.sim.ui.apps.launcher import LAUNCHER

_NAMESPACES = ("system", "secure", "global")
# Settings the UI's quick toggles own: (namespace, key) -> (toggle name, value when on, value when off).
TOGGLE_SETTINGS = {
    ("global", "wifi_on"): ("wifi", "1", "0"),
    ("global", "bluetooth_on"): ("bluetooth", "1", "0"),
    ("global", "airplane_mode_on"): ("airplane_mode", "1", "0"),
    ("secure", "ui_night_mode"): ("dark_theme", "2", "1"),
}


def _strip_user(args: list[str]) -> list[str]:
    """Drop `--user N` / `-u N`, which the sim's single user makes meaningless."""
    result: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("--user", "-u"):
            skip = True
        else:
            result.append(arg)
    return result


def _toggle_value(io: CommandIO, namespace: str, key: str) -> str | None:
    """A toggle-backed setting read from the UI (so a tap in Settings shows in `settings get`)."""
    if (namespace, key) not in TOGGLE_SETTINGS:
        return None
    name, on, off = TOGGLE_SETTINGS[namespace, key]
    toggles = phone_of(io).ui.state().get("toggles", {})
    return (on if toggles[name] else off) if name in toggles else None


def settings_command(io: CommandIO, args: list[str]) -> int:
    """`settings get|put|delete|list NAMESPACE [KEY [VALUE]]`."""
    args = _strip_user(args)
    phone = phone_of(io)
    settings = phone.system.settings
    match args:
        case ["get", namespace, key] if namespace in _NAMESPACES:
            value = _toggle_value(io, namespace, key)
            io.out((value if value is not None else settings[namespace].get(key, "null")) + "\n")
        case ["put", namespace, key, value, *_] if namespace in _NAMESPACES:
            settings[namespace][key] = value
            if (namespace, key) in (("system", "user_rotation"), ("system", "accelerometer_rotation")):
                phone.apply_display()
            if (namespace, key) in TOGGLE_SETTINGS and hasattr(phone.ui, "set_toggle"):
                name, on, _off = TOGGLE_SETTINGS[namespace, key]
                phone.ui.set_toggle(name, value == on)
        case ["delete", namespace, key] if namespace in _NAMESPACES:
            deleted = settings[namespace].pop(key, None) is not None
            io.out(f"Deleted {int(deleted)} rows\n")
        case ["list", namespace] if namespace in _NAMESPACES:
            io.out("".join(f"{key}={value}\n" for key, value in sorted(settings[namespace].items())))
        case [("get" | "put" | "delete" | "list"), namespace, *_] if namespace not in _NAMESPACES:
            return io.fail(f"Invalid namespace '{namespace}'", JAVA_FAILURE)
        case _:
            return io.fail("usage:  settings [--user <USER_ID> | current] get namespace key\n"
                           "        settings [--user <USER_ID> | current] put namespace key value", JAVA_FAILURE)
    return 0


def _ime_info(ime: str) -> str:
    package, _, service = ime.partition("/")
    service = package + service if service.startswith(".") else service
    return (f"{ime}:\n  mId={ime} mSettingsActivityName=null mIsVrOnly=false "
            "mSupportsSwitchingToNextInputMethod=false\n  mIsDefaultResId=0x0\n  Service:\n"
            "    priority=0 preferredOrder=0 match=0x108000 specificIndex=-1 isDefault=false\n"
            f"    ServiceInfo:\n      name={service}\n      packageName={package}\n"
            "      enabled=true exported=true directBootAware=false\n"
            "      permission=android.permission.BIND_INPUT_METHOD\n")


def ime_command(io: CommandIO, args: list[str]) -> int:
    """`ime list [-a] [-s] | enable ID | disable ID | set ID | reset`."""
    args = _strip_user(args)
    system = phone_of(io).system
    match args:
        case ["list", *flags]:
            imes = system.installed_imes() if "-a" in flags else system.enabled_imes()
            for ime in imes:
                io.out(f"{ime}\n" if "-s" in flags else _ime_info(ime))
        case [("enable" | "disable") as verb, ime]:
            previously = system.enable_ime(ime, enabled=verb == "enable")
            if previously is None:
                return io.fail(f"Unknown input method {ime} cannot be {verb}d for user #0", JAVA_FAILURE)
            state = "already" if previously == (verb == "enable") else "now"
            io.out(f"Input method {ime}: {state} {verb}d for user #0\n")
        case ["set", ime]:
            if not system.select_ime(ime):
                return io.fail(f"Unknown input method {ime} cannot be selected for user #0", JAVA_FAILURE)
            phone_of(io).logs.write("I", "InputMethodManagerService", f"Switching to input method {ime} for user 0")
            io.out(f"Input method {ime} selected for user #0\n")
        case ["reset"]:
            system.reset_imes()
            io.out(f"Reset current and enabled IMEs for user #0\n  Selected: {system.current_ime()}\n")
            io.out("".join(f"   Enabled: {ime}\n" for ime in system.enabled_imes()))
        case _:
            return io.fail("ime <command>:\n  list [-a] [-s]\n  enable [--user <USER_ID>] <ID>\n"
                           "  disable [--user <USER_ID>] <ID>\n  set [--user <USER_ID>] <ID>\n  reset", JAVA_FAILURE)
    return 0


def _packages(io: CommandIO) -> list[str]:
    phone = phone_of(io)
    return sorted({*phone.ui.apps(), *phone.system.system_packages()})


def _apk_path(package: str) -> str:
    if is_system_package(package):
        return f"/system/priv-app/{package.rsplit('.', 1)[-1]}/{package.rsplit('.', 1)[-1]}.apk"
    return f"/data/app/~~sim==/{package}-1==/base.apk"


def pm_command(io: CommandIO, args: list[str]) -> int:
    """`pm list packages|path|clear|install|uninstall|resolve-activity …`."""
    args = _strip_user(args)
    phone = phone_of(io)
    match args:
        case ["list", "packages", *rest]:
            flags = {arg for arg in rest if arg.startswith("-")}
            words = [arg for arg in rest if not arg.startswith("-")]
            for package in _packages(io):
                if ("-3" in flags and is_system_package(package)) or ("-s" in flags and not is_system_package(package)):
                    continue
                if words and words[0] not in package:
                    continue
                prefix = f"{_apk_path(package)}=" if "-f" in flags else ""
                io.out(f"package:{prefix}{package}\n")
        case ["path", package]:
            if package not in _packages(io):
                return 1
            io.out(f"package:{_apk_path(package)}\n")
        case ["clear", package]:
            if package not in _packages(io):
                return io.fail("Failed", 1)
            phone.ui.clear_data(package)
            io.out("Success\n")
        case ["uninstall", *_, package]:
            if package in phone.system.apks:
                del phone.system.apks[package]
                phone.ui.uninstall(package)
                io.out("Success\n")
            elif package == ADB_KEYBOARD_PACKAGE and phone.system.adb_keyboard_installed:
                phone.system.set_adb_keyboard_installed(False)
                io.out("Success\n")
            else:
                io.out("Failure [DELETE_FAILED_INTERNAL_ERROR]\n")
                return 1
        case ["install", *_, path]:
            return _install(io, path)
        case ["resolve-activity", *rest]:
            return resolve_activity(io, rest)
        case ["query-activities", *rest] if "android.intent.category.HOME" in rest:
            # The launcher, and Settings' FallbackHome, which Android lists for HOME at a very low priority.
            launcher = short_component(LAUNCHER, phone.ui.apps()[LAUNCHER])
            _activities(io, [(0, True, launcher), (-1000, True, "com.android.settings/.FallbackHome")])
        case ["query-activities", *rest] if "android.intent.category.LAUNCHER" in rest:
            # A launcher activity's filter has no DEFAULT category.
            launchers = phone.ui.apps()
            _activities(io, [(0, False, short_component(package, launchers[package]))
                             for _label, package in phone.ui.launchable()])
        case _:
            return io.fail("usage: pm [list packages|path|clear|install|uninstall|resolve-activity] ...", JAVA_FAILURE)
    return 0


def _activities(io: CommandIO, found: list[tuple[int, bool, str]]) -> None:
    """What `query-activities --brief` prints for each (priority, isDefault, component)."""
    if not found:
        io.out("No activities found\n")
        return
    io.out(f"{len(found)} activities found:\n")
    for index, (priority, default, component) in enumerate(found):
        io.out(f"  Activity #{index}:\n    priority={priority} preferredOrder=0 match=0x108000 "
               f"specificIndex=-1 isDefault={str(default).lower()}\n    {component}\n")


def _install(io: CommandIO, path: str) -> int:
    """Install from the device's file system."""
    try:
        apk = io.session.fs.read(io.session.fs.normalize(path, io.session.cwd))
    except FsError:
        return io.fail(f"Error: Unable to open file: {path}\nConsider using a file under /data/local/tmp/", 1)
    return install_apk(io, apk)


def install_apk(io: CommandIO, apk: bytes) -> int:
    """Install any APK whose manifest parses: it gets a launcher icon and a generic screen."""
    try:
        info = read_apk(apk)
    except ApkError as exc:
        io.out(f"Failure [INSTALL_PARSE_FAILED_NOT_APK: Failed to parse /data/app/vmdl.tmp/base.apk: {exc}]\n")
        return 1
    phone = phone_of(io)
    package = info.package
    if package == ADB_KEYBOARD_PACKAGE:
        phone.system.set_adb_keyboard_installed(True)
    elif package in phone.ui.apps() and package not in phone.system.apks or is_system_package(package):
        io.out(f"Failure [INSTALL_FAILED_UPDATE_INCOMPATIBLE: Existing package {package} signatures do not match "
               "newer version; ignoring!]\n")
        return 1
    else:
        phone.system.apks[package] = info
        phone.ui.install(package, info.label, info.launcher)
    phone.logs.write("I", "PackageManager", f"installPackageLI: {package} versionCode={info.version_code}")
    io.out("Success\n")
    return 0


def resolve_activity(io: CommandIO, args: list[str]) -> int:
    """`cmd package resolve-activity [--brief] [-c CAT] [-a ACTION] [PKG]`; without PKG only HOME resolves."""
    values = {"-c", "-a", "-d", "-t", "--user"}
    positional = [arg for index, arg in enumerate(args)
                  if not arg.startswith("-") and (index == 0 or args[index - 1] not in values)]
    categories = {value for flag, value in zip(args, args[1:], strict=False) if flag == "-c"}
    apps = phone_of(io).ui.apps()
    package = positional[-1] if positional else LAUNCHER if "android.intent.category.HOME" in categories else ""
    if package not in apps:
        io.out("No activity found\n")
        return 0
    io.out("priority=0 preferredOrder=0 match=0x108000 specificIndex=-1 isDefault=true\n")
    io.out(f"{short_component(package, apps[package])}\n")
    return 0


def svc_command(io: CommandIO, args: list[str]) -> int:
    """`svc wifi|bluetooth enable|disable`: the same toggles as Settings."""
    keys = {"wifi": ("global", "wifi_on"), "bluetooth": ("global", "bluetooth_on")}
    match args:
        case [service, ("enable" | "disable") as verb] if service in keys:
            namespace, key = keys[service]
            return settings_command(io, ["put", namespace, key, "1" if verb == "enable" else "0"])
    return io.fail("usage: svc wifi|bluetooth enable|disable")


def getprop_command(io: CommandIO, args: list[str]) -> int:
    """`getprop [KEY [DEFAULT]]`."""
    props = phone_of(io).system.props
    if not args:
        io.out("".join(f"[{key}]: [{value}]\n" for key, value in sorted(props.items())))
        return 0
    io.out(props.get(args[0], args[1] if len(args) > 1 else "") + "\n")
    return 0


def setprop_command(io: CommandIO, args: list[str]) -> int:
    """`setprop KEY VALUE`: the shell user may not touch `ro.` properties."""
    if len(args) != 2:
        return io.fail("usage: setprop NAME VALUE")
    if args[0].startswith("ro."):
        return io.fail(f"Failed to set property '{args[0]}' to '{args[1]}'.")
    phone_of(io).system.props[args[0]] = args[1]
    return 0
