"""`VirtualPhone`: the UI, the system state, the ADB listener, the fault knobs and the logs of one phone."""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Generic, TypeVar, cast

from PIL import Image

from phone_agent.sim.adb.commands import COMMANDS
from phone_agent.sim.adb.device import Faults
from phone_agent.sim.adb.services import OutputBuffer, Services
from phone_agent.sim.adb.shell import Session
from phone_agent.sim.adb.transport import AdbListener
from phone_agent.sim.adb.wire import Message, device_banner
from phone_agent.sim.emulator import announce, emulator_serial
from phone_agent.sim.logs import LogBuffer
from phone_agent.sim.profiles import DEFAULT_PROFILE, Profile, get_profile
from phone_agent.sim.sockets import AbstractSockets
from phone_agent.sim.system import SystemState
from phone_agent.sim.system_log import log_app_event, log_boot

log = logging.getLogger(__name__)

ADB_KEYBOARD_LABEL = "ADB Keyboard {ON}"
PNG_LEVEL = 1  # fast encoding: screenshots sit on the agent's critical path
COMMAND_HISTORY = 1000
BOOT_SECONDS = 3.0  # how long `adb reboot` keeps the phone off adb


@dataclass(frozen=True)
class ShellResult:
    """The outcome of `VirtualPhone.run()`."""

    status: int
    stdout: str
    stderr: str


Knob = TypeVar("Knob")


