"""Guards shared by every test: no real model request ever leaves this machine."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from phone_agent.model.client import ChatClient
from phone_agent.sim.testing import AdbServer, PhoneSession, genuine_scrcpy_server
from tests.support import FakeClock

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture(autouse=True)
def no_remote_model_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any HTTP request to a non-local host (a real provider would cost money and need a network)."""
    real = httpx.HTTPTransport.handle_request

    def guarded(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        if request.url.host not in _LOCAL_HOSTS:
            raise AssertionError(f"a test tried to reach {request.url.host}: use the replay server or MockTransport")
        return real(self, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", guarded)
    for name in (
        "PHONE_AGENT_API_KEY",
        "ZAI_API_KEY",
        "ZHIPUAI_API_KEY",
        "BIGMODEL_API_KEY",
        "NOVITA_API_KEY",
        "PARASAIL_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def scrcpy_server_jar() -> Path:
    """The genuine scrcpy server: our own suite fails without it rather than skipping the scrcpy channel."""
    path = genuine_scrcpy_server()
    if path is None:
        pytest.fail("no genuine scrcpy-server v3.3.4: run `phone-agent setup` (the README's test command does)")
    return path


@pytest.fixture(scope="session")
def adb(sim_adb_server: AdbServer) -> AdbServer:
    """The session's private adb server, from the fixtures our pytest plugin gives every test rig."""
    return sim_adb_server


@pytest.fixture
def phone(sim_phone: PhoneSession) -> PhoneSession:
    """A fresh virtual phone attached to the session's adb server."""
    return sim_phone


@pytest.fixture
def model_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The clock every model client made during the test waits on between retries: a command's retries pass at
    once, and the test can see how long they would have waited."""
    clock = FakeClock()
    monkeypatch.setitem(ChatClient.__init__.__kwdefaults__, "sleep", clock.sleep)
    return clock
