"""`dumpsys`, `wm`, `screencap` and `uiautomator`: what a client reads back from the screen."""

from __future__ import annotations

import time

from phone_agent.sim.adb.command_io import CommandIO, unlocked
from phone_agent.sim.adb.common import phone_of, short_component, task_id, window_token
from phone_agent.sim.adb.fs import FsError


def _focus_lines(io: CommandIO) -> tuple[str, str]:
    package, activity = phone_of(io).ui.foreground()
    window = f"Window{{{window_token(package)} u0 {package}/{activity}}}"
    record = f"ActivityRecord{{{window_token(activity)} u0 {short_component(package, activity)} t{task_id(package)}}}"
    return window, record


def _dumpsys_window(io: CommandIO) -> None:
    phone = phone_of(io)
    window, record = _focus_lines(io)
    width, height = phone.system.screen_size()
    secure = " SECURE" if phone.ui.is_secure() else ""
    io.out(
        "WINDOW MANAGER WINDOWS (dumpsys window windows)\n"
        f"  Window #0 {window}:\n"
        "    mDisplayId=0 mSession=Session{5e1a3 4321:u0a10123} mClient=android.os.BinderProxy@1c2d\n"
        f"    mAttrs={{(0,0)(fillxfill) sim={{adjust=pan}} ty=BASE_APPLICATION fmt=TRANSLUCENT "
        f"fl=LAYOUT_IN_SCREEN{secure}}}\n"
        f"    mHasSurface=true isReadyForDisplay()=true\n"
        "  Window #1 Window{7f3e u0 StatusBar}:\n"
        "    mDisplayId=0 ty=STATUS_BAR\n"
        "\n"
        f"  mGlobalConfiguration={{1.0 ?mcc?mnc [en_US] ldltr sw411dp w411dp h914dp 420dpi nrml port}}\n"
        f"  init={phone.system.display.width}x{phone.system.display.height} 420dpi cur={width}x{height} "
        f"app={width}x{height} rng={width}x{height}-{height}x{width}\n"
        "  mTopFocusedDisplayId=0\n"
        f"  mRotation={phone.system.display.orientation}\n"
        f"  isKeyguardShowing={str(phone.ui.locked).lower()} mShowingLockscreen={str(phone.ui.locked).lower()}\n"
        f"  mCurrentFocus={window}\n"
        f"  mFocusedApp={record}\n"
    )


def _dumpsys_activity(io: CommandIO, section: str) -> None:
    phone = phone_of(io)
    package, activity = phone.ui.foreground()
    _, record = _focus_lines(io)
    if section == "top":
        io.out(f"TASK 10123:{package} id={task_id(package)} userId=0\n"
               f"  ACTIVITY {short_component(package, activity)} {window_token(activity)} pid=4321\n")
        return
    io.out("ACTIVITY MANAGER ACTIVITIES (dumpsys activity activities)\nDisplay #0 (activities from top to bottom):\n")
    for index, (stacked_package, stacked_activity) in enumerate(reversed(phone.ui.back_stack())):
        component = short_component(stacked_package, stacked_activity)
        io.out(f"  * Hist  #{index}: ActivityRecord{{{window_token(stacked_activity)} u0 {component} "
               f"t{task_id(stacked_package)}}}\n")
    io.out(f"\n  ResumedActivity: {record}\n  mResumedActivity: {record}\n  mFocusedApp={record}\n")


def _dumpsys_display(io: CommandIO) -> None:
    display = phone_of(io).system.display
    width, height = phone_of(io).ui.width, phone_of(io).ui.height  # the logical size, rotated
    density = display.override_density or display.density
    io.out(
        "DISPLAY MANAGER (dumpsys display)\n"
        "  mOnlyCode=false\n  mSafeMode=false\n"
        f'  DisplayDeviceInfo{{"Built-in Screen": uniqueId="local:0", {display.width} x {display.height}, '
        f"modeId 1, density {display.density}, FLAG_DEFAULT_DISPLAY}}\n"
        f"  mViewports=[DisplayViewport{{type=INTERNAL, valid=true, isActive=true, displayId=0, "
        f"orientation={display.orientation}, logicalFrame=Rect(0, 0 - {width}, {height}), "
        f"deviceWidth={display.width}, deviceHeight={display.height}}}]\n"
        f'  mOverrideDisplayInfo=DisplayInfo{{"Built-in Screen", displayId 0, real {width} x {height}, '
        f"rotation {display.orientation}, density {density}}}\n"
    )


def _dumpsys_input_method(io: CommandIO) -> None:
    phone = phone_of(io)
    window, _ = _focus_lines(io)
    focused = phone.ui.state().get("focused_field") is not None
    io.out(
        "Current Input Method Manager state:\n"
        f"  mCurMethodId={phone.system.current_ime()}\n"
        f"  mCurFocusedWindow={window}\n"
        f"  mInputShown={str(focused).lower()}\n"
        f"  mEnabledInputMethods={':'.join(phone.system.enabled_imes())}\n"
    )


