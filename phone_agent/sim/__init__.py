"""The virtual phone: a pure-Python Android device that the real adb binary and adbutils drive over TCP.

- `VirtualPhone` — one phone (UI, system state, ADB listener, faults, observable state).
- `serve()` — the foreground runner behind `phone-agent sim`.
- `ControlServer` — the HTTP/JSON control endpoint.
- `phone_agent.sim.testing` — `adb_server()` and `running_phone()` for test rigs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from phone_agent.sim.adb.device import Faults
    from phone_agent.sim.control import ControlServer
    from phone_agent.sim.phone import ShellResult, VirtualPhone
    from phone_agent.sim.server import serve

__all__ = ["ControlServer", "Faults", "ShellResult", "VirtualPhone", "serve"]
# Imported on first use: the replay model server and the profiles, which every command loads, need none of them.
_HOMES = {
    "Faults": "phone_agent.sim.adb.device",
    "ControlServer": "phone_agent.sim.control",
    "ShellResult": "phone_agent.sim.phone",
    "VirtualPhone": "phone_agent.sim.phone",
    "serve": "phone_agent.sim.server",
}


def __getattr__(name: str) -> Any:
    """One of the package's names, from the module that defines it."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
