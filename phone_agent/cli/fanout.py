"""Choosing phones from the command line, and one task on several of them: lines, summary table, exit code."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from contextlib import AbstractContextManager, ExitStack
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from phone_agent.cli.common import EXIT_BY_STATUS, EXIT_OK, exit_code
from phone_agent.errors import ConfigError

if TYPE_CHECKING:
    from apps_registry import Registry
    from phone_agent.cancellation import Cancellation
    from phone_agent.config import Endpoint, Settings
    from phone_agent.embedded import EmbeddedPhone
    from phone_agent.fanout import PhoneRun
    from phone_agent.loop.results import Listener
    from phone_agent.phones import PhoneTarget
    from phone_agent.session import Session

AllDevicesOption = Annotated[bool, typer.Option("--all-devices", help="Use every ready phone.")]
SimOption = Annotated[int, typer.Option("--sim", help="Start this many virtual phones and use them.", min=0)]
AdbHostOption = Annotated[
    list[str] | None,
    typer.Option(
        "--adb-host",
        help="An adb server to find phones on, HOST[:PORT] (repeatable): another computer's `adb -a` server or a "
        "device farm's [default: PHONE_AGENT_ADB_HOST and --adb-port, i.e. this computer's].",
    ),
]
# Worst first: a setup problem, then a person needed, then a failure. An interruption outranks them all.
_SEVERITY = {EXIT_OK: 0, 1: 1, 3: 2, 2: 3, 130: 4}


def phone_targets(
    stack: ExitStack, settings: Settings, devices: Sequence[str], all_devices: bool, sim: int, adb_hosts: Sequence[str]
) -> tuple[list[PhoneTarget], list[EmbeddedPhone]]:
    """The phones chosen by --device (repeated), --all-devices or --sim, on the adb servers of --adb-host.

    Virtual phones started for --sim stay up until ``stack`` closes.

    Raises:
        ConfigError: the phones are chosen more than one way, or an --adb-host is not an address.
        NoDeviceError, DeviceError: see ``choose_phones``.
    """
    from phone_agent.embedded import embedded_phones
    from phone_agent.phones import AdbServerAddress, choose_phones

    if sum((bool(devices), all_devices, sim > 0)) > 1:
        raise ConfigError("Choose the phones one way: --device, --all-devices or --sim.")
    if sim:
        if adb_hosts:
            raise ConfigError("--sim starts its own adb server: leave out --adb-host.")
        embedded = stack.enter_context(embedded_phones(sim))
        server = AdbServerAddress("127.0.0.1", embedded[0].adb_port)
        return choose_phones([server], [e.serial for e in embedded], all_devices=False), embedded
    servers = [AdbServerAddress.parse(host, settings.adb_port) for host in dict.fromkeys(adb_hosts)]
    return choose_phones(servers or [AdbServerAddress(settings.adb_host, settings.adb_port)], devices,
                         all_devices=all_devices), []


def on_phone(settings: Settings, target: PhoneTarget) -> Settings:
    """The settings of a run on this one phone."""
    return settings.model_copy(
        update={"device": target.serial, "adb_host": target.server.host, "adb_port": target.server.port}
    )


def run_on_phones(
    task: str,
    targets: Sequence[PhoneTarget],
    settings: Settings,
    endpoint: Endpoint,
    registry: Registry,
    runs_dir: Path | None,
    *,
    quiet: bool,
) -> list[PhoneRun]:
    """Run ``task`` on every phone at once, unattended, printing a line per step and phone, then a summary."""
    from phone_agent.fanout import run_everywhere, write_index
    from phone_agent.handoff import NonInteractiveHandOff
    from phone_agent.session import open_session, writable_runs_dir

    base = writable_runs_dir(runs_dir)
    out_dir = Path(tempfile.mkdtemp(prefix=datetime.now().strftime("fanout-%Y%m%d-%H%M%S-"), dir=base))

    def open_one(
        target: PhoneTarget, phone_runs: Path, listener: Listener, cancellation: Cancellation
    ) -> AbstractContextManager[Session]:
        return open_session(
            on_phone(settings, target), endpoint, registry=registry, handoff=NonInteractiveHandOff(),
            listeners=[listener], runs_dir=phone_runs, cancellation=cancellation,
        )

    if not quiet:
        typer.echo(f"{task!r} on {len(targets)} phones: {', '.join(t.label for t in targets)} · {endpoint.provider} "
                   f"{endpoint.model} at {endpoint.public_url} (unattended: a take-over ends that phone's run)")
    runs = run_everywhere(task, targets, open_one, out_dir, typer.echo if not quiet else lambda _: None)
    typer.echo(f"\n{'phone':<24} {'status':<12} {'steps':>5} {'time':>8}  report")
    for run in runs:
        steps = len(run.result.steps) if run.result is not None else 0
        seconds = f"{run.result.duration:.1f} s" if run.result is not None else "-"
        typer.echo(f"{run.target.label[:24]:<24} {run.status:<12} {steps:>5} {seconds:>8}  {run.report or run.message}")
    finished = sum(run.status == "finished" for run in runs)
    typer.echo(f"\n{finished} of {len(runs)} phones finished. Index: {write_index(task, runs, out_dir)}")
    return runs


def worst_exit_code(runs: Sequence[PhoneRun]) -> int:
    """0 only when every phone finished; else the worst: interrupted, setup problem, person needed, failed."""
    codes = [exit_code(run.error) if run.error is not None else EXIT_BY_STATUS[run.status] for run in runs]
    return max(codes, key=_SEVERITY.__getitem__, default=EXIT_OK)
