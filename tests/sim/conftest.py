"""Fixtures for the virtual phone: one private adb server per session, a fresh phone per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from phone_agent.sim import testing
from phone_agent.sim.testing import AdbServer, PhoneSession


@pytest.fixture(scope="session")
def adb_server() -> Iterator[AdbServer]:
    """An adb server on a free port with a private HOME, shared by the session and stopped after it."""
    with testing.adb_server() as server:
        yield server


@pytest.fixture
def phone(adb_server: AdbServer) -> Iterator[PhoneSession]:
    """A fresh VirtualPhone connected to the session's adb server: `(phone, adbutils device)`."""
    with testing.running_phone(adb_server) as session:
        yield session
