"""``phone-agent run`` and ``phone-agent demo``: tasks on a phone, live."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from phone_agent.cli.common import (
    EXIT_BY_STATUS,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    AdbPortOption,
    AppsFileOption,
    ChannelOption,
    ImageMaxSideOption,
    RunsDirOption,
    ScrcpyServerOption,
    app,
    exit_code,
    registry_from,
    reported,
)
from phone_agent.cli.fanout import (
    AdbHostOption,
    AllDevicesOption,
    SimOption,
    on_phone,
    phone_targets,
    run_on_phones,
    worst_exit_code,
)
from phone_agent.errors import ConfigError

if TYPE_CHECKING:
    from phone_agent.console import ConsolePrinter
    from phone_agent.handoff import ConsoleHandOff, HandOff
    from phone_agent.loop.results import RunResult
    from phone_agent.session import Session


@app.command()
def run(
    task: Annotated[str | None, typer.Argument(help="What to do, e.g. 'open eBay and search earbuds'. "
                                                    "Without it, tasks are asked for one after another.")] = None,
    device: Annotated[
        list[str] | None,
        typer.Option("--device", "-d", help="adb serial of the phone (needed when several are attached); repeat to "
                     "run the task on each at once."),
    ] = None,
    all_devices: AllDevicesOption = False,
    sim: SimOption = 0,
    adb_host: AdbHostOption = None,
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
    image_max_side: ImageMaxSideOption = None,
    stuck_limit: Annotated[
        int | None,
        typer.Option(help="The same action this many times on an unchanged screen counts as stuck [default: 3]."),
    ] = None,
    no_stuck_guard: Annotated[
        bool, typer.Option("--no-stuck-guard", help="Do not watch for loops (repeats, cycles, no change).")
    ] = False,
    dialect: Annotated[
        str | None,
        typer.Option(help="How the model answers: autoglm (<answer>do(...)</answer> text) or tools (OpenAI tool "
                     "calls, for models such as GLM-4.6V, GPT-4o, Qwen-VL) [default: autoglm]."),
    ] = None,
    allow_apps: Annotated[
        str | None,
        typer.Option(help='Only these apps may be launched, e.g. "eBay,Settings". Another app in front stops the '
                     "run (exit 1), or with a person there hands them the phone."),
    ] = None,
    apps_file: AppsFileOption = None,
    adb_port: AdbPortOption = None,
    channel: ChannelOption = None,
    scrcpy_server: ScrcpyServerOption = None,
    runs_dir: RunsDirOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the result.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also print per-step timings.")] = False,
) -> None:
    """Run a task on the phone. Exit codes: 0 done, 1 failed or stuck, 2 setup error, 3 needs a person,
    130 interrupted (Ctrl-C), 143 terminated (SIGTERM), 129 hung up (SIGHUP).

    --device sim starts a virtual phone for this run (no real phone needed).

    On several phones (--device A --device B, --all-devices, --sim N) the task runs on each at once, unattended:
    a take-over or question ends that phone's run (exit 3). Exit code 0 only when every phone finished, else
    the worst: 2, then 3, then 1.
    """
    from phone_agent.config import load_settings, resolve_endpoint
    from phone_agent.console import ConsolePrinter
    from phone_agent.handoff import NonInteractiveHandOff
    from phone_agent.session import SIM_DEVICE, open_session

    with reported():
        if task is not None and not task.strip():
            raise ConfigError('The task is empty. Say what to do, e.g. phone-agent run "open Settings".')
        devices = list(dict.fromkeys(device or []))  # a phone named twice is used once
        several = len(devices) > 1 or all_devices or sim > 0
        if several and SIM_DEVICE in devices:
            raise ConfigError("--device sim starts one virtual phone; for several use --sim N.")
        settings = load_settings(
            device=None if several or not devices else devices[0], provider=provider, base_url=base_url, model=model,
            api_key=api_key, lang=lang,
            max_steps=max_steps, apps_files=apps_file, adb_port=adb_port, stream=False if no_stream else None,
            settle=settle, image_format=image_format, image_max_side=image_max_side, stuck_limit=stuck_limit,
            stuck_guard=False if no_stuck_guard else None, dialect=dialect, allow_apps=allow_apps, channel=channel,
            scrcpy_server=scrcpy_server,
        )
        endpoint = resolve_endpoint(settings)
        registry = registry_from(settings)
        if several:
            if task is None:
                raise ConfigError('Give a TASK to run on several phones, e.g. phone-agent run "open Settings" --sim 2.')
            with ExitStack() as stack:
                targets, _ = phone_targets(stack, settings, devices, all_devices, sim, adb_host or [])
                runs = run_on_phones(task, targets, settings, endpoint, registry, runs_dir, quiet=quiet)
            raise typer.Exit(worst_exit_code(runs))
        if adb_host:
            with ExitStack() as stack:
                (target,), _ = phone_targets(stack, settings, devices, False, 0, adb_host)
            settings = on_phone(settings, target)
        interactive = not non_interactive and sys.stdin.isatty()
        if task is None and not interactive:
            raise ConfigError('Give a TASK, e.g. phone-agent run "open Settings" (no terminal to ask for one).')
        printer = ConsolePrinter(sys.stdout, verbosity=0 if quiet else 2 if verbose else 1)
        handoff: HandOff = _console_handoff(printer) if interactive else NonInteractiveHandOff()
        with open_session(
            settings, endpoint, registry=registry, handoff=handoff, listeners=[printer], runs_dir=runs_dir
        ) as session:
            _say_channel(session)
            if not quiet:
                where = f"{endpoint.provider} {endpoint.model} at {endpoint.public_url}"
                typer.echo(f"Phone {session.phone.serial} over {session.channel.name} · {where}")
            if task is not None:
                _finish(_run_one(session, task))
            while task is None:
                next_task = typer.prompt("\nTask (empty to quit)", default="", show_default=False).strip()
                if not next_task or _run_one(session, next_task).status == "interrupted":
                    break


def _console_handoff(printer: ConsolePrinter) -> ConsoleHandOff:
    """Hand-off questions on the terminal, each starting on a line of its own after the streamed thinking."""
    from phone_agent.handoff import ConsoleHandOff

    def read(prompt: str) -> str:
        printer.end_line()
        return input(prompt)

    def write(text: str) -> None:
        printer.end_line()
        print(text)

    return ConsoleHandOff(read=read, write=write)


def _say_channel(session: Session) -> None:
    """One line on stderr when scrcpy could not start and the run falls back to adb."""
    if session.channel.fallback:
        typer.echo(f"Using the adb channel ({session.channel.reason}).", err=True)


def _run_one(session: Session, task: str) -> RunResult:
    record = session.run(task)
    typer.echo(f"Report: {record.report}")
    return record.result


def _finish(result: RunResult) -> None:
    """Exit with the run's code; the summary line has already said what happened."""
    if result.error is not None:
        raise typer.Exit(exit_code(result.error))
    if result.status != "finished":
        raise typer.Exit(EXIT_BY_STATUS[result.status])