def _dumpsys_package(io: CommandIO, package: str) -> int:
    phone = phone_of(io)
    if package not in phone.ui.apps() and package not in phone.system.system_packages():
        io.out(f"Unable to find package: {package}\n")
        return 0
    activities = phone.ui.activities(package)
    io.out("Activity Resolver Table:\n  Non-Data Actions:\n      android.intent.action.MAIN:\n")
    for activity in activities:
        io.out(f"        {window_token(activity)} {short_component(package, activity)} filter 1a2b\n")
    apk = phone.system.apks.get(package)
    io.out(
        f"Packages:\n  Package [{package}] ({window_token(package)}):\n"
        f"    userId=10123\n    versionCode={apk.version_code if apk else 1} minSdk=24 targetSdk=34\n"
        f"    versionName={apk.version_name if apk else '1.0'}\n"
        "    pkgFlags=[ HAS_CODE ALLOW_CLEAR_USER_DATA ]\n"
        "    firstInstallTime=2024-01-01 00:00:00\n    lastUpdateTime=2024-01-01 00:00:00\n"
        f"    signatures=PackageSignatures{{{window_token(package)} version:2, signatures:[{window_token(package)}], "
        "past signatures:[]}\n"
    )
    if apk and apk.permissions:
        io.out("    requested permissions:\n" + "".join(f"      {name}\n" for name in apk.permissions))
    return 0


def dumpsys_command(io: CommandIO, args: list[str]) -> int:
    """`dumpsys window|activity|display|input_method|power|battery|package …`."""
    service = args[0] if args else ""
    section = args[1] if len(args) > 1 else ""
    match service:
        case "window":
            _dumpsys_window(io)
        case "activity":
            _dumpsys_activity(io, section)
        case "display":
            _dumpsys_display(io)
        case "input_method":
            _dumpsys_input_method(io)
        case "power":
            on = phone_of(io).ui.screen_on
            io.out(f"POWER MANAGER (dumpsys power)\n  mWakefulness={'Awake' if on else 'Asleep'}\n"
                   f"  mHoldingWakeLockSuspendBlocker=false\n  mHoldingDisplaySuspendBlocker={str(on).lower()}\n"
                   f"Display Power: state={'ON' if on else 'OFF'}\n")
        case "battery":
            io.out("Current Battery Service state:\n  AC powered: true\n  USB powered: false\n"
                   "  Wireless powered: false\n  Max charging current: 0\n  status: 2\n  health: 2\n"
                   "  present: true\n  level: 100\n  scale: 100\n  voltage: 4400\n  temperature: 250\n"
                   "  technology: Li-ion\n")
        case "package" if section:
            return _dumpsys_package(io, section)
        case "-l":
            io.out("Currently running services:\n  activity\n  battery\n  display\n  input_method\n"
                   "  package\n  power\n  window\n")
        case _:
            io.err(f"Can't find service: {service}\n")
    return 0


def wm_command(io: CommandIO, args: list[str]) -> int:
    """`wm size [WxH|reset]` and `wm density [N|reset]`."""
    display = phone_of(io).system.display
    match args:
        case ["size"]:
            io.out(f"Physical size: {display.width}x{display.height}\n")
            if display.override_size:
                io.out(f"Override size: {display.override_size[0]}x{display.override_size[1]}\n")
        case ["size", "reset"]:
            display.override_size = None
            phone_of(io).apply_display()
        case ["size", value]:
            width, _, height = value.partition("x")
            if not (width.isdigit() and height.isdigit()):
                return io.fail(f"Error: bad size {value}", 255)
            display.override_size = (int(width), int(height))
            phone_of(io).apply_display()
        case ["density"]:
            io.out(f"Physical density: {display.density}\n")
            if display.override_density:
                io.out(f"Override density: {display.override_density}\n")
        case ["density", "reset"]:
            display.override_density = None
            phone_of(io).apply_display()
        case ["density", value] if value.isdigit():
            display.override_density = int(value)
            phone_of(io).apply_display()
        case ["dismiss-keyguard"]:
            phone_of(io).ui.key(82)
        case _:
            return io.fail("Error: unknown or malformed wm command", 255)
    return 0


@unlocked
def screencap_command(io: CommandIO, args: list[str]) -> int:
    """`screencap [-p] [-d ID] [FILE]`: PNG (or raw RGBA) to stdout or to a file."""
    png = "-p" in args
    positional = [arg for index, arg in enumerate(args)
                  if not arg.startswith("-") and (index == 0 or args[index - 1] != "-d")]
    path = positional[0] if positional else None
    if path and path.endswith(".png"):
        png = True
    phone = phone_of(io)
    delay_ms = phone.faults.screencap_delay_ms
    if delay_ms:
        time.sleep(delay_ms / 1000)
    if phone.faults.screencap_fails:
        return io.fail("Error: failed to take screenshot (status=-1)")
    data = phone.screencap(png=png)
    if path is None:
        io.out(data)
        return 0
    try:
        with phone.lock:
            phone.system.fs.write(io.session.fs.normalize(path, io.session.cwd), data)
    except FsError as exc:
        return io.fail(f"Error opening file: {path} ({exc.strerror})")
    return 0


def uiautomator_command(io: CommandIO, args: list[str]) -> int:
    """`uiautomator dump [--compressed] [FILE]` (default /sdcard/window_dump.xml)."""
    if not args or args[0] != "dump":
        return io.fail("Usage: uiautomator <subcommand> [options]\n  dump [--compressed] [file]")
    positional = [arg for arg in args[1:] if not arg.startswith("--")]
    path = positional[0] if positional else "/sdcard/window_dump.xml"
    xml = phone_of(io).ui.hierarchy_xml().encode()
    if path == "/dev/tty":
        io.out(xml)
    else:
        try:
            io.session.fs.write(io.session.fs.normalize(path, io.session.cwd), xml)
        except FsError as exc:
            return io.fail(f"ERROR: could not write {path}: {exc.strerror}")
    # Android's own message misspells "hierarchy"; clients match on it.
    io.out(f"UI hierchary dumped to: {path}\n")
    return 0
