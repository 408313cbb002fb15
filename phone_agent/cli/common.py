"""What every ``phone-agent`` command shares: the app, common options, and errors turned into exit codes.

The ``cli`` modules import the rest of the project inside their commands: ``phone-agent --help`` (and every
command's start-up) then loads only what the command given runs.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from apps_registry import AppDataError
from phone_agent.errors import (
    ArrearsError,
    AuthenticationError,
    ChannelError,
    ConfigError,
    DeviceStateError,
    ModelUnreachableError,
    NoDeviceError,
    PhoneAgentError,
    TextInputError,
    UnknownModelError,
)

if TYPE_CHECKING:
    from apps_registry import Registry
    from phone_agent.config import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NEEDS_HUMAN, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_BY_STATUS = {
    "finished": EXIT_OK,
    "failed": EXIT_FAILED,
    "max_steps": EXIT_FAILED,
    "needs_human": EXIT_NEEDS_HUMAN,
    "stuck": EXIT_FAILED,
    "blocked": EXIT_FAILED,
    "interrupted": EXIT_INTERRUPTED,
}
# Errors a person fixes in their setup rather than in the task.
SETUP_ERRORS = (
    ConfigError, NoDeviceError, DeviceStateError, AuthenticationError, ArrearsError, UnknownModelError,
    ModelUnreachableError, TextInputError, AppDataError, ChannelError,
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
ChannelOption = Annotated[
    str | None,
    typer.Option(help="How to reach the phone: auto (scrcpy when its server starts, else adb), scrcpy or adb "
                 "[default: auto]."),
]
ScrcpyServerOption = Annotated[
    Path | None,
    typer.Option(help="The scrcpy-server v3.3.4 file to use [default: found by itself, or `phone-agent setup`]."),
]
ImageMaxSideOption = Annotated[
    int | None, typer.Option(help="Downscale screenshots so their longer side is at most N pixels.")
]
RunsDirOption = Annotated[
    Path | None,
    typer.Option("--runs-dir", help="Where run directories go [default: $PHONE_AGENT_HOME/runs or the user data dir]."),
]
AppsFileOption = Annotated[
    list[Path] | None, typer.Option("--apps-file", help="Extra YAML file of apps (may repeat).", exists=True)
]


def exit_code(error: BaseException) -> int:
    """2 for what the person fixes in their setup, 1 for everything else."""
    return EXIT_USAGE if isinstance(error, SETUP_ERRORS) else EXIT_FAILED


def fail(error: PhoneAgentError | AppDataError) -> NoReturn:
    from phone_agent.console import printable

    typer.echo(f"Error: {printable(str(error))}", err=True)  # an error can quote the model or a server
    raise typer.Exit(exit_code(error))


@contextmanager
def reported() -> Iterator[None]:
    """Turn our errors into a one-line message and the documented exit code.

    SIGTERM and SIGHUP end a command the way Ctrl-C does (status ``interrupted``, trace, report, the
    person's keyboard back), then exit with the conventional 128 + signal number (143, 129).
    """
    received: list[int] = []
    try:
        with _signals_interrupt(received):
            yield
    except (PhoneAgentError, AppDataError) as error:
        fail(error)
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        raise typer.Exit(_interrupted_code(received)) from None
    except typer.Exit as done:
        if done.exit_code == EXIT_INTERRUPTED:
            raise typer.Exit(_interrupted_code(received)) from None
        raise


def _interrupted_code(received: list[int]) -> int:
    return 128 + received[0] if received else EXIT_INTERRUPTED


@contextmanager
def _signals_interrupt(received: list[int]) -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise KeyboardInterrupt once, in the main thread, as Ctrl-C does."""
    wanted = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread can handle signals
        return

    def stop(signum: int, frame: object) -> None:
        if received:
            return  # already stopping: let the orderly end finish
        received.append(signum)
        if signum == getattr(signal, "SIGHUP", None):
            # The terminal is gone: writing to it would fail (EIO) half-way through the orderly end.
            devnull = os.open(os.devnull, os.O_WRONLY)
            for fd in (1, 2):
                os.dup2(devnull, fd)
            os.close(devnull)
        raise KeyboardInterrupt(f"Stopped by {signal.Signals(signum).name}.")

    previous = {signum: signal.signal(signum, stop) for signum in wanted}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def registry_from(settings: Settings) -> Registry:
    from apps_registry import Registry

    return Registry.load(settings.apps_files)


