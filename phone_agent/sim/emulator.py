"""Posing as an emulator: the ports the adb server scans, the serial it gives, and the announcement at boot."""

from __future__ import annotations

import socket

EMULATOR_PORTS = range(5555, 5586, 2)


def emulator_serial(port: int) -> str | None:
    """The `emulator-N` serial of an announced phone on `port`, or None off the emulator ports."""
    return f"emulator-{port - 1}" if port in EMULATOR_PORTS else None


def announce(device_port: int, adb_server_port: int, host: str = "127.0.0.1") -> None:
    """Tell an adb server about an emulator-style device, as the real emulator does at boot.

    Raises:
        OSError: no adb server listens on that port.
    """
    request = f"host:emulator:{device_port}".encode()
    with socket.create_connection((host, adb_server_port), timeout=5) as sock:
        sock.sendall(b"%04x" % len(request) + request)
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(2)
        try:
            while sock.recv(4096):
                pass
        except OSError:
            pass  # the server answers nothing for this request; closing is all that is left
