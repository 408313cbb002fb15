"""ADB transport messages: the 24-byte header, command names and the device banner."""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEADER = struct.Struct("<6I")

CNXN = 0x4E584E43
AUTH = 0x48545541
OPEN = 0x4E45504F
OKAY = 0x59414B4F
CLSE = 0x45534C43
WRTE = 0x45545257
STLS = 0x534C5453

VERSION = 0x01000001
MAX_DATA = 1024 * 1024

# Only features this package implements; advertising e.g. delayed_ack makes adb 36 fault.
FEATURES = (
    "shell_v2",
    "cmd",
    "stat_v2",
    "ls_v2",
    "fixed_push_mkdir",
    "apex",
    "abb",
    "fixed_push_symlink_timestamp",
    "abb_exec",
    "remount_shell",
)

NAMES = {CNXN: "CNXN", AUTH: "AUTH", OPEN: "OPEN", OKAY: "OKAY", CLSE: "CLSE", WRTE: "WRTE", STLS: "STLS"}


@dataclass(frozen=True, slots=True)
class Message:
    """One transport message: a command, its two arguments and its payload."""

    command: int
    arg0: int
    arg1: int
    data: bytes = b""

    def pack(self) -> bytes:
        """Encode the header and payload; checksums are 0, which every host accepts."""
        header = HEADER.pack(self.command, self.arg0, self.arg1, len(self.data), 0, self.command ^ 0xFFFFFFFF)
        return header + self.data

    def __repr__(self) -> str:
        name = NAMES.get(self.command, hex(self.command))
        return f"Message({name}, {self.arg0}, {self.arg1}, {self.data[:40]!r}{'…' if len(self.data) > 40 else ''})"


class ProtocolError(Exception):
    """The host sent something that is not an ADB message."""


def parse_header(header: bytes) -> tuple[int, int, int, int]:
    """Return (command, arg0, arg1, data length) of a header.

    Raises:
        ProtocolError: the magic does not match the command.
    """
    command, arg0, arg1, length, _checksum, magic = HEADER.unpack(header)
    if magic != command ^ 0xFFFFFFFF:
        raise ProtocolError(f"bad magic {magic:#x} for command {command:#x}")
    return command, arg0, arg1, length


def device_banner(props: dict[str, str]) -> bytes:
    """The CNXN payload: state `device`, the product props `adb devices -l` shows, the features."""
    keys = ("ro.product.name", "ro.product.model", "ro.product.device")
    fields = "".join(f"{key}={props.get(key, '')};" for key in keys)
    return f"device::{fields}features={','.join(FEATURES)}".encode()
