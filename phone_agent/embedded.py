"""Virtual phones started for one command, behind an adb server of their own (``--device sim``, demo, suites)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from phone_agent.errors import DeviceError

if TYPE_CHECKING:
    from phone_agent.sim.phone import VirtualPhone


@dataclass(frozen=True)
class EmbeddedPhone:
    """A running virtual phone and the private adb server that reaches it."""

    phone: VirtualPhone
    serial: str
    adb_port: int


@contextmanager
def embedded_phones(count: int = 1, **phone_options: Any) -> Iterator[list[EmbeddedPhone]]:
    """Start a private adb server (free port, bundled adb) and ``count`` virtual phones; stop all afterwards.

    Raises:
        DeviceError: the adb server or a phone could not be started.
    """
    from phone_agent.sim.testing import adb_server, running_phone  # the simulator only when a command wants it

    with ExitStack() as stack:
        try:
            server = stack.enter_context(adb_server())
            sessions = [stack.enter_context(running_phone(server, **phone_options)) for _ in range(count)]
        except (OSError, RuntimeError, TimeoutError) as exc:
            raise DeviceError(f"Cannot start the virtual phones and their adb server: {exc}") from exc
        yield [EmbeddedPhone(s.phone, s.phone.serial, server.port) for s in sessions]
