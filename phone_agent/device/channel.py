"""Choosing how the ``Device`` reaches the phone: the scrcpy channel when it can start, otherwise adb shell commands.

``auto`` (the default) tries scrcpy and falls back to adb with one sentence saying why; ``scrcpy``
makes that reason an error; ``adb`` never starts the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from actions.device import SuiteDevice
from phone_agent.device.adb import AdbDevice
from phone_agent.device.scrcpy.server import START_TIMEOUT, VERSION, locate
from phone_agent.errors import ChannelError

if TYPE_CHECKING:
    from phone_agent.device.scrcpy.device import ScrcpyDevice

ChannelName = Literal["auto", "scrcpy", "adb"]
CHANNELS: tuple[ChannelName, ...] = ("auto", "scrcpy", "adb")


@dataclass(frozen=True)
class Channel:
    """The device a run drives, the channel's name (``scrcpy`` or ``adb``), why it is that one, and whether
    it is adb only because scrcpy could not start."""

    device: SuiteDevice
    name: str
    reason: str
    fallback: bool = False


@contextmanager
def open_channel(
    adb: AdbDevice, choice: ChannelName, server: Path | None = None, *, timeout: float = START_TIMEOUT
) -> Iterator[Channel]:
    """The channel for ``adb``'s phone; a scrcpy server started here is stopped on exit.

    The server file found here also lists the phone's apps with their labels, on either channel.

    Raises:
        ChannelError: ``choice`` is ``scrcpy`` and the server cannot start (the message says why).
        DeviceError: the phone cannot be reached.
    """
    found: Path | ChannelError
    try:  # found once for both uses: finding it reads and hashes the file
        found = adb.apps.server = locate(server)
    except ChannelError as exc:  # without the file, launches find apps by their packages only
        found = exc
    if choice == "adb":
        yield Channel(adb, "adb", "chosen with --channel adb")
        return
    try:
        scrcpy = _start_scrcpy(adb, found, timeout)
    except ChannelError as exc:
        if choice == "scrcpy":
            raise
        reason = f"scrcpy unavailable: {exc}"
    else:
        with scrcpy:
            yield Channel(scrcpy, "scrcpy", f"scrcpy server v{VERSION} started on the phone")
        return
    yield Channel(adb, "adb", reason, fallback=True)


def _start_scrcpy(adb: AdbDevice, server: Path | ChannelError, timeout: float) -> ScrcpyDevice:
    """Start the scrcpy device from the server file found, or say in a ChannelError why it cannot run."""
    try:
        from phone_agent.device.scrcpy.device import ScrcpyDevice  # imports PyAV
    except ImportError as exc:  # PyAV (the H.264 decoder) is missing or broken
        raise ChannelError(f"cannot decode video ({exc}); install PyAV: pip install av") from None
    if isinstance(server, ChannelError):
        raise server
    return ScrcpyDevice.start(adb, server, timeout=timeout)
