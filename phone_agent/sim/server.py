"""`serve()`: start virtual phones in the foreground for `phone-agent sim`, until stopped."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

from phone_agent.sim.control import ControlServer
from phone_agent.sim.emulator import EMULATOR_PORTS
from phone_agent.sim.phone import VirtualPhone
from phone_agent.sim.profiles import DEFAULT_PROFILE, get_profile
from phone_agent.sim.testing import port_is_free

PrintFn = Callable[[str], None]


def adb_server_running(port: int, host: str = "127.0.0.1") -> bool:
    """True when something answers the adb server protocol on host:port."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1) as sock:
        sock.settimeout(1)
        sock.sendall(b"000chost:version")
        return sock.recv(4) == b"OKAY"
    return False


def plan_ports(phones: int, port: int | None) -> list[int]:
    """The port of each phone: `port`, `port+2`, … when given; else free emulator ports, then 0 (any)."""
    if port is not None:
        return [port + 2 * index for index in range(phones)]
    free = [candidate for candidate in EMULATOR_PORTS if port_is_free(candidate) and port_is_free(candidate - 1)]
    return [free[index] if index < len(free) else 0 for index in range(phones)]


def serve(phones: int = 1, port: int | None = None, size: tuple[int, int] = (1080, 2400), adb_keyboard: bool = True,
          latency_ms: int = 0, adb_server_port: int = 5037, print_fn: PrintFn = print,
          stop_event: threading.Event | None = None, control_port: int = 0,
          on_ready: Callable[[list[VirtualPhone], ControlServer], None] | None = None,
          profile: str = DEFAULT_PROFILE) -> int:
    """Run `phones` virtual phones plus the control endpoint until `stop_event` is set or Ctrl-C; return 0.

    `profile` names what each command costs, as on that class of phone (see `phone_agent.sim.profiles`).

    Phones on emulator ports (5555-5585) announce themselves to a running adb server and show as
    `emulator-N`; the others print the `adb connect` line to use.

    Raises:
        OSError: a requested port is taken.
        ValueError: no phones, or an unknown profile.
    """
    get_profile(profile)
    if phones < 1:
        raise ValueError("phones must be at least 1")
    stop_event = stop_event or threading.Event()
    server_up = adb_server_running(adb_server_port)
    started: list[VirtualPhone] = []
    control: ControlServer | None = None
    try:
        for index, phone_port in enumerate(plan_ports(phones, port)):
            phone = VirtualPhone(size[0], size[1], adb_keyboard=adb_keyboard, latency_ms=latency_ms,
                                 name=f"sim{index + 1}", profile=profile)
            emulator = phone_port in EMULATOR_PORTS
            phone.start(port=phone_port, announce_to_adb_port=adb_server_port if emulator and server_up else None)
            started.append(phone)
        # Only now: the control server keeps its own list of the phones it is given.
        control = ControlServer(started)
        control.start(port=control_port)
        _print_usage(print_fn, started, control, server_up, adb_server_port, size, adb_keyboard, latency_ms, profile)
        if on_ready is not None:
            on_ready(started, control)
        with contextlib.suppress(KeyboardInterrupt):
            while not stop_event.wait(0.1):
                pass
    finally:
        if control is not None:
            control.stop()
        for phone in started:
            phone.stop()
        print_fn(f"Stopped {len(started)} virtual phone(s).")
    return 0


def _print_usage(print_fn: PrintFn, phones: list[VirtualPhone], control: ControlServer, server_up: bool,
                 adb_server_port: int, size: tuple[int, int], adb_keyboard: bool, latency_ms: int,
                 profile: str) -> None:
    keyboard = "ADB Keyboard installed" if adb_keyboard else "no ADB Keyboard"
    print_fn(f"Virtual phones ({size[0]}x{size[1]}, {keyboard}, transition latency {latency_ms} ms, "
             f"costs of a {profile} phone):")
    waiting: list[VirtualPhone] = []
    for index, phone in enumerate(phones):
        if phone.serial.startswith("emulator-"):
            print_fn(f"  [{index}] {phone.serial}  (port {phone.port}, announced to the adb server)")
        elif phone.port in range(5555, 5586, 2) and not server_up:
            waiting.append(phone)
            print_fn(f"  [{index}] emulator-{phone.port - 1}  (port {phone.port}) once an adb server starts, "
                     f"or: adb connect 127.0.0.1:{phone.port}")
        else:
            print_fn(f"  [{index}] 127.0.0.1:{phone.port}  -> run: adb connect 127.0.0.1:{phone.port}")
    if waiting:
        print_fn(f"No adb server answers on port {adb_server_port}: `adb devices` starts one, "
                 "and it finds the phones on emulator ports by itself.")
    example = phones[0].serial if phones[0].serial.startswith("emulator-") or not waiting else \
        f"emulator-{phones[0].port - 1}"
    print_fn(f"Try: adb -s {example} shell input keyevent HOME ; adb -s {example} exec-out screencap -p > screen.png")
    print_fn(f"Control endpoint: {control.url}/phones  (GET .../0/state, POST .../0/reset, .../0/faults, "
             ".../0/signed_in, .../0/popup, .../0/shell)")
    print_fn("Press Ctrl-C to stop.")
