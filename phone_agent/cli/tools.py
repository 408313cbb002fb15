"""The setup and inspection commands: ``sim``, ``doctor``, ``report``, ``devices``, ``apps``."""

from __future__ import annotations

import json
import re
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from phone_agent.cli.common import (
    EXIT_FAILED,
    EXIT_USAGE,
    AdbPortOption,
    AppsFileOption,
    ChannelOption,
    DeviceOption,
    ScrcpyServerOption,
    app,
    registry_from,
    reported,
)
from phone_agent.errors import ConfigError
from phone_agent.sim.profiles import DEFAULT_PROFILE, PROFILES


@app.command()
def sim(
    phones: Annotated[int, typer.Option(help="How many virtual phones to start.", min=1)] = 1,
    port: Annotated[
        int | None, typer.Option(help="Port of the first phone (the next ones: +2) [default: free emulator ports].")
    ] = None,
    size: Annotated[str, typer.Option(help="Screen size WIDTHxHEIGHT.")] = "1080x2400",
    no_adb_keyboard: Annotated[bool, typer.Option("--no-adb-keyboard", help="Phones without ADB Keyboard.")] = False,
    latency_ms: Annotated[int, typer.Option(help="Transition latency after each input, in ms.", min=0)] = 0,
    profile: Annotated[
        str, typer.Option(help=f"What each command costs, as on this class of phone: {', '.join(PROFILES)}.")
    ] = DEFAULT_PROFILE,
    model_script: Annotated[
        Path | None, typer.Option(help="Also serve this replay script as an OpenAI-compatible model.", exists=True)
    ] = None,
    adb_port: AdbPortOption = None,
) -> None:
    """Start virtual phones (and optionally a replay model) in the foreground until Ctrl-C."""
    from phone_agent.config import load_settings
    from phone_agent.sim.model_server import ReplayModelServer, load_script
    from phone_agent.sim.server import serve

    with reported():
        match = re.fullmatch(r"(\d+)x(\d+)", size)
        if match is None:
            raise ConfigError(f"--size must look like 1080x2400, not {size!r}.")
        if profile not in PROFILES:
            raise ConfigError(f"--profile must be one of {', '.join(PROFILES)}, not {profile!r}.")
        settings = load_settings(adb_port=adb_port)
        with ExitStack() as stack:
            if model_script is not None:
                try:
                    script = load_script(model_script)
                except ValueError as exc:
                    raise ConfigError(str(exc)) from None
                server = stack.enter_context(ReplayModelServer(script))
                typer.echo(f"Replay model: --base-url {server.base_url} --model {script.model} "
                           f"({len(script.replies)} scripted replies)")
            try:
                serve(
                    phones=phones, port=port, size=(int(match[1]), int(match[2])), adb_keyboard=not no_adb_keyboard,
                    latency_ms=latency_ms, adb_server_port=settings.adb_port, print_fn=typer.echo, profile=profile,
                )
            except OSError as exc:
                raise ConfigError(f"Cannot start the virtual phones: {exc}") from exc


@app.command()
def doctor(
    device: DeviceOption = None,
    provider: Annotated[str | None, typer.Option(help="Model provider preset [default: zai].")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint URL.")] = None,
    model: Annotated[str | None, typer.Option(help="Model name.")] = None,
    api_key: Annotated[str | None, typer.Option(help="API key (never printed).")] = None,
    deep: Annotated[bool, typer.Option("--deep", help="Also send the current screenshot for one real step.")] = False,
    adb_port: AdbPortOption = None,
    channel: ChannelOption = None,
    scrcpy_server: ScrcpyServerOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as a JSON list.")] = False,
) -> None:
    """Check adb, the device, the channel a run would use, text input and the model endpoint, and say how to fix
    what fails.

    Exit code 0 when nothing fails (warnings allowed), 1 otherwise.
    """
    from phone_agent.config import load_settings
    from phone_agent.console import printable
    from phone_agent.doctor import as_json as checks_as_json
    from phone_agent.doctor import run_checks
    from phone_agent.embedded import embedded_phones
    from phone_agent.session import SIM_DEVICE

    with reported():
        settings = load_settings(
            device=device, provider=provider, base_url=base_url, model=model, api_key=api_key, adb_port=adb_port,
            channel=channel, scrcpy_server=scrcpy_server,
        )
        checks = []
        with ExitStack() as stack:
            if settings.device == SIM_DEVICE:  # check a virtual phone started for the purpose
                (phone,) = stack.enter_context(embedded_phones(1))
                settings = settings.model_copy(update={"device": phone.serial, "adb_port": phone.adb_port})
            for check in run_checks(settings, deep=deep):
                checks.append(check)
                if not as_json:
                    mark = {"ok": "✓", "warn": "!", "fail": "✗"}[check.status]
                    # Details quote the model's reply and the endpoint's errors.
                    typer.echo(f"{mark} {check.name}: {printable(check.detail)}")
                    if check.fix and check.status != "ok":
                        typer.echo(f"    fix: {printable(check.fix)}")
        if as_json:
            typer.echo(json.dumps(checks_as_json(checks), ensure_ascii=False, indent=1))
        if any(check.status == "fail" for check in checks):
            raise typer.Exit(EXIT_FAILED)


@app.command()
def report(run_dir: Annotated[Path, typer.Argument(help="A run directory (it holds trace.jsonl).")]) -> None:
    """Rebuild report.html of a run directory and print its path."""
    from phone_agent.report import write_report
    from phone_agent.trace import TRACE_FILE

    if not (run_dir / TRACE_FILE).is_file():
        typer.echo(f"Error: {run_dir} has no {TRACE_FILE}; give a directory that `phone-agent run` printed.", err=True)
        raise typer.Exit(EXIT_USAGE)
    typer.echo(str(write_report(run_dir)))


@app.command()
def devices(
    adb_port: AdbPortOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List the devices the adb server sees, with their model and state."""
    import adbutils

    from phone_agent.config import load_settings
    from phone_agent.device.adb_server import DEVICE_STATE_ADVICE, list_devices

    with reported():
        settings = load_settings(adb_port=adb_port)
        infos = list_devices(adbutils.AdbClient(host=settings.adb_host, port=settings.adb_port))
        rows = [{"serial": i.serial, "state": i.state, "model": i.tags.get("model", "")} for i in infos]
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False))
            return
        if not rows:
            typer.echo("No devices. Enable USB debugging and plug the phone in, start an emulator, "
                       "or `adb connect HOST:PORT`.")
        for row in rows:
            advice = DEVICE_STATE_ADVICE.get(row["state"])
            hint = f"  ← {advice}" if advice else ""
            typer.echo(f"{row['serial']:<24} {row['state']:<13} {row['model']}{hint}")


@app.command()
def apps(
    apps_file: AppsFileOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List the apps the agent can launch by name, with their aliases and packages."""
    from phone_agent.config import load_settings

    with reported():
        registry = registry_from(load_settings(apps_files=apps_file))
        if as_json:
            typer.echo(json.dumps([a.model_dump(mode="json") for a in registry.apps], ensure_ascii=False, indent=1))
            return
        for entry in registry.apps:
            aliases = f" ({', '.join(entry.aliases)})" if entry.aliases else ""
            typer.echo(f"{entry.name}{aliases}  {entry.package}  [{entry.category}]")
