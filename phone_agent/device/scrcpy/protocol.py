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
# A codec id of 0 or 1 instead of a real one: the server disabled the stream (1: a configuration error).
CODEC_DISABLED, CODEC_ERROR = 0, 1
VIDEO_HEADER = struct.Struct(">III")  # codec id, width, height
PACKET_HEADER = struct.Struct(">QI")  # PTS with flags, size
PACKET_FLAG_CONFIG = 1 << 63
PACKET_FLAG_KEY_FRAME = 1 << 62

# Control message types (client -> server).
TYPE_INJECT_KEYCODE = 0
TYPE_INJECT_TOUCH_EVENT = 2
TYPE_SET_CLIPBOARD = 9
TYPE_START_APP = 16
TYPE_RESET_VIDEO = 17
# Device message types (server -> client).
DEVICE_CLIPBOARD = 0
DEVICE_ACK_CLIPBOARD = 1

# Android's MotionEvent and KeyEvent constants.
ACTION_DOWN, ACTION_UP, ACTION_MOVE = 0, 1, 2
KEYCODE_HOME, KEYCODE_BACK, KEYCODE_A, KEYCODE_V, KEYCODE_ENTER, KEYCODE_DEL = 3, 4, 29, 50, 66, 67
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


def start_app(name: str) -> bytes:
    """START_APP: type, u8 length + the package name (``?label`` would search by label; we never send that).

    Raises:
        ValueError: the name is too long for the u8 length.
    """
    data = name.encode("utf-8")
    if len(data) > MAX_START_APP_NAME:
        raise ValueError(f"the app name is {len(data)} bytes; START_APP takes at most {MAX_START_APP_NAME}")
    return struct.pack(">BB", TYPE_START_APP, len(data)) + data


def reset_video() -> bytes:
    """RESET_VIDEO: the type alone; the server restarts the encoder, so a key frame follows."""
    return bytes([TYPE_RESET_VIDEO])


def device_name(data: bytes) -> str:
    """The phone's name from the 64-byte, NUL-padded field the first socket starts with."""
    return data.split(b"\0", 1)[0].decode("utf-8", "replace")


@dataclass(frozen=True)
class VideoHeader:
    """The video socket's codec meta: codec id and the first frame size."""

    codec: int
    width: int
    height: int

    @classmethod
    def parse(cls, data: bytes) -> VideoHeader:
        return cls(*VIDEO_HEADER.unpack(data))


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


def read_device_message(read: Callable[[int], bytes]) -> tuple[int, int | str]:
    """One device message: ``(DEVICE_ACK_CLIPBOARD, sequence)`` or ``(DEVICE_CLIPBOARD, text)``.

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
    raise ValueError(f"unknown device message type {kind}")