class FaultKnob(Generic[Knob]):
    """A phone attribute that stands for the field of the same name in its `faults`."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, phone: VirtualPhone, owner: type | None = None) -> Knob:
        return cast(Knob, getattr(phone.faults, self.name))

    def __set__(self, phone: VirtualPhone, value: Knob) -> None:
        setattr(phone.faults, self.name, value)


def _default_ui(width: int, height: int, clock: Callable[[], float], latency_ms: int) -> Any:
    from phone_agent.sim.ui import PhoneUI  # imported late so the protocol layer works without it

    return PhoneUI(width, height, clock=clock, latency_ms=latency_ms)


class VirtualPhone:
    """A simulated Android phone that the real adb server and adbutils drive over TCP."""

    def __init__(self, width: int = 1080, height: int = 2400, *, adb_keyboard: bool = True, latency_ms: int = 0,
                 name: str = "sim", clock: Callable[[], float] = time.monotonic, ui: Any | None = None,
                 profile: str | Profile = DEFAULT_PROFILE) -> None:
        """Create a powered-on phone; `ui` replaces the PhoneUI, `profile` names what commands cost.

        Raises:
            ValueError: an unknown profile name.
        """
        self.name = name
        self.profile = get_profile(profile) if isinstance(profile, str) else profile
        self.clock = clock
        self.ui = ui if ui is not None else _default_ui(width, height, clock, latency_ms)
        self.ui.latency_ms = latency_ms
        self.system = SystemState(width=width, height=height, adb_keyboard=adb_keyboard, name=name)
        self.lock = threading.RLock()
        self._drop_lock = threading.Lock()
        self.faults = Faults()
        self.input_log: list[dict[str, Any]] = []
        self.unknown_commands: list[str] = []
        self.commands: deque[str] = deque(maxlen=COMMAND_HISTORY)
        # Commands are recorded as adbd receives them, on the transport's thread, which must never wait for
        # `lock` (a server holding it may wait for the host's OKAY that thread delivers): they have their own.
        self._commands_lock = threading.Lock()
        self.transfers: list[dict[str, str]] = []
        self.last_screencap: bytes | None = None
        # Which PNGs screencap served and whether the screen had settled: tests check what an agent saw.
        self.frames_served: deque[dict[str, Any]] = deque(maxlen=COMMAND_HISTORY)
        self._png_cache: tuple[tuple[Any, ...], bytes] | None = None
        self.sockets = AbstractSockets()
        self.clipboard = ""
        self.logs = LogBuffer()
        self.reverses: dict[str, str] = {}  # `adb reverse`: device-side spec -> host-side spec
        self.booted_at = time.monotonic()
        self.ui.listener = functools.partial(log_app_event, self.logs)
        log_boot(self.logs)
        self._services = Services(self)
        self._listener: AdbListener | None = None
        self._announced = False
        self._address = ("127.0.0.1", 0)
        self._announce_to: int | None = None
        self._density = self.system.display.density
        self.boot_seconds = BOOT_SECONDS
        self.port = 0

    # ------------------------------------------------------------ lifecycle

    def start(self, host: str = "127.0.0.1", port: int = 0, announce_to_adb_port: int | None = None) -> int:
        """Listen for adb servers and return the port; optionally announce as an emulator.

        Raises:
            OSError: the port is taken, or the adb server could not be told.
        """
        if self._listener is not None:
            raise RuntimeError(f"{self.name} is already running on port {self.port}")
        listener = AdbListener(self._services.resolve, self._banner, self._should_drop,
                               link_bytes_per_s=lambda: self.profile.link_bytes_per_s)
        self.port = listener.start(host, port)
        self._listener = listener
        self._address, self._announce_to = (host, self.port), announce_to_adb_port
        if announce_to_adb_port is not None:
            announce(self.port, announce_to_adb_port)
            self._announced = True
        log.info("%s listening on %s:%s", self.name, host, self.port)
        return self.port

    def stop(self) -> None:
        """Stop listening and drop every connection."""
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        self._announced = False

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._listener is not None

    @property
    def serial(self) -> str:
        """What `adb devices` calls this phone: `emulator-N` when announced on an emulator port."""
        return (self._announced and emulator_serial(self.port)) or f"127.0.0.1:{self.port}"

    def connection_count(self) -> int:
        """How many adb servers are connected now."""
        return self._listener.connection_count() if self._listener else 0

    def reset(self) -> None:
        """Back to a freshly booted phone: screens, system state, logs and faults."""
        with self.lock:
            self.ui.reset()
            self.system.reset()
            self.apply_display()
            self.faults = Faults()
            self.input_log.clear()
            self.unknown_commands.clear()
            with self._commands_lock:
                self.commands.clear()
            self.transfers.clear()
            self.last_screencap = None
            self._png_cache = None
            self.clipboard = ""
            self.reverses.clear()
            self.logs.clear()
            self.booted_at = time.monotonic()
            log_boot(self.logs)

    def apply_display(self) -> None:
        """Lay the screen out as `wm size`, `wm density` and the user rotation say (call under the lock)."""
        display = self.system.display
        rotation = int(self.system.settings["system"].get("user_rotation", "0") or 0) % 4
        display.orientation = rotation
        width, height = self.system.screen_size()
        if rotation % 2:
            width, height = height, width
        density = display.override_density or display.density
        self.ui.rotation = rotation
        if (width, height, density) != (self.ui.width, self.ui.height, self._density):
            self.ui.resize(width, height, density / display.density)
            self._density = density
            self._png_cache = None

    def reboot(self, boot_seconds: float | None = None) -> None:
        """Restart: drop off adb, boot for `boot_seconds`, come back on the same port (announced again).

        Running apps, dialogs, the clipboard and the log reset; installed apps, files and settings stay.
        """
        threading.Thread(target=self._reboot, args=(self.boot_seconds if boot_seconds is None else boot_seconds,),
                         name=f"{self.name}-reboot", daemon=True).start()

    def _reboot(self, boot_seconds: float) -> None:
        time.sleep(0.2)  # let the reboot request's own stream close first
        address, announce_to = self._address, self._announce_to
        self.stop()
        with self.lock:
            self.system.props["sys.boot_completed"] = "0"
            self.ui.reboot()
            self.reverses.clear()
            self.clipboard = ""
            self.logs.clear()
            self.booted_at = time.monotonic()
        time.sleep(boot_seconds)
        with self.lock:
            self.system.props["sys.boot_completed"] = "1"
            log_boot(self.logs)
        self.start(address[0], address[1], announce_to)

    def uptime(self) -> float:
        """Seconds since the phone (re)booted."""
        return time.monotonic() - self.booted_at

    # ------------------------------------------------------------ faults and human actions

    def drop_connection_after(self, n_messages: int | None) -> None:
        """Drop every ADB connection when the host sends its (n+1)-th message from now; None disarms."""
        with self._drop_lock:
            self.faults.drop_connection_after = n_messages

    screencap_delay_ms = FaultKnob[int]()  # extra time every screencap takes
    screencap_fails = FaultKnob[bool]()  # screencap prints an error and exits 1
    secure_screen = FaultKnob[bool]()  # every screencap is black whatever is showing
    linker_warnings = FaultKnob[bool]()  # every program starts with a linker warning on stderr

    @property
    def latency_ms(self) -> int:
        """Transition latency: intermediate frames show this long after an input."""
        return int(self.ui.latency_ms)

    @latency_ms.setter
    def latency_ms(self, value: int) -> None:
        with self.lock:
            self.ui.latency_ms = value

    def set_faults(self, **knobs: Any) -> None:
        """Set several knobs by name (drop_connection_after, screencap_delay_ms, …, latency_ms).

        Raises:
            ValueError: an unknown knob.
        """
        for key, value in knobs.items():
            if key == "latency_ms":
                self.latency_ms = int(value)
            elif key in Faults.__dataclass_fields__:
                with self.lock:
                    setattr(self.faults, key, value)
            else:
                raise ValueError(f"unknown fault knob {key!r}; known: latency_ms, {', '.join(asdict(Faults()))}")

    def show_popup(self, title: str, message: str, buttons: list[str] | None = None) -> None:
        """Put a dialog on top of whatever is showing."""
        with self.lock:
            self.ui.show_popup(title, message, list(buttons or ["OK"]))

    def set_signed_in(self, value: bool) -> None:
        """The human passing (or resetting) the shop's sign-in wall."""
        with self.lock:
            self.ui.set_signed_in(value)

    # ------------------------------------------------------------ observation

    def keyboard_label(self) -> str | None:
        """What the IME bar shows: ADB Keyboard's label while it is the current IME."""
        return ADB_KEYBOARD_LABEL if self.system.adb_keyboard_active() else None

    def screen_key(self) -> tuple[Any, ...]:
        """Changes exactly when what the screen shows changes (call under the lock)."""
        secure = self.faults.secure_screen or self.ui.is_secure()
        return (self.ui.frame_id(), self.keyboard_label(), secure, self.ui.settled(), self.ui.width, self.ui.height,
                self.ui.screen_on)

    def screen_image(self) -> Image.Image:
        """What the display shows now: black on a secure window (call under the lock)."""
        if self.faults.secure_screen or self.ui.is_secure():
            return Image.new("RGB", (self.ui.width, self.ui.height), (0, 0, 0))
        return self.ui.render(keyboard_label=self.keyboard_label())

    def screencap(self, png: bool = True) -> bytes:
        """What `screencap` writes: PNG (or raw RGBA with a 16-byte header) of the screen now."""
        with self.lock:
            settled = self.ui.settled()
            key = self.screen_key()
            if png and settled and self._png_cache is not None and self._png_cache[0] == key:
                self.last_screencap = self._png_cache[1]
                self._log_frame(self._png_cache[1], settled)
                return self._png_cache[1]
            image = self.screen_image()
        # Encoding takes tens of milliseconds; other streams may use the phone meanwhile.
        if not png:
            rgba = image.convert("RGBA")
            raw = struct.pack("<4I", rgba.width, rgba.height, 1, 1) + rgba.tobytes()
            self._log_frame(raw, settled)  # hashing 10 MB outside the lock; a deque appends atomically
            return raw
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=PNG_LEVEL)
        data = buffer.getvalue()
        with self.lock:
            if settled:
                self._png_cache = (key, data)
            self.last_screencap = data
            self._log_frame(data, settled)
        return data

    def _log_frame(self, data: bytes, settled: bool) -> None:
        """Remember a frame `screencap` sent (PNG or raw) by its digests, and whether the screen was settled."""
        self.frames_served.append({"sha256": hashlib.sha256(data).hexdigest(), "md5": hashlib.md5(data).hexdigest(),
                                   "settled": settled})

    def state(self) -> dict[str, Any]:
        """The observable state: the UI's state plus IME, settings, files, logs, faults (JSON-able)."""
        with self.lock:
            return {
                **self.ui.state(),
                **self.system.state(),
                "name": self.name,
                "serial": self.serial if self.running else None,
                "screen": {"frame_id": self.ui.frame_id(), "settled": self.ui.settled(),
                           "secure": self.ui.is_secure(), "keyboard_label": self.keyboard_label()},
                "input_log": [dict(entry) for entry in self.input_log],
                "unknown_commands": list(self.unknown_commands),
                "commands": self._command_history(),
                "transfers": [dict(entry) for entry in self.transfers],
                "faults": {**asdict(self.faults), "latency_ms": self.latency_ms},
                "profile": self.profile.name,
                "clipboard": self.clipboard,
                "log": self.logs.messages(),
            }

    # ------------------------------------------------------------ the shell

    def new_session(self) -> Session:
        """A shell session over this phone (one per ADB stream)."""
        return Session(self, COMMANDS, self.system.fs, lock=self.lock, on_unknown=self.record_unknown,
                       cost_ms=lambda argv: self.profile.cost_ms(argv))

    def run(self, command: str) -> ShellResult:
        """Run a shell command in-process, without ADB (for tests and the control endpoint)."""
        stdout, stderr = OutputBuffer(framed=False), OutputBuffer(framed=False)
        self.record_command(command)
        status = self.new_session().run(command, lambda fd, data: (stdout if fd == 1 else stderr)(fd, data))
        return ShellResult(status, stdout.take().decode("utf-8", "replace"), stderr.take().decode("utf-8", "replace"))

    def record_input(self, kind: str, **details: Any) -> None:
        """Append to the input log (taps, swipes, keys, text, app starts, ADB Keyboard broadcasts)."""
        with self.lock:
            self.input_log.append({"t": self.clock(), "kind": kind, **details})

    def record_command(self, command: str) -> None:
        """Remember a shell command a client sent."""
        with self._commands_lock:
            self.commands.append(command)

    def _command_history(self) -> list[str]:
        with self._commands_lock:
            return list(self.commands)

    def record_unknown(self, name: str, argv: list[str]) -> None:
        """Remember a command the shell does not know (an agent bug worth seeing)."""
        with self.lock:
            self.unknown_commands.append(" ".join(argv))

    def record_sync(self, operation: str, path: str) -> None:
        """Remember a push or pull."""
        with self.lock:
            self.transfers.append({"op": operation, "path": path})

    # ------------------------------------------------------------ ADB plumbing

    def _banner(self) -> bytes:
        with self.lock:
            return device_banner(self.system.props)

    def _should_drop(self, message: Message) -> bool:
        # Not the phone lock: a command holding it may be waiting for this very message (stdin).
        with self._drop_lock:
            remaining = self.faults.drop_connection_after
            if remaining is None:
                return False
            if remaining > 0:
                self.faults.drop_connection_after = remaining - 1
                return False
            self.faults.drop_connection_after = None  # one drop per arming
            return True

    def __repr__(self) -> str:
        where = f"port {self.port}" if self.running else "stopped"
        return f"<VirtualPhone {self.name} {where}>"

