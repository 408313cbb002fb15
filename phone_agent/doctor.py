"""``phone-agent doctor``: check every setup step in order and say how to fix what is broken.

Each check gives a status (ok, warn, fail), what was found, and for a failure the concrete fix. Later
checks that depend on a failed one are not run. The API key is never printed.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Generator, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import adbutils

from actions import ActionParseError, parse_reply
from phone_agent.config import Settings, resolve_endpoint
from phone_agent.device.adb import AdbDevice
from phone_agent.device.adb_server import DEVICE_STATE_ADVICE, ensure_server, list_devices
from phone_agent.device.channel import open_channel
from phone_agent.device.text_input import ADB_KEYBOARD, ADB_KEYBOARD_URL, TextInput
from phone_agent.errors import (
    ArrearsError,
    AuthenticationError,
    ChannelError,
    ConfigError,
    DeviceError,
    ModelError,
    ModelResponseError,
    ModelUnreachableError,
    RateLimitError,
    UnknownModelError,
)
from phone_agent.model.client import ChatClient
from phone_agent.model.messages import Conversation, Image, User, screen_text, system_prompt
from phone_agent.session import open_client

Status = Literal["ok", "warn", "fail"]
MIN_SDK = 24  # Android 7.0

_VENDOR_HINTS = {
    "xiaomi": "MIUI/HyperOS ignores injected taps unless Developer options > 'USB debugging (Security settings)' "
    "is on (it needs a SIM card and a Mi account).",
    "redmi": "MIUI/HyperOS ignores injected taps unless Developer options > 'USB debugging (Security settings)' is on.",
    "huawei": "EMUI may need 'Allow ADB debugging in charge only mode' on, and a restart of adb after enabling it.",
    "oppo": "ColorOS needs Developer options > 'Disable permission monitoring' on for input injection.",
    "oneplus": "OxygenOS/ColorOS needs Developer options > 'Disable permission monitoring' on for input injection.",
    "vivo": "Funtouch/OriginOS needs Developer options > 'USB simulated click' (USB 模拟点击) on.",
    "realme": "realme UI needs Developer options > 'Disable permission monitoring' on for input injection.",
    "honor": "MagicOS may need 'Allow ADB debugging in charge only mode' on, and adb restarted after enabling it.",
}


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    status: Status
    detail: str
    fix: str = ""


def run_checks(settings: Settings, *, deep: bool = False) -> Iterator[Check]:
    """All checks, in order, as they complete."""
    client = yield from _adb(settings)
    device = None
    if client is not None:
        device = yield from _device(settings, client)
    if device is not None:
        channel = yield from _channel(settings, device)
        yield from _text_input(device, channel)
    yield from _model(settings, device if deep else None)


def _adb(settings: Settings) -> Generator[Check, None, adbutils.AdbClient | None]:
    path = adbutils.adb_path()
    origin = "bundled with adbutils" if Path(adbutils.__file__).parent in Path(path).parents else "from PATH"
    try:
        output = subprocess.run([path, "version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        yield Check("adb", "fail", f"{path} does not run: {exc}", "Reinstall adbutils or put a working adb on PATH.")
        return None
    version = re.search(r"Version ([\w.\-]+)", output)
    yield Check("adb", "ok", f"{path} ({origin}), version {version.group(1) if version else 'unknown'}")
    client = adbutils.AdbClient(host=settings.adb_host, port=settings.adb_port)
    try:
        ensure_server(settings.adb_host, settings.adb_port)
        server = client.server_version()
    except (DeviceError, adbutils.AdbError, OSError) as exc:
        yield Check(
            "adb server",
            "fail",
            f"nothing answers at {settings.adb_host}:{settings.adb_port} ({exc})",
            f"Run `adb -P {settings.adb_port} start-server`, or point --adb-port at the running server.",
        )
        return None
    yield Check("adb server", "ok", f"{settings.adb_host}:{settings.adb_port}, protocol version {server}")
    return client


def _device(settings: Settings, client: adbutils.AdbClient) -> Generator[Check, None, AdbDevice | None]:
    infos = list_devices(client)
    if settings.device:
        infos = [i for i in infos if i.serial == settings.device]
    if not infos:
        where = f"{settings.device!r} is not attached" if settings.device else "no device is attached"
        yield Check(
            "device",
            "fail",
            where,
            "On the phone: Settings > About phone > tap 'Build number' 7 times, then Developer options > "
            "'USB debugging' on; plug it in and accept the 'Allow USB debugging?' prompt. "
            "For an emulator or a network phone: `adb connect HOST:PORT`.",
        )
        return None
    if len(infos) > 1:
        names = ", ".join(i.serial for i in infos)
        yield Check("device", "fail", f"several devices: {names}", "Name one with --device SERIAL.")
        return None
    info = infos[0]
    if info.state != "device":
        advice = DEVICE_STATE_ADVICE.get(info.state, "check the phone and `adb devices`")
        yield Check("device", "fail", f"{info.serial} is {info.state}", advice[0].upper() + advice[1:] + ".")
        return None
    device = AdbDevice(info.serial, client)
    model = device.getprop("ro.product.model")
    yield Check("device", "ok", f"{info.serial} ({model or 'unknown model'})")
    yield from _android(device)
    return device


def _android(device: AdbDevice) -> Iterator[Check]:
    release, sdk = device.getprop("ro.build.version.release"), device.getprop("ro.build.version.sdk")
    if sdk.isdigit() and int(sdk) < MIN_SDK:
        yield Check(
            "android", "fail", f"Android {release} (API {sdk})", "phone-agent needs Android 7.0 (API 24) or newer."
        )
    else:
        yield Check("android", "ok", f"Android {release} (API {sdk})")
    width, height = device.screen_size()
    rotation = device.rotation()
    turned = rotation in (1, 3)
    yield Check(
        "screen",
        "warn" if turned else "ok",
        f"{width}x{height}, rotation {rotation}",
        "The phone is in landscape; most apps are easier for the model in portrait." if turned else "",
    )
    shot = device.screenshot()
    if shot.secure:
        yield Check(
            "screenshot",
            "fail",
            shot.failure or "the screenshot is all black",
            "A secure screen (payment, password, DRM video) is showing, or capture is blocked: unlock the phone, "
            "leave that screen, or allow screen capture for adb in the vendor's security settings.",
        )
    else:
        yield Check("screenshot", "ok", f"{shot.width}x{shot.height} PNG, {len(shot.png) // 1024} KiB, not black")
    vendor = device.getprop("ro.product.manufacturer").lower()
    hint = next((text for name, text in _VENDOR_HINTS.items() if name in vendor), None)
    if hint:
        yield Check("vendor", "warn", f"manufacturer {vendor}", hint)


def _channel(settings: Settings, device: AdbDevice) -> Generator[Check, None, str]:
    """The channel a run would use, found the way a run finds it: by starting it."""
    try:
        with open_channel(device, settings.channel, settings.scrcpy_server) as channel:
            if channel.fallback:
                yield Check("channel", "warn", f"adb ({channel.reason})",
                            "For the fast scrcpy channel fix the reason above; `phone-agent setup` fetches the server.")
            else:
                yield Check("channel", "ok", f"{channel.name}: {channel.reason}")
            return channel.name
    except ChannelError as exc:
        yield Check("channel", "fail", f"scrcpy cannot start: {exc}", "Fix the reason, or use --channel auto or adb.")
        return "adb"


def _text_input(device: AdbDevice, channel: str) -> Iterator[Check]:
    if channel == "scrcpy":
        yield Check("ADB Keyboard", "ok", "not needed: the scrcpy channel pastes any text through the clipboard")
        return
    installed = ADB_KEYBOARD in device.shell("ime list -a -s").split()
    if not installed:
        yield Check(
            "ADB Keyboard",
            "warn",
            "not installed: only printable ASCII can be typed (through `input text`)",
            f"Install it for any text (CJK, emoji, accents): download ADBKeyboard.apk from {ADB_KEYBOARD_URL} "
            "and run `adb install ADBKeyboard.apk`.",
        )
        return
    enabled = ADB_KEYBOARD in device.shell("ime list -s").split()
    current = device.shell("settings get secure default_input_method").strip()
    typing = TextInput(device.shell)  # the same switch and restore a run does
    selected = typing.select_adb_keyboard()
    typing.restore()
    # "null" means no keyboard was chosen: there is nothing to restore then.
    restored = current in ("", "null") or device.shell("settings get secure default_input_method").strip() == current
    if selected and restored:
        state = "installed and enabled" if enabled else "installed (phone-agent enables it when it types)"
        yield Check("ADB Keyboard", "ok", f"{state}; it can be selected and your keyboard restored")
    else:
        yield Check(
            "ADB Keyboard",
            "fail",
            "installed but cannot be selected" if not selected else "your keyboard was not restored",
            "Enable it by hand: Settings > System > Keyboard > On-screen keyboard > ADB Keyboard; some vendors "
            "also require 'Install via USB' / 'USB debugging (Security settings)' in Developer options.",
        )


def _model(settings: Settings, device: AdbDevice | None) -> Iterator[Check]:
    try:
        endpoint = resolve_endpoint(settings)
        # One retry: doctor should answer quickly, and a rate limit is reported rather than waited out.
        client = open_client(endpoint, settings.model_copy(update={"stream": False}), max_retries=1)
    except ConfigError as exc:
        yield Check("model", "fail", "not configured", str(exc))
        return
    with client:
        try:
            models = client.list_models()
        except ModelResponseError as exc:  # no listing (404) or a failing listing: the chat call decides
            yield Check("endpoint", "warn", f"{endpoint.public_url} answers but does not list its models ({exc})")
        except ModelError as exc:
            yield _model_failure("endpoint", exc)
            return
        else:
            yield Check("endpoint", "ok", f"{endpoint.public_url} answers ({len(models)} models)")
            if endpoint.model not in models:
                yield Check(
                    "model name",
                    "fail",
                    f"{endpoint.model!r} is not served here",
                    f"Pass one of these with --model: {', '.join(models[:10]) or '(none listed)'}",
                )
                return
            yield Check("model name", "ok", f"{endpoint.model} is served")
        try:
            client.complete([User(("Reply with OK.",))])
        except ModelError as exc:
            yield _model_failure("model", exc)
            return
        if endpoint.api_key is not None:
            yield Check("API key", "ok", "accepted")
        else:
            yield Check("API key", "warn", "no key sent, and the endpoint accepted that")
        if device is not None:
            yield _vision(client, device, settings)


def _model_failure(step: str, error: ModelError) -> Check:
    """What a model error means for the setup, and its fix."""
    match error:
        case AuthenticationError():
            return Check("API key", "fail", str(error), "Fix the key (see above), then run doctor again.")
        case ArrearsError():
            return Check("account", "fail", str(error), "Top up the provider account.")
        case UnknownModelError():
            return Check("model name", "fail", str(error), "Pass a model this endpoint serves with --model.")
        case RateLimitError():
            return Check(step, "warn", str(error), "The endpoint works but rate-limits this key; try again later.")
        case ModelUnreachableError():
            return Check("endpoint", "fail", str(error), "Check --base-url / --provider and your network.")
        case _:
            return Check(step, "fail", str(error), "The endpoint answered with an error; see the message above.")


def _vision(client: ChatClient, device: AdbDevice, settings: Settings) -> Check:
    """One real step: the current screenshot and a harmless task must come back as a parseable action."""
    conversation = Conversation(system_prompt(settings.lang))
    conversation.add_screen(
        screen_text(device.current_app(), task="Describe the screen, then finish."), Image(device.screenshot().png)
    )
    try:
        reply = client.complete(conversation.turns).text
        action = parse_reply(reply).action
    except ModelError as exc:
        return Check("vision step", "fail", str(exc), "The model endpoint failed on an image request.")
    except ActionParseError as exc:
        return Check(
            "vision step",
            "fail",
            f"the reply is not an AutoGLM action: {exc}",
            "Use an AutoGLM-Phone model (or one that follows its action format).",
        )
    return Check("vision step", "ok", f"the model answered {action.action!r} to the current screen")


def as_json(checks: list[Check]) -> list[dict[str, str]]:
    """The checks as plain dictionaries, for --json."""
    return [asdict(check) for check in checks]
