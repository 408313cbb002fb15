"""Parsing what real phones send: screencap output, dumpsys focus lines, shell v2 frames."""

from __future__ import annotations

import gzip
import hashlib
import struct

import numpy as np
import pytest

from phone_agent.device.adb_link import decode_shell_v2
from phone_agent.device.app_control import foreground_package
from phone_agent.device.capture import frame_from_deflated, frame_from_raw, png_from_screencap
from phone_agent.errors import DeviceError
from tests.support import png

PNG = png()


def test_a_plain_png_passes_through() -> None:
    assert png_from_screencap(PNG) == PNG


def test_a_multi_display_warning_before_the_png_is_skipped() -> None:
    warning = b"[Warning] Multiple displays were found, but no display id was specified! Defaulting to the first.\n"
    assert png_from_screencap(warning + PNG) == PNG


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (PNG[: len(PNG) // 2], "cut off"),
        (b"", "no PNG came back"),
        (b"Error: capture failed: -1\n", "Error: capture failed: -1"),
    ],
)
def test_anything_else_is_a_failure_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        png_from_screencap(data)


@pytest.mark.parametrize(
    ("dumpsys", "package"),
    [
        # Android 10-15 `dumpsys window`
        ("  mCurrentFocus=Window{8c7d2e1 u0 com.ebay.mobile/com.ebay.mobile.home.HomeActivity}", "com.ebay.mobile"),
        ("  mFocusedApp=ActivityRecord{5a1b u0 com.android.settings/.Settings t23}", "com.android.settings"),
        (
            "  mCurrentFocus=null\n  mFocusedApp=ActivityRecord{f00 u0 com.tencent.mm/.ui.LauncherUI t9}",
            "com.tencent.mm",
        ),
        # `dumpsys activity activities` on Android 9 (mResumedActivity) and 12+ (ResumedActivity, topResumedActivity)
        ("    mResumedActivity: ActivityRecord{1f u0 com.whatsapp/.Main t4}", "com.whatsapp"),
        (
            "  ResumedActivity: ActivityRecord{9a2 u0 org.telegram.messenger/.LaunchActivity t77}",
            "org.telegram.messenger",
        ),
        (
            "    topResumedActivity=ActivityRecord{3 u0 com.android.chrome/com.google.android.apps.chrome.Main t5}",
            "com.android.chrome",
        ),
        ("  mCurrentFocus=null", ""),
        ("", ""),
    ],
)
def test_the_app_in_front_from_real_dumpsys_lines(dumpsys: str, package: str) -> None:
    assert foreground_package(dumpsys) == package


def frame(kind: int, payload: bytes) -> bytes:
    return struct.pack("<BI", kind, len(payload)) + payload


def test_shell_v2_frames() -> None:
    result = decode_shell_v2(frame(1, b"out\n") + frame(2, b"err\n") + frame(3, b"\x07"))
    assert result.output == "out\nerr\n" and result.exit_code == 7


def test_a_shell_v2_stream_without_an_exit_code_is_a_dropped_connection() -> None:
    with pytest.raises(DeviceError, match="dropped"):
        decode_shell_v2(frame(1, b"partial outp"))


@pytest.mark.parametrize(("header", "pixel_format"), [(16, 1), (12, 1), (16, 5)])
def test_raw_screencap_with_either_header_and_byte_order(header: int, pixel_format: int) -> None:
    rgba = np.zeros((8, 4, 4), np.uint8)
    rgba[:, :, 0], rgba[:, :, 3] = 200, 255  # the first byte of every pixel: red in RGBA, blue in BGRA
    data = struct.pack("<4I", 4, 8, pixel_format, 1)[:header] + rgba.tobytes()
    frame = frame_from_raw(data)
    assert (frame.width, frame.height) == (4, 8) and not frame.secure
    blue, _, red = frame.pixels()[0, 0]
    assert (red, blue) == ((200, 0) if pixel_format == 1 else (0, 200))


@pytest.mark.parametrize("data", [b"", struct.pack("<4I", 4, 8, 1, 1) + bytes(10), struct.pack("<4I", 4, 8, 4, 1)
                                  + bytes(4 * 8 * 2)])
def test_anything_but_a_complete_4_byte_raw_frame_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError):
        frame_from_raw(data)


def test_a_raw_frame_gzipped_on_the_phone_is_the_same_frame_with_the_same_digest() -> None:
    data = struct.pack("<4I", 4, 8, 1, 1) + bytes(range(128))
    deflated, raw = frame_from_deflated(gzip.compress(data, 1)), frame_from_raw(data)
    assert np.array_equal(deflated.pixels(), raw.pixels()) and deflated.digest == raw.digest
    assert raw.digest == hashlib.md5(data).hexdigest()
    warned = b"WARNING: linker: /system/bin/gzip: unused DT entry: type 0x6ffffffe arg 0x8a4\n"
    assert frame_from_deflated(warned + gzip.compress(data, 1)).digest == raw.digest  # text before the stream


def test_a_raw_frame_is_hashed_only_when_its_digest_is_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    data = struct.pack("<4I", 4, 8, 1, 1) + bytes(range(128))
    hashed: list[int] = []
    md5 = hashlib.md5
    monkeypatch.setattr(hashlib, "md5", lambda given: hashed.append(len(given)) or md5(given))
    asked, shown = frame_from_raw(data), frame_from_raw(data)
    assert hashed == []
    assert asked.digest == asked.digest == md5(data).hexdigest() and hashed == [len(data)]  # once
    assert shown.png and shown.digest is None and hashed == [len(data)]  # let go with the raw bytes


@pytest.mark.parametrize(("data", "reason"), [
    (b"/system/bin/sh: gzip: not found\n", "gzip: not found"),  # a phone without toybox gzip
    (b"", "no raw frame came back"),
    (gzip.compress(b"not a frame"), "no raw frame|not a raw"),
])
def test_anything_but_a_gzipped_raw_frame_is_refused_with_what_came(data: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        frame_from_deflated(data)
