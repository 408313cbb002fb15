"""The adb server side: making sure one runs, listing what it sees, and what each device state means."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
from typing import Any

import adbutils

from phone_agent.errors import DeviceError

log = logging.getLogger(__name__)

# How adb names a device it found by mDNS (Android 11+ wireless debugging): adb-SERIAL-xxxx._adb-tls-connect._tcp.
_MDNS_SERVICES = ("._adb-tls-connect._tcp", "._adb._tcp")

DEVICE_STATE_ADVICE = {
    "unauthorized": "accept the 'Allow USB debugging?' prompt on the phone (tick 'Always allow'), then retry",
    "offline": "unplug and replug the cable, or run `adb kill-server` and retry",
    "no permissions": "fix the USB permissions (udev rules on Linux) and replug the phone",
}


def ensure_server(host: str, port: int) -> None:
    """Start the adb server if nothing listens on the standard port (5037 or ANDROID_ADB_SERVER_PORT).

    adbutils would otherwise start one itself, but always on the default port. Any other port must
    already have a server: a mistyped ``--adb-port`` should be an error, not a stray daemon.

    Raises:
        DeviceError: no server runs there and none can be started.
    """
    if _listening(host, port):
        return
    standard = {5037, int(os.environ.get("ANDROID_ADB_SERVER_PORT", "5037") or 5037)}
    if host not in ("127.0.0.1", "localhost", "::1") or port not in standard:
        raise DeviceError(
            f"No adb server answers at {host}:{port}. Start one with `adb -P {port} start-server`, or check --adb-port."
        )
    try:
        # Quietly: adb's own "* daemon not running; starting now" lines would land in the agent's output.
        subprocess.run([adbutils.adb_path(), "-P", str(port), "start-server"], capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        raise DeviceError(f"Cannot start the adb server on port {port}: {exc}") from exc
    log.warning("Started the adb server on port %d (none was running).", port)


class _ConnectionWithoutStart(adbutils.AdbConnection):
    """A connection to the adb server that fails, rather than runs ``adb start-server`` noisily, when none answers."""

    def _safe_connect(self) -> Any:
        return self._create_socket()


class QuietAdbClient(adbutils.AdbClient):
    """An adbutils client that never starts an adb server by itself (``ensure_server`` does, quietly)."""

    def make_connection(self, timeout: float | None = None) -> adbutils.AdbConnection:
        connection = _ConnectionWithoutStart(self.host, self.port)
        if timeout:
            connection.conn.settimeout(timeout)
        return connection


def reattach(client: adbutils.AdbClient, serial: str, timeout: float = 10.0) -> bool:
    """After the adb server went away: start it again and wait for the device to come back.

    A network device is connected again, as a new server does not know it. False at once when the
    server is still there: then the phone itself is gone, and waiting will not help.
    """
    if _listening(client.host, client.port):
        return False
    try:
        ensure_server(client.host, client.port)
        if is_network_serial(serial):
            client.connect(serial, timeout=timeout)
        # The server's own wait (host-serial:S:wait-for-any-device) answers as soon as the phone is back.
        client.wait_for(serial, state="device", timeout=timeout)
    except (DeviceError, adbutils.AdbError, OSError):
        return False
    return True


def is_network_serial(serial: str) -> bool:
    """True for a device adb reaches over the network: ``HOST:PORT``, or a wireless-debugging mDNS service name."""
    return ":" in serial or serial.rstrip(".").endswith(_MDNS_SERVICES)  # older adb ends the name with a dot


def _listening(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return False
    return True


def list_devices(client: adbutils.AdbClient) -> list[adbutils.AdbDeviceInfo]:
    """Every device the adb server knows, in any state; starts a local server when none runs.

    Raises:
        DeviceError: the adb server cannot be reached or started.
    """
    ensure_server(client.host, client.port)
    try:
        return client.list(extended=True)
    except (adbutils.AdbError, OSError) as exc:
        raise DeviceError(
            f"Cannot reach the adb server at {client.host}:{client.port} ({exc}). "
            "Start it with `adb start-server` or check ANDROID_ADB_SERVER_PORT."
        ) from exc
