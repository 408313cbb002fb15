"""`ps`, `pidof`, `uptime`, `df`, `ifconfig` and `ip`: what a tester reads about the running phone."""

from __future__ import annotations

import time

from phone_agent.sim.adb.command_io import CommandIO
from phone_agent.sim.adb.common import app_pid, phone_of

# The emulator's user-mode network: the phone is 10.0.2.16 on wlan0.
WLAN_IP = "10.0.2.16"
WLAN_MAC = "02:15:b2:00:00:00"
_SYSTEM_PROCESSES = ((1, "init"), (312, "/system/bin/adbd"), (1234, "system_server"),
                     (1890, "com.android.systemui"))


def _running(io: CommandIO) -> list[tuple[int, str]]:
    """(pid, name) of the system's and the running apps' processes."""
    packages = dict.fromkeys(package for package, _ in phone_of(io).ui.back_stack())
    return [*_SYSTEM_PROCESSES, *((app_pid(package), package) for package in packages)]


def ps_command(io: CommandIO, args: list[str]) -> int:
    """`ps [-A] [NAME…]` in toybox's columns."""
    names = [arg for arg in args if not arg.startswith("-")]
    io.out("USER           PID  PPID     VSZ    RSS WCHAN            ADDR S NAME\n")
    for pid, name in _running(io):
        if names and name not in names:
            continue
        user = "root" if pid < 1000 else "system" if pid < 2000 else "u0_a123"
        io.out(f"{user:<10} {pid:>6} {1 if pid > 1 else 0:>5} 1234567  98765 do_epoll_wait       0 S {name}\n")
    return 0


def pidof_command(io: CommandIO, args: list[str]) -> int:
    """`pidof NAME…`: 1 when none runs."""
    pids = [str(pid) for pid, name in _running(io) if name in args]
    if pids:
        io.out(" ".join(pids) + "\n")
    return 0 if pids else 1


def uptime_command(io: CommandIO, args: list[str]) -> int:
    """`uptime`: time since the phone booted."""
    seconds = int(phone_of(io).uptime())
    clock = time.strftime("%H:%M:%S", time.localtime())
    io.out(f" {clock} up {seconds // 86400} days, {seconds // 3600 % 24:2d}:{seconds // 60 % 60:02d},  "
           "0 users,  load average: 0.42, 0.37, 0.31\n")
    return 0


def df_command(io: CommandIO, args: list[str]) -> int:
    """`df [-h]`: the partitions of a phone with plenty of room."""
    rows = (("/dev/block/dm-0", 2_000_000, 1_800_000, "/"), ("tmpfs", 1_000_000, 1_000, "/dev"),
            ("/dev/block/dm-5", 50_000_000, 12_000_000, "/data"),
            ("/dev/fuse", 50_000_000, 12_000_000, "/storage/emulated"))
    human = "-h" in args
    io.out("Filesystem" + ("        Size  Used Avail Use% Mounted on\n" if human else
                           "      1K-blocks    Used Available Use% Mounted on\n"))
    for name, size, used, mount in rows:
        share = f"{used * 100 // size}%"
        if human:
            io.out(f"{name:<16} {size / 1e6:4.1f}G {used / 1e6:4.1f}G {(size - used) / 1e6:4.1f}G {share:>4} {mount}\n")
        else:
            io.out(f"{name:<16} {size:>9} {used:>8} {size - used:>9} {share:>4} {mount}\n")
    return 0


def _wifi_on(io: CommandIO) -> bool:
    settings = phone_of(io).system.settings["global"]
    toggles = phone_of(io).ui.state().get("toggles", {})
    wifi = toggles.get("wifi", settings.get("wifi_on") == "1")
    airplane = toggles.get("airplane_mode", settings.get("airplane_mode_on") == "1")
    return bool(wifi and not airplane)


def ifconfig_command(io: CommandIO, args: list[str]) -> int:
    """`ifconfig [IFACE]`: lo, and wlan0 while Wi-Fi is on."""
    blocks = {"lo": "lo        Link encap:Local Loopback\n          inet addr:127.0.0.1  Mask:255.0.0.0\n"
                    "          UP LOOPBACK RUNNING  MTU:65536  Metric:1\n"}
    if _wifi_on(io):
        blocks["wlan0"] = (f"wlan0     Link encap:Ethernet  HWaddr {WLAN_MAC}\n"
                           f"          inet addr:{WLAN_IP}  Bcast:10.0.2.255  Mask:255.255.255.0\n"
                           "          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1\n")
    wanted = [arg for arg in args if not arg.startswith("-")]
    for name in wanted or list(blocks):
        if name not in blocks:
            return io.fail(f"ifconfig: {name}: No such device")
        io.out(blocks[name] + "\n")
    return 0


def ip_command(io: CommandIO, args: list[str]) -> int:
    """`ip addr [show [dev] IFACE]` and `ip route`."""
    words = [arg for arg in args if arg not in ("show", "dev", "-4", "-o")]
    if words[:1] in (["route"], ["r"]):
        if _wifi_on(io):
            io.out(f"10.0.2.0/24 dev wlan0 proto kernel scope link src {WLAN_IP}\n")
        return 0
    if words[:1] not in (["addr"], ["a"], ["address"]):
        return io.fail('Object "{}" is unknown, try "ip help".'.format(words[0] if words else ""), 255)
    interfaces = {"lo": ("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 state UNKNOWN\n"
                         "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
                         "    inet 127.0.0.1/8 scope host lo\n")}
    if _wifi_on(io):
        interfaces["wlan0"] = (f"2: wlan0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP\n"
                               f"    link/ether {WLAN_MAC} brd ff:ff:ff:ff:ff:ff\n"
                               f"    inet {WLAN_IP}/24 brd 10.0.2.255 scope global wlan0\n")
    for name in words[1:] or list(interfaces):
        if name not in interfaces:
            return io.fail(f'Device "{name}" does not exist.')
        io.out(interfaces[name])
    return 0
