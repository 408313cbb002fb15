"""Choosing the phones a command runs on: named ones, every ready one, across one or more adb servers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from phone_agent.device.adb_server import QuietAdbClient, list_devices
from phone_agent.errors import ConfigError, NoDeviceError


@dataclass(frozen=True)
class AdbServerAddress:
    """Where an adb server listens: this computer's, a remote one started with `adb -a`, or a device farm's."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def parse(cls, text: str, default_port: int) -> AdbServerAddress:
        """``HOST``, ``HOST:PORT`` or ``[IPv6]:PORT``.

        Raises:
            ConfigError: the text is not an address.
        """
        given = text.strip()
        if given.startswith("["):
            host, _, rest = given[1:].partition("]")
            port = rest.removeprefix(":")
        elif given.count(":") == 1:
            host, port = given.split(":")
        else:
            host, port = given, ""  # a name, or an IPv6 address without a port
        if not host or (port and not (port.isdigit() and 1 <= int(port) <= 65535)):
            raise ConfigError(f"--adb-host {text!r}: give HOST or HOST:PORT, e.g. 10.0.0.5:5037.")
        return cls(host, int(port) if port else default_port)


@dataclass(frozen=True)
class PhoneTarget:
    """One phone: its serial and the adb server that reaches it; ``label`` names it for people."""

    serial: str
    server: AdbServerAddress
    label: str


def choose_phones(
    servers: Sequence[AdbServerAddress], serials: Sequence[str], *, all_devices: bool
) -> list[PhoneTarget]:
    """The phones to use: the named serials, or every ready one with ``all_devices``, or the only one.

    With one server, named serials are used as they are (opening them checks they are there). With
    several, each is looked up; ``HOST:PORT/SERIAL`` picks a serial that more than one server lists.
    A serial is labelled with its server when it appears on more than one.

    Raises:
        NoDeviceError: a named phone is on no server, or none (or several) are ready when none is named.
        ConfigError: a named serial is on several servers.
        DeviceError: a server cannot be reached.
    """
    if len(servers) == 1 and serials and not all_devices:
        return _labelled([(serial, servers[0]) for serial in dict.fromkeys(serials)])
    ready = [
        (info.serial, server)
        for server in servers
        for info in list_devices(QuietAdbClient(host=server.host, port=server.port))
        if info.state == "device"
    ]
    where = ", ".join(map(str, servers))
    if all_devices:
        if not ready:
            raise NoDeviceError(f"--all-devices: no device is ready on {where}. Check `phone-agent devices`.")
        return _labelled(ready)
    if not serials:
        if not ready:
            raise NoDeviceError(
                f"No Android device is ready on {where}. Connect a phone with USB debugging on, start an emulator, "
                "or `adb connect HOST:PORT`; then check `phone-agent devices`."
            )
        if len(ready) > 1:
            found = ", ".join(f"{server}/{serial}" for serial, server in ready) or "none"
            raise NoDeviceError(f"Choose the phone with --device or use --all-devices (ready on {where}: {found}).")
        return _labelled(ready)
    return _labelled([_find(serial, ready, where) for serial in dict.fromkeys(serials)])


def _find(wanted: str, ready: list[tuple[str, AdbServerAddress]], where: str) -> tuple[str, AdbServerAddress]:
    matches = [(serial, server) for serial, server in ready if wanted in (serial, f"{server}/{serial}")]
    if not matches:
        raise NoDeviceError(f"Device {wanted!r} is not ready on {where}. Check `phone-agent devices`.")
    if len(matches) > 1:
        choices = " or ".join(f"{server}/{serial}" for serial, server in matches)
        raise ConfigError(f"Device {wanted!r} is on several adb servers: choose {choices}.")
    return matches[0]


def _labelled(phones: list[tuple[str, AdbServerAddress]]) -> list[PhoneTarget]:
    seen = Counter(serial for serial, _ in phones)
    return [
        PhoneTarget(serial, server, f"{server}/{serial}" if seen[serial] > 1 else serial) for serial, server in phones
    ]
