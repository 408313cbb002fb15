"""`screenrecord FILE`: an MP4 (H.264) of the screen until the time limit or a kill, as Android writes it."""

from __future__ import annotations

import io as bytes_io
import time
from fractions import Fraction

import av
from PIL import Image

from phone_agent.sim.adb.command_io import CommandIO, unlocked
from phone_agent.sim.adb.common import phone_of
from phone_agent.sim.adb.fs import FsError

MAX_TIME_LIMIT_S = 180  # Android's own cap
POLL_S = 0.1  # frames are taken when the screen changes, looked at this often
TIME_BASE = Fraction(1, 1000)
DEFAULT_BIT_RATE = 20_000_000


def _options(args: list[str]) -> tuple[dict[str, str], list[str]]:
    options: dict[str, str] = {}
    files: list[str] = []
    queue = list(args)
    while queue:
        arg = queue.pop(0)
        if arg in ("--time-limit", "--size", "--bit-rate") and queue:
            options[arg] = queue.pop(0)
        elif not arg.startswith("--"):
            files.append(arg)
    return options, files


@unlocked
def screenrecord_command(io: CommandIO, args: list[str]) -> int:
    """`screenrecord [--time-limit S] [--size WxH] [--bit-rate N] FILE`: records until the limit or `kill -INT`."""
    options, files = _options(args)
    if len(files) != 1:
        return io.fail("Must specify output file (see --help).", 2)
    try:
        limit = min(float(options.get("--time-limit", MAX_TIME_LIMIT_S)), MAX_TIME_LIMIT_S)
        bit_rate = int(options.get("--bit-rate", DEFAULT_BIT_RATE))
    except ValueError:
        return io.fail("Invalid value for --time-limit or --bit-rate", 2)
    phone = phone_of(io)
    with phone.lock:
        width, height = phone.ui.width, phone.ui.height
    if "--size" in options:
        wanted, _, tall = options["--size"].partition("x")
        if not (wanted.isdigit() and tall.isdigit()):
            return io.fail(f"Invalid size '{options['--size']}', must be width x height", 2)
        width, height = int(wanted), int(tall)
    size = (width & ~1, height & ~1)  # 4:2:0 needs even sides
    output = bytes_io.BytesIO()
    container = av.open(output, "w", format="mp4")
    stream = container.add_stream("libx264", rate=60)
    stream.width, stream.height = size
    stream.pix_fmt = "yuv420p"
    stream.bit_rate = bit_rate
    stream.time_base = TIME_BASE
    stream.codec_context.options = {"preset": "ultrafast"}
    started = time.monotonic()
    last_key: object = None
    image: Image.Image | None = None
    while True:
        elapsed = time.monotonic() - started
        with phone.lock:
            key = phone.screen_key()
            if key != last_key:
                image, last_key = phone.screen_image(), key
        if image is not None:
            _encode(container, stream, image.resize(size) if image.size != size else image, elapsed)
            image = None
        if elapsed >= limit or io.wait(min(POLL_S, max(limit - elapsed, 0.0))):
            break
    with phone.lock:
        final = phone.screen_image()
    # The last frame again at the end, so the video lasts as long as the recording did.
    _encode(container, stream, final.resize(size) if final.size != size else final, time.monotonic() - started)
    container.mux(stream.encode(None))
    container.close()
    try:
        io.session.fs.write(io.session.fs.normalize(files[0], io.session.cwd), output.getvalue())
    except FsError as exc:
        return io.fail(f"Unable to open '{files[0]}': {exc.strerror}")
    return 0


def _encode(container: av.container.OutputContainer, stream: av.video.stream.VideoStream, image: Image.Image,
            elapsed: float) -> None:
    frame = av.VideoFrame.from_image(image.convert("RGB"))
    frame.pts = int(elapsed / TIME_BASE)
    frame.time_base = TIME_BASE
    container.mux(stream.encode(frame))
