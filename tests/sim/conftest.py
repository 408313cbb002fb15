"""Fixtures for the virtual phone's own tests, named as these tests use them (from the plugin's fixtures)."""

from __future__ import annotations

import pytest

from phone_agent.sim.testing import AdbServer, PhoneSession


@pytest.fixture(scope="session")
def adb_server(sim_adb_server: AdbServer) -> AdbServer:
    """The session's private adb server on a free port."""
    return sim_adb_server


@pytest.fixture
def phone(sim_phone: PhoneSession) -> PhoneSession:
    """A fresh VirtualPhone connected to the session's adb server: `(phone, adbutils device)`."""
    return sim_phone
