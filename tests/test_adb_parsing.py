"""Parsing what real phones send: screencap output, dumpsys focus lines, shell v2 frames."""

from __future__ import annotations

import struct

import pytest

from phone_agent.device.adb import _decode_shell_v2, foreground_package
from phone_agent.device.capture import png_from_screencap
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
    result = _decode_shell_v2(frame(1, b"out\n") + frame(2, b"err\n") + frame(3, b"\x07"))
    assert result.output == "out\nerr\n" and result.exit_code == 7


def test_a_shell_v2_stream_without_an_exit_code_is_a_dropped_connection() -> None:
    with pytest.raises(DeviceError, match="dropped"):
        _decode_shell_v2(frame(1, b"partial outp"))
