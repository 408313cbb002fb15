"""The scrcpy server's command line (`VERSION key=value…`), parsed as server v3.3.4 parses it."""

from __future__ import annotations

from dataclasses import dataclass

LOG_LEVELS = ("VERBOSE", "DEBUG", "INFO", "WARN", "ERROR")
# Every key the v3.3.4 parser knows; any other key only earns a warning there.
KNOWN_KEYS = frozenset({
    "scid", "log_level", "video", "audio", "video_codec", "audio_codec", "video_source", "audio_source",
    "audio_dup", "max_size", "video_bit_rate", "audio_bit_rate", "max_fps", "angle", "tunnel_forward", "crop",
    "control", "display_id", "show_touches", "stay_awake", "screen_off_timeout", "video_codec_options",
    "audio_codec_options", "video_encoder", "audio_encoder", "power_off_on_close", "clipboard_autosync",
    "downsize_on_error", "cleanup", "power_on", "list_encoders", "list_displays", "list_cameras",
    "list_camera_sizes", "list_apps", "camera_id", "camera_size", "camera_facing", "camera_ar", "camera_fps",
    "camera_high_speed", "new_display", "vd_destroy_content", "vd_system_decorations", "capture_orientation",
    "display_ime_policy", "send_device_meta", "send_frame_meta", "send_dummy_byte", "send_codec_meta",
    "raw_stream",
})
VIDEO_CODECS = ("h264", "h265", "av1")
AUDIO_CODECS = ("opus", "aac", "flac", "raw")


class JavaError(Exception):
    """What the Java side throws: the exception class and its message, printed like Ln.e does."""

    def __init__(self, exception: str, message: str) -> None:
        """Keep the Java exception class next to the message."""
        super().__init__(message)
        self.exception = exception


@dataclass
class ServerOptions:
    """The options the virtual phone honours (defaults as in the real server)."""

    scid: int = -1
    log_level: str = "DEBUG"
    video: bool = True
    audio: bool = True
    control: bool = True
    video_codec: str = "h264"
    max_size: int = 0
    video_bit_rate: int = 8_000_000
    max_fps: float = 0.0
    tunnel_forward: bool = False
    clipboard_autosync: bool = True
    cleanup: bool = True
    power_on: bool = True
    list_apps: bool = False
    send_device_meta: bool = True
    send_frame_meta: bool = True
    send_dummy_byte: bool = True
    send_codec_meta: bool = True

    @property
    def socket_name(self) -> str:
        """`scrcpy_%08x`, or plain `scrcpy` without a scid."""
        return "scrcpy" if self.scid == -1 else f"scrcpy_{self.scid:08x}"


def _java_bool(value: str) -> bool:
    """Boolean.parseBoolean: "true" in any case, anything else is false."""
    return value.lower() == "true"


def _java_int(value: str, base: int = 10) -> int:
    """Integer.parseInt, with its exception.

    Raises:
        JavaError: not a 32-bit integer.
    """
    try:
        number = int(value, base)
    except ValueError:
        number = None
    if number is None or value.strip() != value or "_" in value or not -(2**31) <= number < 2**31:
        suffix = "" if base == 10 else f" under radix {base}"
        raise JavaError("java.lang.NumberFormatException", f'For input string: "{value}"{suffix}')
    return number


def _java_float(key: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise JavaError("java.lang.IllegalArgumentException",
                        f'Invalid float value for {key}: "{value}"') from None


def parse_options(args: list[str], server_version: str) -> tuple[ServerOptions, list[str]]:
    """The options, and the warnings the server prints while parsing.

    Raises:
        JavaError: what the real parser throws (missing or different version, bad pair or value).
    """
    if not args:
        raise JavaError("java.lang.IllegalArgumentException", "Missing client version")
    if args[0] != server_version:
        raise JavaError("java.lang.IllegalArgumentException",
                        f"The server version ({server_version}) does not match the client ({args[0]})")
    options, warnings = ServerOptions(), []
    for arg in args[1:]:
        key, equal, value = arg.partition("=")
        if not equal:
            raise JavaError("java.lang.IllegalArgumentException", f'Invalid key=value pair: "{arg}"')
        if key not in KNOWN_KEYS:
            warnings.append(f"Unknown server option: {key}")
            continue
        _apply(options, key, value)
    return options, warnings


def _apply(options: ServerOptions, key: str, value: str) -> None:
    match key:
        case "scid":
            scid = _java_int(value, 16)
            if scid < -1:
                raise JavaError("java.lang.IllegalArgumentException",
                                f"scid may not be negative (except -1 for 'none'): {scid}")
            options.scid = scid
        case "log_level":
            if value.upper() not in LOG_LEVELS:
                raise JavaError("java.lang.IllegalArgumentException",
                                f"No enum constant com.genymobile.scrcpy.util.Ln.Level.{value.upper()}")
            options.log_level = value.upper()
        case "video_codec" | "audio_codec":
            if value not in (VIDEO_CODECS if key == "video_codec" else AUDIO_CODECS):
                kind = "Video" if key == "video_codec" else "Audio"
                raise JavaError("java.lang.IllegalArgumentException", f"{kind} codec {value} not supported")
            if key == "video_codec":
                options.video_codec = value
        case "max_size":
            options.max_size = _java_int(value) & ~7
        case "video_bit_rate":
            options.video_bit_rate = _java_int(value)
        case "max_fps":
            options.max_fps = _java_float(key, value)
        case "audio_bit_rate" | "display_id" | "screen_off_timeout" | "camera_fps":
            _java_int(value)
        case "raw_stream":
            if _java_bool(value):
                options.send_device_meta = options.send_frame_meta = False
                options.send_dummy_byte = options.send_codec_meta = False
        case _ if hasattr(options, key):
            setattr(options, key, _java_bool(value))
        # The rest (camera, crop, encoders, codec options, …) changes nothing on the virtual phone.
