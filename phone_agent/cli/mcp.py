"""``phone-agent mcp``: the phone as tools for Claude Desktop, Cursor and other MCP clients."""

from __future__ import annotations

from typing import Annotated

import typer

from phone_agent.cli.common import (
    AdbPortOption,
    AppsFileOption,
    ChannelOption,
    DeviceOption,
    ImageMaxSideOption,
    RunsDirOption,
    ScrcpyServerOption,
    app,
    registry_from,
    reported,
)
from phone_agent.errors import ConfigError


@app.command()
def mcp(
    device: DeviceOption = None,
    sim: Annotated[bool, typer.Option("--sim", help="Serve a virtual phone started now (no phone needed).")] = False,
    provider: Annotated[str | None, typer.Option(help="Model provider preset for run_task [default: zai].")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint URL for run_task.")] = None,
    model: Annotated[str | None, typer.Option(help="Model name for run_task.")] = None,
    api_key: Annotated[str | None, typer.Option(help="API key for run_task [default: as for run].")] = None,
    max_steps: Annotated[int | None, typer.Option(help="run_task stops after this many steps [default: 50].")] = None,
    image_format: Annotated[
        str | None, typer.Option(help="Screenshots sent to the client: png (as captured), jpeg or webp [default: png].")
    ] = None,
    image_max_side: ImageMaxSideOption = None,
    apps_file: AppsFileOption = None,
    adb_port: AdbPortOption = None,
    channel: ChannelOption = None,
    scrcpy_server: ScrcpyServerOption = None,
    runs_dir: RunsDirOption = None,
) -> None:
    """Serve the phone over MCP on stdin/stdout: screenshot, tap, swipe, type_text, launch, ui_tree, run_task, ...

    Points are on the 0-999 grid of the last screenshot unless a tool is given pixels=true. run_task runs the
    whole agent with the model configured as for `run`; the other tools need no model.
    """
    from phone_agent.cancellation import Cancellation
    from phone_agent.config import load_settings, resolve_endpoint
    from phone_agent.handoff import HandOff
    from phone_agent.loop.results import Listener
    from phone_agent.mcp_server import PhoneTools, build_server, serve, take_stdout
    from phone_agent.model.images import ImageOptions
    from phone_agent.session import SIM_DEVICE, Session, TaskRecord, open_client, open_phone, writable_runs_dir

    wire = take_stdout()  # from here on stdout is the protocol's alone
    with reported():
        if sim and device not in (None, SIM_DEVICE):
            raise ConfigError(f"Give either --sim or --device {device}, not both.")
        settings = load_settings(
            device=SIM_DEVICE if sim else device, provider=provider, base_url=base_url, model=model,
            api_key=api_key, max_steps=max_steps, image_format=image_format, image_max_side=image_max_side,
            apps_files=apps_file, adb_port=adb_port, channel=channel, scrcpy_server=scrcpy_server,
        )
        registry = registry_from(settings)
        writable_runs_dir(runs_dir)
        with open_phone(settings) as (phone, opened, embedded):

            def run_task(task: str, cancellation: Cancellation, progress: Listener, handoff: HandOff) -> TaskRecord:
                endpoint = resolve_endpoint(settings)
                with open_client(endpoint, settings, cancellation=cancellation) as client:
                    session = Session(
                        phone, opened, client, endpoint, settings, registry=registry, handoff=handoff,
                        listeners=(progress,), runs_dir=runs_dir, embedded=embedded, cancellation=cancellation,
                    )
                    return session.run(task)

            images = ImageOptions(settings.image_format, settings.image_max_side)
            serve(build_server(PhoneTools(opened.device, phone, registry, run_task, images)), wire)
