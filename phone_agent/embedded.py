"""A virtual phone started for one command, behind an adb server of its own (``--device sim``, demo)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from phone_agent.errors import DeviceError
from phone_agent.sim.phone import VirtualPhone
from phone_agent.sim.testing import adb_server, running_phone


@dataclass(frozen=True)
class EmbeddedPhone:
    """A running virtual phone and the private adb server that reaches it."""

    phone: VirtualPhone
    serial: str
    adb_port: int


@contextmanager
def embedded_phone(**phone_options: Any) -> Iterator[EmbeddedPhone]:
    """Start a private adb server (free port, bundled adb) and a virtual phone; stop both afterwards.

    Raises:
        DeviceError: the adb server or the phone could not be started.
    """
    with ExitStack() as stack:
        try:
            server = stack.enter_context(adb_server())
            session = stack.enter_context(running_phone(server, **phone_options))
        except (OSError, RuntimeError, TimeoutError) as exc:
            raise DeviceError(f"Cannot start the virtual phone and its adb server: {exc}") from exc
        yield EmbeddedPhone(session.phone, session.phone.serial, server.port)
