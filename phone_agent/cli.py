"""The ``phone-agent`` command. The only place that turns errors into messages and exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from apps_registry import AppDataError, Registry
from phone_agent.agent import AgentSettings, PhoneAgent, RunResult
from phone_agent.config import Settings, load_settings, resolve_endpoint
from phone_agent.console import ConsolePrinter
from phone_agent.device.adb import AdbDevice, list_devices
from phone_agent.errors import (
    ArrearsError,
    AuthenticationError,
    ConfigError,
    DeviceStateError,
    ModelUnreachableError,
    NoDeviceError,
    PhoneAgentError,
    UnknownModelError,
)
from phone_agent.handoff import ConsoleHandOff, HandOff, NonInteractiveHandOff
from phone_agent.model.client import ChatClient
from phone_agent.report import write_report
from phone_agent.trace import TRACE_FILE, TraceRecorder, new_run_dir

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NEEDS_HUMAN, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
_EXIT_BY_STATUS = {
    "finished": EXIT_OK,
    "failed": EXIT_FAILED,
    "max_steps": EXIT_FAILED,
    "needs_human": EXIT_NEEDS_HUMAN,
    "interrupted": EXIT_INTERRUPTED,
}
# Errors a person fixes in their setup rather than in the task.
_SETUP_ERRORS = (
    ConfigError, NoDeviceError, DeviceStateError, AuthenticationError, ArrearsError, UnknownModelError,
    ModelUnreachableError,
)

app = typer.Typer(
    help="Operate an Android phone from a sentence, with a vision-language model (AutoGLM-Phone).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

DeviceOption = Annotated[
    str | None, typer.Option("--device", "-d", help="adb serial of the phone (needed when several are attached).")
]
AdbPortOption = Annotated[
    int | None, typer.Option("--adb-port", help="Port of the adb server [default: ANDROID_ADB_SERVER_PORT or 5037].")
]
RunsDirOption = Annotated[
    Path | None,
    typer.Option("--runs-dir", help="Where run directories go [default: $PHONE_AGENT_HOME/runs or the user data dir]."),
]
AppsFileOption = Annotated[
    list[Path] | None, typer.Option("--apps-file", help="Extra YAML file of apps (may repeat).", exists=True)
]


def _fail(error: PhoneAgentError | AppDataError) -> NoReturn:
    typer.echo(f"Error: {error}", err=True)
    raise typer.Exit(EXIT_USAGE if isinstance(error, (*_SETUP_ERRORS, AppDataError)) else EXIT_FAILED)


@contextmanager
def _reported() -> Iterator[None]:
    """Turn our errors into a one-line message and the documented exit code."""
    try:
        yield
    except (PhoneAgentError, AppDataError) as error:
        _fail(error)


def _registry(settings: Settings) -> Registry:
    return Registry.load(settings.apps_files)


@app.command()
def run(
    task: Annotated[str | None, typer.Argument(help="What to do, e.g. 'open eBay and search earbuds'. "
                                                    "Without it, tasks are asked for one after another.")] = None,
    device: DeviceOption = None,
    provider: Annotated[
        str | None, typer.Option(help="Model provider preset: zai, bigmodel, local, novita, parasail [default: zai].")
    ] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint URL (overrides the preset).")] = None,
    model: Annotated[str | None, typer.Option(help="Model name (overrides the preset).")] = None,
    api_key: Annotated[
        str | None,
        typer.Option(help="API key [default: PHONE_AGENT_API_KEY, then the provider's variable, e.g. ZAI_API_KEY]."),
    ] = None,
    lang: Annotated[str | None, typer.Option(help="Language of the system prompt: en or zh [default: en].")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Stop after this many steps [default: 50].")] = None,
    non_interactive: Annotated[
        bool,
        typer.Option(
            "--non-interactive",
            help="Never wait for a person: deny sensitive taps, end with exit 3 when a take-over is needed. "
            "Implied when stdin is not a terminal.",
        ),
    ] = False,
    no_stream: Annotated[bool, typer.Option("--no-stream", help="Ask for whole replies instead of streaming.")] = False,
    apps_file: AppsFileOption = None,
    adb_port: AdbPortOption = None,
    runs_dir: RunsDirOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the result.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also print per-step timings.")] = False,
) -> None:
    """Run a task on the phone. Exit codes: 0 done, 1 failed, 2 setup error, 3 needs a person, 130 interrupted."""
    with _reported():
        settings = load_settings(
            device=device, provider=provider, base_url=base_url, model=model, api_key=api_key, lang=lang,
            max_steps=max_steps, apps_files=apps_file, adb_port=adb_port, stream=False if no_stream else None,
        )
        endpoint = resolve_endpoint(settings)
        registry = _registry(settings)
        interactive = not non_interactive and sys.stdin.isatty()
        handoff: HandOff = ConsoleHandOff() if interactive else NonInteractiveHandOff()
        printer = ConsolePrinter(sys.stdout, verbosity=0 if quiet else 2 if verbose else 1)
        key = endpoint.api_key.get_secret_value() if endpoint.api_key else None
        with (
            AdbDevice.connect(settings.device, host=settings.adb_host, port=settings.adb_port) as phone,
            ChatClient(
                endpoint.base_url, endpoint.model, key, stream=settings.stream, timeout=settings.timeout,
                api_key_env=endpoint.api_key_env,
            ) as client,
        ):
            meta = {
                "device": phone.serial, "device_model": phone.getprop("ro.product.model"),
                "provider": endpoint.provider, "model": endpoint.model, "base_url": endpoint.base_url,
            }

            def run_one(text: str) -> RunResult:
                run_dir = new_run_dir(text, runs_dir)
                agent = PhoneAgent(
                    phone, client, settings=AgentSettings(max_steps=settings.max_steps, lang=settings.lang),
                    handoff=handoff, registry=registry, listeners=[printer, TraceRecorder(run_dir, meta)],
                )
                result = agent.run(text)
                typer.echo(f"Report: {write_report(run_dir)}")
                return result

            if not quiet:
                typer.echo(f"Phone {phone.serial} · {endpoint.provider} {endpoint.model} at {endpoint.base_url}")
            if task is not None:
                _finish(run_one(task))
            while interactive:
                next_task = typer.prompt("\nTask (empty to quit)", default="", show_default=False).strip()
                if not next_task or run_one(next_task).status == "interrupted":
                    break
            if task is None and not interactive:
                raise ConfigError("Give a TASK, e.g. phone-agent run \"open Settings\" (no terminal to ask for one).")


def _finish(result: RunResult) -> None:
    if result.error is not None:
        _fail(result.error)
    if result.status != "finished":
        raise typer.Exit(_EXIT_BY_STATUS[result.status])


@app.command()
def report(run_dir: Annotated[Path, typer.Argument(help="A run directory (it holds trace.jsonl).")]) -> None:
    """Rebuild report.html of a run directory and print its path."""
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

    with _reported():
        settings = load_settings(adb_port=adb_port)
        infos = list_devices(adbutils.AdbClient(host=settings.adb_host, port=settings.adb_port))
        rows = [{"serial": i.serial, "state": i.state, "model": i.tags.get("model", "")} for i in infos]
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False))
            return
        if not rows:
            typer.echo("No devices. Enable USB debugging and plug the phone in, start an emulator, "
                       "or `adb connect HOST:PORT`.")
        hints = {
            "unauthorized": "accept the USB debugging prompt on the phone",
            "offline": "replug the cable or run `adb kill-server`",
        }
        for row in rows:
            hint = f"  ← {hints[row['state']]}" if row["state"] in hints else ""
            typer.echo(f"{row['serial']:<24} {row['state']:<13} {row['model']}{hint}")


@app.command()
def apps(
    apps_file: AppsFileOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List the apps the agent can launch by name, with their aliases and packages."""
    with _reported():
        registry = _registry(load_settings(apps_files=apps_file))
        if as_json:
            typer.echo(json.dumps([a.model_dump(mode="json") for a in registry.apps], ensure_ascii=False, indent=1))
            return
        for entry in registry.apps:
            aliases = f" ({', '.join(entry.aliases)})" if entry.aliases else ""
            typer.echo(f"{entry.name}{aliases}  {entry.package}  [{entry.category}]")


def main() -> None:
    """Entry point: UTF-8 output whatever the console's code page."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")
    app()
