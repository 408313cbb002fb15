"""Test-rig helpers: a private adb server on a free port, and a virtual phone attached to it.

Both are context managers, usable from any test framework::

    with adb_server() as server, running_phone(server) as (phone, device):
        device.shell("input tap 540 1200")
        assert phone.state()["input_log"][-1]["kind"] == "tap"
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import adbutils
import platformdirs

from phone_agent.sim.phone import VirtualPhone
from phone_agent.sim.scrcpy.server import genuine_version

SCRCPY_SERVER_FILE = "scrcpy-server-v3.3.4"  # the name `phone-agent setup` gives it in the user cache
START_TIMEOUT_S = 20.0
DEVICE_TIMEOUT_S = 15.0
# Variables that would point the adb binary at the user's server, keys or devices.
_PRIVATE_VARIABLES = ("ANDROID_SERIAL", "ANDROID_ADB_SERVER_PORT", "ANDROID_ADB_SERVER_ADDRESS", "ADB_VENDOR_KEYS",
                      "ANDROID_SDK_HOME", "ANDROID_USER_HOME", "ADB_TRACE", "ADB_SERVER_SOCKET")


def genuine_scrcpy_server(env: dict[str, str] | None = None) -> Path | None:
    """A genuine scrcpy-server jar on this computer, from where the client looks for it, or None.

    Tried in order: PHONE_AGENT_SCRCPY_SERVER, SCRCPY_SERVER_PATH, then `phone-agent setup`'s cache.
    """
    env = dict(os.environ) if env is None else env
    places = [env.get("PHONE_AGENT_SCRCPY_SERVER"), env.get("SCRCPY_SERVER_PATH"),
              str(Path(platformdirs.user_cache_dir("phone-agent")) / SCRCPY_SERVER_FILE)]
    for place in filter(None, places):
        path = Path(place)
        with contextlib.suppress(OSError):
            if genuine_version(path.read_bytes()) is not None:
                return path
    return None


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on host:port and it can be bound (as the phone binds: TIME_WAIT is fine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


@dataclass
class AdbServer:
    """A running adb server private to a test run: its port, binary, environment and process."""

    port: int
    adb: str
    env: dict[str, str]
    home: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def run(self, *args: str, timeout: float = 60, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        """Run `adb -P PORT ARGS…` against this server and capture its output."""
        return subprocess.run([self.adb, "-P", str(self.port), *args], env=self.env, capture_output=True,
                              timeout=timeout, input=input, check=False)

    def client(self) -> adbutils.AdbClient:
        """An adbutils client of this server."""
        return adbutils.AdbClient(host="127.0.0.1", port=self.port)

    def device_states(self) -> dict[str, str]:
        """serial -> state, as `adb devices` lists them."""
        return {info.serial: info.state for info in self.client().list()}

    def wait_for(self, serial: str, state: str = "device", timeout: float = DEVICE_TIMEOUT_S) -> None:
        """Wait until the server lists `serial` in `state`.

        Raises:
            TimeoutError: it did not within `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        seen: dict[str, str] = {}
        while time.monotonic() < deadline:
            seen = self.device_states()
            if seen.get(serial) == state:
                return
            time.sleep(0.02)
        raise TimeoutError(f"{serial} is not {state!r} on adb server port {self.port} after {timeout}s: {seen}")

    def wait_gone(self, serial: str, timeout: float = DEVICE_TIMEOUT_S) -> bool:
        """Wait until the server no longer lists `serial`; False if it still does after `timeout`."""
        deadline = time.monotonic() + timeout
        while serial in self.device_states():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def stop(self) -> None:
        """Ask the server to exit, then make sure its process is gone."""
        if self.process is None:
            return
        with contextlib.suppress(subprocess.TimeoutExpired, OSError):
            self.run("kill-server", timeout=10)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None


def private_env(port: int, home: Path, *, scan_emulators: bool = False) -> dict[str, str]:
    """The environment for an adb binary that must not see the user's server, keys or devices."""
    env = {key: value for key, value in os.environ.items() if key not in _PRIVATE_VARIABLES}
    if not scan_emulators:
        # A maximum below 5555 stops the start-up probe of 5555-5585, so a private server never
        # attaches to the user's emulators; phones that announce themselves still appear.
        env["ADB_LOCAL_TRANSPORT_MAX_PORT"] = "5553"
    env.update({
        # No USB: a private server must not claim the user's phones from their own adb server, and
        # skipping the USB scan also saves the 3 s start-up wait for it.
        "ADB_LIBUSB": "0",
        "ADB_USB": "0",
        "HOME": str(home),
        "ANDROID_USER_HOME": str(home / ".android"),
        "ANDROID_ADB_SERVER_PORT": str(port),
        "ADB_MDNS": "0",
        "ADB_MDNS_OPENSCREEN": "0",
        "TMPDIR": str(home),
    })
    return env


@contextlib.contextmanager
def adb_server(port: int | None = None, adb: str | None = None, *, isolate_env: bool = True,
               scan_emulators: bool = False) -> Iterator[AdbServer]:
    """Start `adb -P PORT nodaemon server` on a free port (never 5037) with a private HOME; stop it after.

    With `isolate_env`, ANDROID_ADB_SERVER_PORT points at this server while it runs: when adbutils
    cannot connect it runs `adb start-server` itself, which would otherwise start one on port 5037.
    Without `scan_emulators` the server skips its start-up probe of ports 5555-5585.

    Raises:
        RuntimeError: the server did not come up.
    """
    port = port or free_port()
    binary = adb or adbutils.adb_path()
    home = Path(tempfile.mkdtemp(prefix="sim-adb-"))
    (home / ".android").mkdir()
    env = private_env(port, home, scan_emulators=scan_emulators)
    log_file = (home / "adb-server.log").open("wb")
    process = subprocess.Popen([binary, "-P", str(port), "nodaemon", "server"], env=env, stdin=subprocess.DEVNULL,
                               stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    server = AdbServer(port, binary, env, home, process)
    saved = os.environ.get("ANDROID_ADB_SERVER_PORT")
    try:
        _wait_until_serving(server, log_file.name)
        if isolate_env:
            os.environ["ANDROID_ADB_SERVER_PORT"] = str(port)
        yield server
    finally:
        if isolate_env:
            if saved is None:
                os.environ.pop("ANDROID_ADB_SERVER_PORT", None)
            else:
                os.environ["ANDROID_ADB_SERVER_PORT"] = saved
        server.stop()
        log_file.close()
        shutil.rmtree(home, ignore_errors=True)


def _wait_until_serving(server: AdbServer, log_path: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert server.process is not None
        if server.process.poll() is not None:
            raise RuntimeError(f"adb server exited with {server.process.returncode}: "
                               f"{Path(log_path).read_text(errors='replace')[-2000:]}")
        # A raw probe: adbutils would answer a refused connection by starting a server on port 5037.
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", server.port), timeout=1) as sock:
            sock.sendall(b"000chost:version")
            if sock.recv(4) == b"OKAY":
                return
        time.sleep(0.05)
    raise RuntimeError(f"adb server on port {server.port} did not answer within {START_TIMEOUT_S}s")


class PhoneSession(NamedTuple):
    """A started phone and the adbutils device that reaches it through the adb server."""

    phone: VirtualPhone
    device: adbutils.AdbDevice


@contextlib.contextmanager
def running_phone(server: AdbServer, *, emulator_port: int | None = None,
                  **phone_kwargs: Any) -> Iterator[PhoneSession]:
    """Start a VirtualPhone, attach it to `server` and wait until it is `device`; stop it after.

    With `emulator_port` (odd, 5555-5585) the phone announces itself and appears as `emulator-N`;
    otherwise it listens on a free port and the server runs `adb connect`.

    Raises:
        TimeoutError: the server never listed the phone as a device.
    """
    phone = VirtualPhone(**phone_kwargs)
    if emulator_port is not None:
        phone.start(port=emulator_port, announce_to_adb_port=server.port)
    else:
        phone.start()
    client = server.client()
    try:
        if emulator_port is None:
            client.connect(f"127.0.0.1:{phone.port}", timeout=DEVICE_TIMEOUT_S)
        server.wait_for(phone.serial)
        yield PhoneSession(phone, client.device(phone.serial))
    finally:
        serial = phone.serial
        if emulator_port is None:
            with contextlib.suppress(adbutils.AdbError, OSError):
                client.disconnect(f"127.0.0.1:{phone.port}")
        phone.stop()
        # The next phone may reuse the port: let the server forget this one first.
        with contextlib.suppress(adbutils.AdbError, OSError):
            server.wait_gone(serial, timeout=5)
