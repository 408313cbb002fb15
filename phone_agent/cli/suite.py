"""``phone-agent suite run``: regression suites over one or more phones."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from phone_agent.cancellation import Cancellation
from phone_agent.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    AdbPortOption,
    RunsDirOption,
    app,
    registry_from,
    reported,
)
from phone_agent.cli.fanout import AdbHostOption, AllDevicesOption, SimOption, phone_targets
from phone_agent.errors import ConfigError

if TYPE_CHECKING:
    from phone_agent.suites.case import CaseResult
    from phone_agent.suites.spec import Case, Suite

suite_app = typer.Typer(help="Regression suites per app: YAML cases checked on the device.", no_args_is_help=True)
app.add_typer(suite_app, name="suite")


@suite_app.command("run")
def suite_run(
    paths: Annotated[list[Path], typer.Argument(help="Suite files, or directories holding them.")],
    device: Annotated[
        list[str] | None, typer.Option("--device", "-d", help="Run on this phone (repeat to spread the cases).")
    ] = None,
    all_devices: AllDevicesOption = False,
    sim: SimOption = 0,
    adb_host: AdbHostOption = None,
    shard: Annotated[
        str | None,
        typer.Option(help="Run shard K of N, e.g. 2/3: a stable share of the cases, the same on every machine."),
    ] = None,
    tags: Annotated[list[str] | None, typer.Option("--tags", help="Only cases with this tag (repeatable).")] = None,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML here.")] = None,
    html: Annotated[
        Path | None,
        typer.Option(help="Write an HTML suite report (index.html) in this folder, with results.json for merging."),
    ] = None,
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
    channel: Annotated[
        str | None,
        typer.Option(help="How to reach the phones: adb (the default: recorded screens and image templates expect "
                     "its lossless frames), auto or scrcpy."),
    ] = None,
) -> None:
    """Run regression suites; exit code 0 only when every case passes, 1 when one did not, 130 when stopped by
    Ctrl-C (143 by SIGTERM): the cases running end interrupted, the others are reported not run.

    Example: phone-agent suite run suites/ --sim 2 --replay --junit junit.xml --html suite-report
    """
    from phone_agent.config import load_settings, resolve_endpoint
    from phone_agent.device.adb import AdbDevice
    from phone_agent.device.channel import open_channel
    from phone_agent.session import agent_settings, open_client, writable_runs_dir
    from phone_agent.suites.case import CaseEnvironment
    from phone_agent.suites.reports import write_html, write_junit
    from phone_agent.suites.runner import collect, run_all, shard_of
    from phone_agent.suites.spec import SuiteError

    with reported():
        if record and replay:
            raise ConfigError("Choose --record or --replay, not both.")
        try:
            items = collect(paths, tags or ())
        except SuiteError as exc:
            raise ConfigError(str(exc)) from None
        if shard is not None:
            items = shard_of(items, *_shard(shard))
        # Over adb unless asked: recorded screens and image templates expect the phone's lossless frames.
        settings = load_settings(provider=provider, base_url=base_url, model=model, api_key=api_key, adb_port=adb_port,
                                 channel=channel or "adb")
        endpoint = None
        if any((settings.provider, settings.base_url, settings.model, settings.api_key)):
            endpoint = resolve_endpoint(settings)
        elif record:
            raise ConfigError("--record needs a model: give --base-url or --provider (and a key).")
        typer.echo(f"{len(items)} cases from {len({s.path for s, _ in items})} suite files")
        with ExitStack() as stack:
            run_dir = writable_runs_dir(runs_dir) / _suite_stamp()  # one directory for the whole run
            # A phone named twice would get two cases at once, and both would fail: choose_phones keeps one.
            targets, _ = phone_targets(stack, settings, device or [], all_devices, sim, adb_host or [])
            channels = [
                stack.enter_context(open_channel(
                    stack.enter_context(AdbDevice.connect(t.serial, host=t.server.host, port=t.server.port)),
                    settings.channel, settings.scrcpy_server,
                ))
                for t in targets
            ]
            registry = registry_from(settings)
            cancellation = Cancellation()  # Ctrl-C or SIGTERM stops every phone's case, and its model request
            environments = []
            for phone in (channel.device for channel in channels):
                client = None
                if endpoint is not None:
                    client = stack.enter_context(open_client(endpoint, settings, cancellation=cancellation))
                environments.append(
                    CaseEnvironment(
                        phone, registry, client, run_dir,
                        mode="record" if record else "replay" if replay else None,
                        agent_settings=agent_settings(settings, registry, phone),
                        sleep=cancellation.sleep,
                        cancellation=cancellation,
                    )
                )
            typer.echo(f"on {', '.join(f'{t.label} over {c.name}' for t, c in zip(targets, channels, strict=True))}")
            results = run_all(items, environments, _print_progress)
        _print_summary(results)
        if junit is not None:
            typer.echo(f"JUnit: {write_junit(results, junit)}")
        if html is not None:
            typer.echo(f"HTML report: {write_html(results, html)}")
        if any(result.status in ("interrupted", "not_run") for result in results):
            raise typer.Exit(EXIT_INTERRUPTED)  # reported() makes it 143 for SIGTERM
        if any(result.status != "passed" for result in results):
            raise typer.Exit(EXIT_FAILED)


def _shard(text: str) -> tuple[int, int]:
    """``K/N`` as numbers, 1 <= K <= N.

    Raises:
        ConfigError: it is not.
    """
    number, _, total = text.partition("/")
    if not (number.isdigit() and total.isdigit() and 1 <= int(number) <= int(total)):
        raise ConfigError(f"--shard {text!r}: give K/N with 1 <= K <= N, e.g. --shard 2/3.")
    return int(number), int(total)


def _suite_stamp() -> str:
    return "suite-" + datetime.now().strftime("%Y%m%d-%H%M%S")


def _print_progress(event: str, suite: Suite, case: Case, serial: str, result: CaseResult | None) -> None:
    from phone_agent.console import printable

    if event == "phone lost":
        typer.echo(f"! [{serial}] stopped answering; {suite.name} / {case.name} goes to another phone")
        return
    if result is None:
        typer.echo(f"▶ [{serial}] {suite.name} / {case.name}")
        return
    mark = {"passed": "✓", "failed": "✗", "error": "!", "interrupted": "■"}[result.status]
    extra = f" (replayed {result.replayed}, healed {result.healed})" if result.replayed or result.healed else ""
    typer.echo(f"{mark} [{serial}] {suite.name} / {case.name}  {result.duration:.1f} s{extra}")
    if result.status != "passed":
        typer.echo(f"    {printable(result.message)}")  # a failing case's message can be the model's words


def _print_summary(results: list[CaseResult]) -> None:
    typer.echo("\nsuite                case                                     result      device            time")
    for r in results:
        typer.echo(f"{r.suite[:20]:<20} {r.case[:40]:<40} {r.status:<11} {r.device[:17]:<17} {r.duration:5.1f} s")
    passed = sum(r.status == "passed" for r in results)
    stopped = [f"{count} {status.replace('_', ' ')}" for status in ("interrupted", "not_run")
               if (count := sum(r.status == status for r in results))]
    typer.echo(f"\n{passed} of {len(results)} cases passed" + (f" ({', '.join(stopped)})" if stopped else ""))


@suite_app.command("merge")
def suite_merge(
    out_dir: Annotated[Path, typer.Argument(help="Folder for the merged index.html, junit.xml and results.json.")],
    results: Annotated[list[Path], typer.Argument(help="The shards' --html folders (each holds results.json).")],
) -> None:
    """Merge the reports of suite shards into one; exit code 0 only when every case passed.

    Example: phone-agent suite merge reports/merged reports/shard-1 reports/shard-2 reports/shard-3
    """
    from phone_agent.suites.reports import read_results, write_html, write_junit

    with reported():
        merged = [result for folder in results for result in read_results(folder)]
        typer.echo(f"{len(merged)} cases from {len(results)} shards")
        _print_summary(merged)
        typer.echo(f"JUnit: {write_junit(merged, out_dir / 'junit.xml')}")
        typer.echo(f"HTML report: {write_html(merged, out_dir)}")
        if any(result.status != "passed" for result in merged):
            raise typer.Exit(EXIT_FAILED)
