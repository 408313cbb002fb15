"""The scrcpy wire format: our messages against the byte layouts of scrcpy v3.3.4's ControlMessageReader."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from phone_agent.device.scrcpy import protocol


def test_a_key_event_is_type_action_keycode_repeat_metastate() -> None:
    message = protocol.keycode(protocol.ACTION_UP, protocol.KEYCODE_A, meta=protocol.META_CTRL)
    assert message == bytes.fromhex("00" "01" "0000001d" "00000000" "00003000")


def test_a_touch_is_32_bytes_with_the_generic_finger_and_the_frame_size() -> None:
    message = protocol.touch(protocol.ACTION_DOWN, 540, 1200, 1080, 2400)
    assert len(message) == 32
    assert message == bytes.fromhex(
        "02" "00" "fffffffffffffffe" "0000021c" "000004b0" "0438" "0960" "ffff" "00000000" "00000000"
    )


def test_lifting_the_finger_has_no_pressure() -> None:
    assert protocol.touch(protocol.ACTION_UP, 1, 2, 3, 4)[24:26] == b"\0\0"


def test_set_clipboard_carries_sequence_paste_flag_and_utf8_length() -> None:
    text = "你好 \"$(x)\" 👍"
    data = text.encode("utf-8")
    message = protocol.set_clipboard(7, text, paste=True)
    assert message == b"\x09" + (7).to_bytes(8, "big") + b"\x01" + len(data).to_bytes(4, "big") + data


def test_text_longer_than_the_server_takes_is_refused() -> None:
    with pytest.raises(ValueError, match="at most"):
        protocol.set_clipboard(1, "x" * (protocol.MAX_CLIPBOARD_BYTES + 1), paste=True)


def test_start_app_has_a_one_byte_length() -> None:
    assert protocol.start_app("com.ebay.mobile") == b"\x10\x0fcom.ebay.mobile"
    with pytest.raises(ValueError):
        protocol.start_app("a" * 256)


def test_get_clipboard_asks_without_a_copy_key() -> None:
    assert protocol.get_clipboard() == b"\x08\x00"


def test_device_messages_are_read_by_type() -> None:
    def reader(data: bytes) -> Callable[[int], bytes]:
        buffer = bytearray(data)

        def read(size: int) -> bytes:
            chunk = bytes(buffer[:size])
            del buffer[:size]
            return chunk

        return read

    assert protocol.read_device_message(reader(b"\x01" + (42).to_bytes(8, "big"))) == (1, 42)
    assert protocol.read_device_message(reader(b"\x00\x00\x00\x00\x03abc")) == (0, "abc")
    uhid = reader(b"\x02\x00\x01\x00\x02\xaa\xbb\x01" + (7).to_bytes(8, "big"))
    assert protocol.read_device_message(uhid) == (2, b"\xaa\xbb")  # a HID output report is skipped whole
    assert protocol.read_device_message(uhid) == (1, 7)
    with pytest.raises(ValueError, match="unknown"):
        protocol.read_device_message(reader(b"\x07"))


def test_video_headers() -> None:
    assert protocol.CODEC_ID.unpack(bytes.fromhex("68323634")) == (protocol.CODEC_H264,)
    assert protocol.VIDEO_SIZE.unpack(bytes.fromhex("00000438" "00000960")) == (1080, 2400)
    config = protocol.PacketHeader.parse(bytes.fromhex("8000000000000000" "0000001a"))
    assert config.config and not config.key_frame and config.size == 26
    key = protocol.PacketHeader.parse(bytes.fromhex("4000000000012345" "00001000"))
    assert key.key_frame and not key.config and key.size == 4096
    assert protocol.device_name(b"Pixel 8" + b"\0" * 57) == "Pixel 8"
