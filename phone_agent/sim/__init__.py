"""The virtual phone: a pure-Python Android device that the real adb binary and adbutils drive over TCP.

- `VirtualPhone` — one phone (UI, system state, ADB listener, faults, observable state).
- `serve()` — the foreground runner behind `phone-agent sim`.
- `ControlServer` — the HTTP/JSON control endpoint.
- `phone_agent.sim.testing` — `adb_server()` and `running_phone()` for test rigs.
"""

from phone_agent.sim.adb.device import Faults
from phone_agent.sim.control import ControlServer
from phone_agent.sim.phone import ShellResult, VirtualPhone
from phone_agent.sim.server import serve

__all__ = ["ControlServer", "Faults", "ShellResult", "VirtualPhone", "serve"]
