"""The ``phone-agent`` command. The only place that turns errors into messages and exit codes."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn

import adbutils
import typer

from apps_registry import AppDataError, Registry
from phone_agent.config import Endpoint, Settings, load_settings, resolve_endpoint
from phone_agent.console import ConsolePrinter
from phone_agent.demo import DEMO_TASK, check_demo, demo_script
from phone_agent.device.adb import AdbDevice, list_devices
from phone_agent.doctor import as_json as checks_as_json
from phone_agent.doctor import run_checks
from phone_agent.embedded import embedded_phones
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
from phone_agent.results import RunResult
from phone_agent.session import Session, agent_settings, open_session
from phone_agent.sim import serve
from phone_agent.sim.model_server import ReplayModelServer, load_script
from phone_agent.suites.case import CaseEnvironment, CaseResult
from phone_agent.suites.reports import write_html, write_junit
from phone_agent.suites.runner import collect, run_all
from phone_agent.suites.spec import Case, Suite, SuiteError
from phone_agent.trace import TRACE_FILE, home_dir

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NEEDS_HUMAN, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
_EXIT_BY_STATUS = {
    "finished": EXIT_OK,
    "failed": EXIT_FAILED,
    "max_steps": EXIT_FAILED,
    "needs_human": EXIT_NEEDS_HUMAN,
    "stuck": EXIT_FAILED,
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
    settle: Annotated[
        str | None,
        typer.Option(help="After each action: auto (wait until the screen is still), off, or fixed:SECONDS "
                     "[default: auto]."),
    ] = None,
    image_format: Annotated[
        str | None, typer.Option(help="Image sent to the model: png (as captured), jpeg or webp [default: png].")
    ] = None,
    image_max_side: Annotated[
        int | None, typer.Option(help="Downscale screenshots so their longer side is at most N pixels.")
    ] = None,
    stuck_limit: Annotated[
        int | None,
        typer.Option(help="The same action this many times on an unchanged screen counts as stuck [default: 3]."),
    ] = None,
    no_stuck_guard: Annotated[
        bool, typer.Option("--no-stuck-guard", help="Do not watch for loops (repeats, cycles, no change).")
    ] = False,
    apps_file: AppsFileOption = None,
    adb_port: AdbPortOption = None,
    runs_dir: RunsDirOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the result.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also print per-step timings.")] = False,
) -> None:
    """Run a task on the phone. Exit codes: 0 done, 1 failed or stuck, 2 setup error, 3 needs a person, 130 interrupted.

    --device sim starts a virtual phone for this run (no real phone needed).
    """
    with _reported():
        settings = load_settings(
            device=device, provider=provider, base_url=base_url, model=model, api_key=api_key, lang=lang,
            max_steps=max_steps, apps_files=apps_file, adb_port=adb_port, stream=False if no_stream else None,
            settle=settle, image_format=image_format, image_max_side=image_max_side, stuck_limit=stuck_limit,
            stuck_guard=False if no_stuck_guard else None,
        )
        endpoint = resolve_endpoint(settings)
        interactive = not non_interactive and sys.stdin.isatty()
        if task is None and not interactive:
            raise ConfigError('Give a TASK, e.g. phone-agent run "open Settings" (no terminal to ask for one).')
        handoff: HandOff = ConsoleHandOff() if interactive else NonInteractiveHandOff()
        printer = ConsolePrinter(sys.stdout, verbosity=0 if quiet else 2 if verbose else 1)
        with open_session(
            settings, endpoint, registry=_registry(settings), handoff=handoff, listeners=[printer], runs_dir=runs_dir
        ) as session:
            if not quiet:
                where = f"{endpoint.provider} {endpoint.model} at {endpoint.base_url}"
                typer.echo(f"Phone {session.phone.serial} · {where}")
            if task is not None:
                _finish(_run_one(session, task))
            while interactive:
                next_task = typer.prompt("\nTask (empty to quit)", default="", show_default=False).strip()
                if not next_task or _run_one(session, next_task).status == "interrupted":
                    break


def _run_one(session: Session, task: str) -> RunResult:
    record = session.run(task)
    typer.echo(f"Report: {record.report}")
    return record.result


def _finish(result: RunResult) -> None:
    if result.error is not None:
        _fail(result.error)
    if result.status != "finished":
        raise typer.Exit(_EXIT_BY_STATUS[result.status])


@app.command()
def demo(
    runs_dir: RunsDirOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the result.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also print per-step timings.")] = False,
) -> None:
    """Watch the agent do "open eBay and search earbuds" on a virtual phone, with recorded model answers.

    Needs no phone, no API key and no network. Exit code 0 when the phone ends up showing the results.
    """
    typer.echo(
        "Demo: a virtual Android phone (started now, behind a private adb server) and a RECORDING of the\n"
        "model's answers served over local HTTP. Everything else is the real agent: adbutils, the loop,\n"
        "parsing, the trace and the report. No real model is called.\n"
    )
    with _reported():
        script = demo_script()
        with ReplayModelServer(script) as server:
            settings = load_settings(device="sim", base_url=server.base_url, model=script.model)
            endpoint = Endpoint("replay", server.base_url, script.model, None, ())
            printer = ConsolePrinter(sys.stdout, verbosity=0 if quiet else 2 if verbose else 1)
            with open_session(
                settings, endpoint, registry=_registry(settings), handoff=NonInteractiveHandOff(),
                listeners=[printer], runs_dir=runs_dir,
            ) as session:
                assert session.embedded is not None
                record = session.run(DEMO_TASK)
                passed, detail = check_demo(session.embedded.phone)
        typer.echo(f"\nVerdict (checked on the phone itself): {'PASS' if passed else 'FAIL'}: {detail}")
        typer.echo(f"Report: {record.report}")
        typer.echo(f'\nSame task with a real model on a virtual phone:  phone-agent run --device sim "{DEMO_TASK}"')
        if record.result.status == "interrupted":
            raise typer.Exit(EXIT_INTERRUPTED)
        if not passed:
            raise typer.Exit(EXIT_FAILED)


@app.command()
def sim(
    phones: Annotated[int, typer.Option(help="How many virtual phones to start.", min=1)] = 1,
    port: Annotated[
        int | None, typer.Option(help="Port of the first phone (the next ones: +2) [default: free emulator ports].")
    ] = None,
    size: Annotated[str, typer.Option(help="Screen size WIDTHxHEIGHT.")] = "1080x2400",
    no_adb_keyboard: Annotated[bool, typer.Option("--no-adb-keyboard", help="Phones without ADB Keyboard.")] = False,
    latency_ms: Annotated[int, typer.Option(help="Transition latency after each input, in ms.", min=0)] = 0,
    model_script: Annotated[
        Path | None, typer.Option(help="Also serve this replay script as an OpenAI-compatible model.", exists=True)
    ] = None,
    adb_port: AdbPortOption = None,
) -> None:
    """Start virtual phones (and optionally a replay model) in the foreground until Ctrl-C."""
    with _reported():
        match = re.fullmatch(r"(\d+)x(\d+)", size)
        if match is None:
            raise ConfigError(f"--size must look like 1080x2400, not {size!r}.")
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
                    latency_ms=latency_ms, adb_server_port=settings.adb_port, print_fn=typer.echo,
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
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as a JSON list.")] = False,
) -> None:
    """Check adb, the device, text input and the model endpoint, and say how to fix what fails.

    Exit code 0 when nothing fails (warnings allowed), 1 otherwise.
    """
    with _reported():
        settings = load_settings(
            device=device, provider=provider, base_url=base_url, model=model, api_key=api_key, adb_port=adb_port
        )
        checks = []
        for check in run_checks(settings, deep=deep):
            checks.append(check)
            if not as_json:
                mark = {"ok": "✓", "warn": "!", "fail": "✗"}[check.status]
                typer.echo(f"{mark} {check.name}: {check.detail}")
                if check.fix and check.status != "ok":
                    typer.echo(f"    fix: {check.fix}")
        if as_json:
            typer.echo(json.dumps(checks_as_json(checks), ensure_ascii=False, indent=1))
        if any(check.status == "fail" for check in checks):
            raise typer.Exit(EXIT_FAILED)


suite_app = typer.Typer(help="Regression suites per app: YAML cases checked on the device.", no_args_is_help=True)
app.add_typer(suite_app, name="suite")


@suite_app.command("run")
def suite_run(
    paths: Annotated[list[Path], typer.Argument(help="Suite files, or directories holding them.")],
    device: Annotated[
        list[str] | None, typer.Option("--device", "-d", help="Run on this phone (repeat to spread the cases).")
    ] = None,
    all_devices: Annotated[bool, typer.Option("--all-devices", help="Use every attached phone.")] = False,
    sim: Annotated[int, typer.Option(help="Start this many virtual phones and run on them.", min=0)] = 0,
    tags: Annotated[list[str] | None, typer.Option("--tags", help="Only cases with this tag (repeatable).")] = None,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML here.")] = None,
    html: Annotated[Path | None, typer.Option(help="Write an HTML suite report (index.html) in this folder.")] = None,
    record: Annotated[bool, typer.Option("--record", help="Save the model's replies next to the suites.")] = False,
    replay: Annotated[
        bool, typer.Option("--replay", help="Answer from saved replies while the screen matches; heal the rest.")
    ] = False,
    provider: Annotated[str | None, typer.Option(help="Model provider preset (for AI steps and judges).")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint URL.")] = None,
    model: Annotated[str | None, typer.Option(help="Model name.")] = None,
    api_key: Annotated[str | None, typer.Option(help="API key.")] = None,
    runs_dir: RunsDirOption = None,
    adb_port: AdbPortOption = None,
) -> None:
    """Run regression suites; exit code 0 only when every case passes.

    Example: phone-agent suite run suites/ --sim 2 --replay --junit junit.xml --html suite-report
    """
    with _reported():
        if record and replay:
            raise ConfigError("Choose --record or --replay, not both.")
        try:
            items = collect(paths, tags or ())
        except SuiteError as exc:
            raise ConfigError(str(exc)) from None
        settings = load_settings(provider=provider, base_url=base_url, model=model, api_key=api_key, adb_port=adb_port)
        endpoint = None
        if any((settings.provider, settings.base_url, settings.model, settings.api_key)):
            endpoint = resolve_endpoint(settings)
        elif record:
            raise ConfigError("--record needs a model: give --base-url or --provider (and a key).")
        typer.echo(f"{len(items)} cases from {len({s.path for s, _ in items})} suite files")
        with ExitStack() as stack:
            phones = _suite_phones(stack, settings, device or [], all_devices, sim)
            environments = []
            for phone in phones:
                client = stack.enter_context(_client(endpoint, settings)) if endpoint else None
                environments.append(
                    CaseEnvironment(
                        phone, _registry(settings), client, (runs_dir or home_dir() / "runs") / _suite_stamp(),
                        mode="record" if record else "replay" if replay else None,
                        agent_settings=agent_settings(settings),
                    )
                )
            typer.echo(f"on {', '.join(p.serial for p in phones)}")
            results = run_all(items, environments, _print_progress)
        _print_summary(results)
        if junit is not None:
            typer.echo(f"JUnit: {write_junit(results, junit)}")
        if html is not None:
            typer.echo(f"HTML report: {write_html(results, html)}")
        if any(result.status != "passed" for result in results):
            raise typer.Exit(EXIT_FAILED)


def _suite_phones(
    stack: ExitStack, settings: Settings, serials: list[str], all_devices: bool, sim: int
) -> list[AdbDevice]:
    """Open the phones a suite runs on: virtual ones, the named ones, every attached one, or the only one."""
    port = settings.adb_port
    if sim:
        embedded = stack.enter_context(embedded_phones(sim))
        serials, port = [e.serial for e in embedded], embedded[0].adb_port
    elif all_devices:
        infos = list_devices(adbutils.AdbClient(host=settings.adb_host, port=port))
        serials = [info.serial for info in infos if info.state == "device"]
        if not serials:
            raise NoDeviceError("--all-devices: no device is attached and ready. Check `phone-agent devices`.")
    if not serials:
        return [stack.enter_context(AdbDevice.connect(None, host=settings.adb_host, port=port))]
    return [stack.enter_context(AdbDevice.connect(serial, host=settings.adb_host, port=port)) for serial in serials]


def _client(endpoint: Endpoint, settings: Settings) -> ChatClient:
    key = endpoint.api_key.get_secret_value() if endpoint.api_key else None
    return ChatClient(endpoint.base_url, endpoint.model, key, stream=settings.stream, timeout=settings.timeout,
                      api_key_env=endpoint.api_key_env)


def _suite_stamp() -> str:
    return "suite-" + datetime.now().strftime("%Y%m%d-%H%M%S")


def _print_progress(event: str, suite: Suite, case: Case, serial: str, result: CaseResult | None) -> None:
    if result is None:
        typer.echo(f"▶ [{serial}] {suite.name} / {case.name}")
        return
    mark = {"passed": "✓", "failed": "✗", "error": "!"}[result.status]
    extra = f" (replayed {result.replayed}, healed {result.healed})" if result.replayed or result.healed else ""
    typer.echo(f"{mark} [{serial}] {suite.name} / {case.name}  {result.duration:.1f} s{extra}")
    if result.status != "passed":
        typer.echo(f"    {result.message}")


def _print_summary(results: list[CaseResult]) -> None:
    typer.echo("\nsuite                case                                     result   device            time")
    for r in results:
        typer.echo(f"{r.suite[:20]:<20} {r.case[:40]:<40} {r.status:<8} {r.device[:17]:<17} {r.duration:5.1f} s")
    passed = sum(r.status == "passed" for r in results)
    typer.echo(f"\n{passed} of {len(results)} cases passed")


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
