"""The scrcpy server's wire format (v3.3.4): control messages we send, device messages and video packets we read.

Every integer is big-endian. Only the messages the agent uses are encoded here; the layouts are those of
scrcpy's ``ControlMessageReader``, ``DeviceMessageWriter`` and ``Streamer`` at tag v3.3.4.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

DEVICE_NAME_LENGTH = 64
CODEC_H264 = 0x68323634  # "h264"
CODEC_ID = struct.Struct(">I")
VIDEO_SIZE = struct.Struct(">II")  # width, height: after the codec id of a video stream only
PACKET_HEADER = struct.Struct(">QI")  # PTS with flags, size
PACKET_FLAG_CONFIG = 1 << 63
PACKET_FLAG_KEY_FRAME = 1 << 62

# Control message types (client -> server).
TYPE_INJECT_KEYCODE = 0
TYPE_INJECT_TOUCH_EVENT = 2
TYPE_GET_CLIPBOARD = 8
TYPE_SET_CLIPBOARD = 9
TYPE_START_APP = 16
COPY_KEY_NONE = 0
# Device message types (server -> client).
DEVICE_CLIPBOARD = 0
DEVICE_ACK_CLIPBOARD = 1
DEVICE_UHID_OUTPUT = 2

# Android's MotionEvent and KeyEvent constants.
ACTION_DOWN, ACTION_UP, ACTION_MOVE = 0, 1, 2
KEYCODE_HOME, KEYCODE_BACK, KEYCODE_A, KEYCODE_V, KEYCODE_ENTER, KEYCODE_DEL = 3, 4, 29, 50, 66, 67
KEYCODE_PASTE, KEYCODE_WAKEUP = 279, 224
META_CTRL = 0x1000 | 0x2000  # META_CTRL_ON | META_CTRL_LEFT_ON, as a left Ctrl key held down sets them
POINTER_ID_FINGER = -2  # scrcpy's "generic finger"
PRESSURE_FULL = 0xFFFF  # 1.0 as unsigned 16-bit fixed point
MAX_START_APP_NAME = 255
MAX_CLIPBOARD_BYTES = (1 << 18) - 14  # the server's message limit less the header


def keycode(action: int, code: int, *, repeat: int = 0, meta: int = 0) -> bytes:
    """INJECT_KEYCODE: type, action u8, keycode i32, repeat i32, metastate i32."""
    return struct.pack(">BBiii", TYPE_INJECT_KEYCODE, action, code, repeat, meta)


def touch(action: int, x: int, y: int, width: int, height: int, *, pressure: int = PRESSURE_FULL) -> bytes:
    """INJECT_TOUCH_EVENT of one finger at (x, y) on a ``width``x``height`` video frame."""
    return struct.pack(
        ">BBqiiHHHii", TYPE_INJECT_TOUCH_EVENT, action, POINTER_ID_FINGER, x, y, width, height,
        pressure if action != ACTION_UP else 0, 0, 0,
    )


def set_clipboard(sequence: int, text: str, *, paste: bool) -> bytes:
    """SET_CLIPBOARD: type, sequence u64 (non-zero asks for an ACK), paste u8, u32 length + UTF-8.

    Raises:
        ValueError: the text is longer than the server accepts.
    """
    data = text.encode("utf-8")
    if len(data) > MAX_CLIPBOARD_BYTES:
        raise ValueError(f"the text is {len(data)} bytes; the phone accepts at most {MAX_CLIPBOARD_BYTES}")
    return struct.pack(">BQBI", TYPE_SET_CLIPBOARD, sequence, int(paste), len(data)) + data


def get_clipboard() -> bytes:
    """GET_CLIPBOARD without a copy key: with clipboard_autosync=false the server answers with the clipboard's text."""
    return struct.pack(">BB", TYPE_GET_CLIPBOARD, COPY_KEY_NONE)


def start_app(name: str) -> bytes:
    """START_APP: type, u8 length + the package name (``?label`` would search by label; we never send that).

    Raises:
        ValueError: the name is too long for the u8 length.
    """
    data = name.encode("utf-8")
    if len(data) > MAX_START_APP_NAME:
        raise ValueError(f"the app name is {len(data)} bytes; START_APP takes at most {MAX_START_APP_NAME}")
    return struct.pack(">BB", TYPE_START_APP, len(data)) + data


def device_name(data: bytes) -> str:
    """The phone's name from the 64-byte, NUL-padded field the first socket starts with."""
    return data.split(b"\0", 1)[0].decode("utf-8", "replace")


@dataclass(frozen=True)
class PacketHeader:
    """A video packet's 12-byte header: PTS in microseconds (with two flag bits) and the payload size."""

    pts_flags: int
    size: int

    @classmethod
    def parse(cls, data: bytes) -> PacketHeader:
        return cls(*PACKET_HEADER.unpack(data))

    @property
    def config(self) -> bool:
        """A codec configuration packet (SPS/PPS), to be fed to the decoder with the next frame."""
        return bool(self.pts_flags & PACKET_FLAG_CONFIG)

    @property
    def key_frame(self) -> bool:
        return bool(self.pts_flags & PACKET_FLAG_KEY_FRAME)


def read_device_message(read: Callable[[int], bytes]) -> tuple[int, int | str | bytes]:
    """One device message: ``(DEVICE_ACK_CLIPBOARD, sequence)``, ``(DEVICE_CLIPBOARD, text)`` or
    ``(DEVICE_UHID_OUTPUT, data)`` (a HID device's output report, which the agent has no use for).

    ``read(n)`` returns exactly n bytes.

    Raises:
        ValueError: a message type this client does not know (the stream cannot be followed after it).
    """
    kind = read(1)[0]
    if kind == DEVICE_ACK_CLIPBOARD:
        return kind, struct.unpack(">Q", read(8))[0]
    if kind == DEVICE_CLIPBOARD:
        (length,) = struct.unpack(">I", read(4))
        return kind, read(length).decode("utf-8", "replace")
    if kind == DEVICE_UHID_OUTPUT:
        _id, size = struct.unpack(">HH", read(4))
        return kind, read(size)
    raise ValueError(f"unknown device message type {kind}")