@app.command()
def demo(
    phones: Annotated[int, typer.Option(help="Run the task on this many virtual phones at once.", min=1)] = 1,
    runs_dir: RunsDirOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the result.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also print per-step timings.")] = False,
) -> None:
    """Watch the agent do "open eBay and search earbuds" on a virtual phone, with recorded model answers.

    Needs no phone, no API key and no network. Exit code 0 when the phone ends up showing the results
    (with --phones N: every phone).
    """
    from phone_agent.config import Endpoint, load_settings
    from phone_agent.console import ConsolePrinter
    from phone_agent.demo import DEMO_TASK, check_demo, demo_script
    from phone_agent.handoff import NonInteractiveHandOff
    from phone_agent.session import open_session
    from phone_agent.sim.model_server import ReplayModelServer

    typer.echo(
        "Demo: a virtual Android phone (started now, behind a private adb server) and a RECORDING of the\n"
        "model's answers served over local HTTP. Everything else is the real agent: adbutils, the loop,\n"
        "parsing, the trace and the report. No real model is called.\n"
    )
    with reported():
        script = demo_script()
        if phones > 1:
            _demo_on_phones(phones, runs_dir, quiet=quiet)
            return
        with ReplayModelServer(script) as server:
            settings = load_settings(device="sim", base_url=server.base_url, model=script.model)
            endpoint = Endpoint("replay", server.base_url, script.model, None, ())
            printer = ConsolePrinter(sys.stdout, verbosity=0 if quiet else 2 if verbose else 1)
            with open_session(
                settings, endpoint, registry=registry_from(settings), handoff=NonInteractiveHandOff(),
                listeners=[printer], runs_dir=runs_dir,
            ) as session:
                _say_channel(session)
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


def _demo_on_phones(count: int, runs_dir: Path | None, *, quiet: bool) -> None:
    """The demo task on ``count`` virtual phones at once, each conversation replayed from its own place."""
    from phone_agent.config import Endpoint, load_settings
    from phone_agent.demo import DEMO_TASK, check_demo, demo_script
    from phone_agent.sim.model_server import ReplayModelServer

    script = demo_script()
    with ReplayModelServer(script, per_conversation=True) as server, ExitStack() as stack:
        settings = load_settings(base_url=server.base_url, model=script.model)
        endpoint = Endpoint("replay", server.base_url, script.model, None, ())
        targets, embedded = phone_targets(stack, settings, [], False, count, [])
        runs = run_on_phones(DEMO_TASK, targets, settings, endpoint, registry_from(settings), runs_dir, quiet=quiet)
        verdicts = [check_demo(phone.phone) for phone in embedded]
    typer.echo("\nVerdicts (checked on each phone itself):")
    for phone, (passed, detail) in zip(embedded, verdicts, strict=True):
        typer.echo(f"  {phone.serial}: {'PASS' if passed else 'FAIL'}: {detail}")
    code = worst_exit_code(runs)
    if code or not all(passed for passed, _ in verdicts):
        raise typer.Exit(code or EXIT_FAILED)
