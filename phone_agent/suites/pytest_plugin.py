"""A pytest plugin: ``pytest suites/`` collects each YAML suite case as a test item.

Options choose the phones and the model::

    pytest suites/ --pa-sim --pa-replay                    # a virtual phone, recorded model replies
    pytest suites/ --pa-device emulator-5554 --pa-provider zai
    pytest suites/ -n 2 --pa-device emulator-5554 --pa-device emulator-5556   # pytest-xdist: a phone per worker

Suite files are collected when they sit in a ``suites`` folder or any ``--pa-`` option is given, so the
plugin stays out of other projects' YAML. Case tags become pytest markers (``-m smoke``).

It also gives test rigs two fixtures: ``sim_adb_server`` (a private adb server on a free port, for
the session) and ``sim_phone`` (a fresh virtual phone attached to it: ``(VirtualPhone, adbutils device)``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from apps_registry import Registry
from phone_agent.config import load_settings, resolve_endpoint
from phone_agent.device.channel import CHANNELS
from phone_agent.errors import PhoneAgentError
from phone_agent.session import SIM_DEVICE, agent_settings, open_client, open_phone
from phone_agent.sim.testing import AdbServer, PhoneSession, adb_server, genuine_scrcpy_server, running_phone
from phone_agent.suites.case import CaseEnvironment, CaseResult, run_case
from phone_agent.suites.recording import Mode
from phone_agent.suites.spec import Case, Suite, SuiteError, is_suite_file, load_suite
from phone_agent.trace import home_dir

_ENVIRONMENT = pytest.StashKey[CaseEnvironment]()
_STACK = pytest.StashKey[ExitStack]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("phone-agent", "phone-agent regression suites")
    group.addoption(
        "--pa-device", action="append", default=[], help="adb serial of a phone (repeat: one per xdist worker)"
    )
    group.addoption("--pa-sim", action="store_true", help="run suite cases on a virtual phone")
    group.addoption("--pa-adb-port", type=int, help="port of the adb server")
    group.addoption("--pa-channel", choices=CHANNELS, help="how to reach the phone: adb (default), auto or scrcpy")
    group.addoption("--pa-provider", help="model provider preset for AI steps and judges")
    group.addoption("--pa-base-url", help="OpenAI-compatible endpoint for AI steps and judges")
    group.addoption("--pa-model", help="model name")
    group.addoption("--pa-api-key", help="API key")
    group.addoption("--pa-record", action="store_true", help="save the model's replies next to the suites")
    group.addoption("--pa-replay", action="store_true", help="answer from saved replies while the screen matches")
    group.addoption("--pa-runs-dir", type=Path, help="where case run directories go")


_PYTEST_MARKS = {"skip", "skipif", "xfail", "parametrize", "usefixtures", "filterwarnings"}


@pytest.fixture(scope="session")
def sim_adb_server() -> Iterator[AdbServer]:
    """A private adb server (bundled adb, free port, its own HOME) for the test session."""
    with adb_server() as server:
        yield server


@pytest.fixture
def sim_phone(sim_adb_server: AdbServer, request: pytest.FixtureRequest) -> Iterator[PhoneSession]:
    """A fresh virtual phone attached to ``sim_adb_server``; stopped after the test.

    Its costs follow a phone profile ("instant" unless the test asks, e.g.
    ``@pytest.mark.parametrize("sim_phone", ["mid-range"], indirect=True)``).
    """
    with running_phone(sim_adb_server, profile=getattr(request, "param", "instant")) as session:
        yield session


@pytest.fixture(scope="session")
def scrcpy_server_jar() -> Path:
    """A genuine scrcpy-server jar to push (PHONE_AGENT_SCRCPY_SERVER, SCRCPY_SERVER_PATH or the user cache)."""
    path = genuine_scrcpy_server()
    if path is None:
        pytest.skip("no genuine scrcpy-server v3.3.4: run `phone-agent setup` or set PHONE_AGENT_SCRCPY_SERVER")
    return path


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    config = parent.config
    asked = any(config.getoption(name) for name in ("pa_device", "pa_sim", "pa_replay", "pa_record", "pa_base_url"))
    if not (asked or "suites" in file_path.parts):
        return None
    try:
        is_suite = is_suite_file(file_path)
    except SuiteError:
        return None  # pytest walks every file: an unreadable YAML may well be no suite (`suite run` reports it)
    return SuiteFile.from_parent(parent, path=file_path) if is_suite else None


def pytest_unconfigure(config: pytest.Config) -> None:
    stack = config.stash.get(_STACK, None)
    if stack is not None:
        stack.close()


class SuiteFile(pytest.File):
    """One suite file; its cases are the items."""

    def collect(self) -> Iterator[pytest.Item]:
        try:
            suite = load_suite(self.path)
        except SuiteError as exc:
            raise self.CollectError(str(exc)) from None
        for case in suite.cases:
            item = SuiteCase.from_parent(self, name=case.name, suite=suite, case=case)
            for tag in case.tags:
                if tag in _PYTEST_MARKS:  # a tag must not turn into pytest's own skip or xfail
                    continue
                self.config.addinivalue_line("markers", f"{tag}: suite cases tagged {tag}")
                item.add_marker(tag)
            yield item


class SuiteCaseFailed(Exception):
    """A case did not pass; carries its result for the report."""

    def __init__(self, result: CaseResult) -> None:
        super().__init__(result.message)
        self.result = result


class SuiteCase(pytest.Item):
    """One case of a suite file."""

    def __init__(self, *, suite: Suite, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.suite, self.case = suite, case

    def runtest(self) -> None:
        result = run_case(self.suite, self.case, _environment(self.config))
        if result.status == "interrupted":  # Ctrl-C: the case's records are written, now pytest stops
            raise KeyboardInterrupt(result.message)
        if result.status != "passed":
            raise SuiteCaseFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, SuiteCaseFailed):
            result = excinfo.value.result
            lines = [f"{result.status}: {result.message}", f"run directory: {result.case_dir}"]
            lines += [f"report: {report}" for report in result.reports]
            lines += [f"step: {step}" for step in result.steps]
            return "\n".join(lines)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.suite.name}::{self.case.name}"


def _device_for_this_worker(serials: list[str]) -> str | None:
    """The phone of this pytest-xdist worker (gw0 takes the first, gw1 the second, ...), or the first."""
    if not serials:
        return None
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    return serials[int(worker) % len(serials)] if worker.isdigit() else serials[0]


def _environment(config: pytest.Config) -> CaseEnvironment:
    """Open the phone and the model once per test session, on first use."""
    if _ENVIRONMENT in config.stash:
        return config.stash[_ENVIRONMENT]
    option = config.getoption
    try:
        settings = load_settings(
            device=SIM_DEVICE if option("pa_sim") else _device_for_this_worker(option("pa_device")),
            adb_port=option("pa_adb_port"),
            channel=option("pa_channel") or "adb",  # recorded screens and image templates expect lossless frames
            provider=option("pa_provider"),
            base_url=option("pa_base_url"),
            model=option("pa_model"),
            api_key=option("pa_api_key"),
        )
        stack = config.stash[_STACK] = ExitStack()
        device = stack.enter_context(open_phone(settings))[1].device
        client = None
        if any((settings.provider, settings.base_url, settings.model, settings.api_key)):
            client = stack.enter_context(open_client(resolve_endpoint(settings), settings))
    except PhoneAgentError as exc:
        raise pytest.UsageError(f"phone-agent suites: {exc}") from None
    mode: Mode | None = "record" if option("pa_record") else "replay" if option("pa_replay") else None
    runs_dir = option("pa_runs_dir") or home_dir() / "runs" / "pytest"
    registry = Registry.load(settings.apps_files)
    env = CaseEnvironment(device, registry, client, runs_dir, mode, agent_settings(settings, registry, device))
    config.stash[_ENVIRONMENT] = env
    return env
