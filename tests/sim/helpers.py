"""Small helpers shared by the virtual phone's tests."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET

from phone_agent.sim.testing import AdbServer, PhoneSession


def adb(server: AdbServer, session: PhoneSession, *args: str, input: bytes | None = None,
        ) -> subprocess.CompletedProcess[bytes]:
    """Run the real adb binary against the session's phone."""
    return server.run("-s", session.phone.serial, *args, input=input)


def centre(xml: str, **attributes: str) -> tuple[int, int]:
    """The centre of the first node whose attributes match (use resource_id for resource-id)."""
    wanted = {key.replace("_", "-"): value for key, value in attributes.items()}
    for node in ET.fromstring(xml).iter("node"):
        if all(node.get(key) == value for key, value in wanted.items()):
            bounds = node.get("bounds", "").replace("][", ",").strip("[]")
            left, top, right, bottom = (int(n) for n in bounds.split(","))
            return (left + right) // 2, (top + bottom) // 2
    raise AssertionError(f"no node with {wanted} on screen")
