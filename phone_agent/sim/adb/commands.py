"""The command table of the virtual phone's shell, and `cmd SERVICE …` which routes into it."""

from __future__ import annotations

from phone_agent.sim.adb.awk import awk_command
from phone_agent.sim.adb.command_io import CommandFn, CommandIO, unlocked
from phone_agent.sim.adb.coreutils import COREUTILS
from phone_agent.sim.adb.cut_tr import cut_command, tr_command
from phone_agent.sim.adb.input_cmds import am_command, input_command, monkey_command
from phone_agent.sim.adb.log_cmds import log_command, logcat_command
from phone_agent.sim.adb.record_cmd import screenrecord_command
from phone_agent.sim.adb.sed import sed_command
from phone_agent.sim.adb.sysinfo_cmds import (
    df_command,
    ifconfig_command,
    ip_command,
    pidof_command,
    ps_command,
    uptime_command,
)
from phone_agent.sim.adb.system_cmds import (
    getprop_command,
    ime_command,
    pm_command,
    setprop_command,
    settings_command,
    svc_command,
)
from phone_agent.sim.adb.window_cmds import dumpsys_command, screencap_command, uiautomator_command, wm_command
from phone_agent.sim.scrcpy.server import app_process_command

# `cmd SERVICE` names the binder service; these are the ones whose shell commands exist here.
_CMD_SERVICES: dict[str, CommandFn] = {
    "package": pm_command,
    "input": input_command,
    "activity": am_command,
    "window": wm_command,
    "settings": settings_command,
    "input_method": ime_command,
    "statusbar": lambda io, args: 0,
}


def cmd_command(io: CommandIO, args: list[str]) -> int:
    """`cmd SERVICE ARGS…` and `cmd -l`."""
    if not args or args[0] == "-l":
        io.out("".join(f"{name}\n" for name in sorted(_CMD_SERVICES)))
        return 0
    service = _CMD_SERVICES.get(args[0])
    if service is None:
        return io.fail(f"cmd: Can't find service: {args[0]}", 20)
    return service(io, args[1:])


# Like the coreutils, the text tools touch no phone state and may wait on stdin: no lock.
TEXT_TOOLS = {name: unlocked(function) for name, function in
              {"sed": sed_command, "cut": cut_command, "tr": tr_command, "awk": awk_command}.items()}

COMMANDS: dict[str, CommandFn] = {
    **COREUTILS,
    **TEXT_TOOLS,
    "input": input_command,
    "am": am_command,
    "monkey": monkey_command,
    "dumpsys": dumpsys_command,
    "wm": wm_command,
    "screencap": screencap_command,
    "screenrecord": screenrecord_command,
    "uiautomator": uiautomator_command,
    "settings": settings_command,
    "ime": ime_command,
    "pm": pm_command,
    "getprop": getprop_command,
    "setprop": setprop_command,
    "svc": svc_command,
    "cmd": cmd_command,
    "app_process": app_process_command,
    "logcat": logcat_command,
    "log": log_command,
    "ps": ps_command,
    "pidof": pidof_command,
    "uptime": uptime_command,
    "df": df_command,
    "ifconfig": ifconfig_command,
    "ip": ip_command,
    # `adb remount` runs this (the remount_shell feature); a user build refuses it the same way.
    "remount": lambda io, args: io.fail('Not running as root. Try "adb root" first.'),
}
