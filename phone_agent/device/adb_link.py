"""``AdbLink``: streams to one phone through an adb server, without adbutils' per-call overhead.

Each call opens one stream (``host:transport:SERIAL`` then the service) and reads it until the
phone closes it; shell commands go over ``shell,v2`` when the phone supports it, so exit codes are
real. adbutils errors become :mod:`phone_agent.errors` here.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from pathlib import Path

import adbutils

from actions.device import ShellResult
from phone_agent.errors import DeviceError


class AdbLink:
    """The streams of one phone (``serial``) reached through ``client``'s adb server."""

    def __init__(self, client: adbutils.AdbClient, serial: str) -> None:
        self.client = client
        self.serial = serial
        self._shell_v2 = "shell_v2" in self._features()

    def shell(self, command: str) -> ShellResult:
        """Run a shell command: its output (stdout then stderr) and, with shell v2, its exit code.

        Raises:
            DeviceError: the phone or the adb server cannot be reached, or the stream broke off.
        """
        if not self._shell_v2:
            return ShellResult(self.read(f"shell:{command}").decode("utf-8", "replace"), None)
        return decode_shell_v2(self.read(f"shell,v2,raw:{command}"))

    def read(self, service: str, opened: Callable[[], None] | None = None) -> bytes:
        """Open one stream to the phone, send ``service`` (then call ``opened``: it runs) and read until the phone
        closes it.

        Raises:
            DeviceError: the phone or the adb server cannot be reached.
        """
        try:
            sock = self.open_stream(service)
            if opened is not None:
                opened()
            try:
                return _read_to_end(sock)
            finally:
                # The phone has closed the stream: no need for adbutils' shutdown-and-sleep dance.
                sock.close()
        except (adbutils.AdbError, OSError) as exc:
            raise DeviceError(f"Lost contact with {self.serial} ({exc}). Check the cable or `adb devices`.") from exc

    def open_stream(self, service: str) -> socket.socket:
        """Open a stream to the phone's ``service`` (``shell:...``, ``localabstract:NAME``); its socket.

        Raises:
            adbutils.AdbError: the phone refused the service (nothing listens there).
            OSError: the adb server cannot be reached.
        """
        conn = self.client.make_connection()
        try:
            conn.send_command(f"host:transport:{self.serial}")
            conn.check_okay()
            conn.send_command(service)
            conn.check_okay()
        except BaseException:
            conn.conn.close()
            raise
        return conn.conn

    def push(self, local: Path, remote: str) -> None:
        """Copy a file to the phone (mode 0644).

        Raises:
            DeviceError: the copy failed.
        """
        try:
            adbutils.AdbDevice(self.client, self.serial).sync.push(local, remote, mode=0o644)
        except (adbutils.AdbError, OSError) as exc:
            raise DeviceError(f"Cannot copy {local.name} to {self.serial}:{remote} ({exc}).") from exc

    def _features(self) -> set[str]:
        try:
            with self.client.make_connection() as conn:
                conn.send_command(f"host-serial:{self.serial}:features")
                conn.check_okay()
                return set(conn.read_string_block().split(","))
        except adbutils.AdbError as exc:
            raise DeviceError(f"Cannot talk to {self.serial} through the adb server: {exc}") from exc


def _read_to_end(sock: socket.socket) -> bytes:
    sock.settimeout(30)
    chunks = []
    while chunk := sock.recv(1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def decode_shell_v2(data: bytes) -> ShellResult:
    """Split shell-v2 frames (id byte, uint32 length, payload) into output and exit code.

    Raises:
        DeviceError: the stream ended without an exit code (the connection dropped mid-command).
    """
    output = bytearray()
    exit_code = None
    offset = 0
    while offset + 5 <= len(data):
        kind, length = struct.unpack_from("<BI", data, offset)
        payload = data[offset + 5 : offset + 5 + length]
        offset += 5 + length
        if kind in (1, 2):
            output += payload
        elif kind == 3 and payload:
            exit_code = payload[0]
    if exit_code is None:
        raise DeviceError("The connection to the phone dropped in the middle of a command. Check `adb devices`.")
    return ShellResult(output.decode("utf-8", "replace"), exit_code)
