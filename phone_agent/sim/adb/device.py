"""What the ADB side uses of the phone it serves, so that it depends on these protocols and not on ``VirtualPhone``."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from phone_agent.sim.logs import LogBuffer
from phone_agent.sim.profiles import Profile
from phone_agent.sim.sockets import AbstractSockets
from phone_agent.sim.system import SystemState

if TYPE_CHECKING:  # not a cycle: the UI imports nothing of the ADB side, which also works without it
    from PIL import Image

    from phone_agent.sim.ui import PhoneUI


@dataclass
class Faults:
    """The fault knobs, all off by default."""

    drop_connection_after: int | None = None  # messages still allowed before the connection drops
    screencap_delay_ms: int = 0
    screencap_fails: bool = False
    secure_screen: bool = False  # every screencap black, as on a FLAG_SECURE window
    # Setting the clipboard silently does nothing (some Samsung phones; scrcpy issue 3611): the old text stays.
    clipboard_set_fails: bool = False
    scrcpy_accept_delay_ms: int = 0  # the scrcpy server accepts its first connection this late (a stalled VM)
    # Every program prints a dynamic-linker warning on stderr as it starts, as on many Android 5-6 phones.
    linker_warnings: bool = False


class ShellPhone(Protocol):
    """What shell commands (and the scrcpy server they start) use of the phone they run on."""

    clipboard: str
    reverses: dict[str, str]  # `adb reverse`: device-side spec -> host-side spec

    @property
    def logs(self) -> LogBuffer:
        """The log buffer `logcat` reads."""
        ...

    def apply_display(self) -> None:
        """Lay the screen out as the display size, density and rotation settings say (under the lock)."""
        ...

    def uptime(self) -> float:
        """Seconds since the phone booted."""
        ...

    @property
    def system(self) -> SystemState: ...

    @property
    def profile(self) -> Profile:
        """What commands cost on this phone."""
        ...

    @property
    def ui(self) -> PhoneUI: ...

    @property
    def faults(self) -> Faults: ...

    @property
    def lock(self) -> AbstractContextManager[Any]:
        """Held while a command changes the phone."""
        ...

    @property
    def sockets(self) -> AbstractSockets:
        """The phone's abstract-namespace sockets (``localabstract:``)."""
        ...

    def screen_key(self) -> tuple[Any, ...]:
        """Changes exactly when what the screen shows changes (call under the lock)."""
        ...

    def screen_image(self) -> Image.Image:
        """What the display shows now (call under the lock)."""
        ...

    def screencap(self, png: bool = True) -> bytes:
        """What `screencap` writes: PNG (or raw RGBA with a 16-byte header) of the screen now."""
        ...

    def record_input(self, kind: str, **details: Any) -> None:
        """Append to the input log."""
        ...

    def record_command(self, command: str) -> None:
        """Remember a shell command a client sent."""
        ...

    def record_sync(self, operation: str, path: str) -> None:
        """Remember a push or pull."""
        ...
