"""The ``phone-agent`` command. This package is the only place that turns errors into messages and exit codes.

Each module adds its commands to the one typer ``app`` of ``common``; importing them registers them.
"""

from __future__ import annotations

import sys

from phone_agent.cli import mcp, run, setup, suite, tools  # noqa: F401 - importing registers the commands
from phone_agent.cli.common import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: UTF-8 output whatever the console's code page."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")
    app()
