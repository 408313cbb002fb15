"""Running tasks end to end: one phone, one model client, and a run directory with a report per task."""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from actions import Device
from apps_registry import Registry
from phone_agent.allowlist import AllowList
from phone_agent.cancellation import Cancellation
from phone_agent.config import Endpoint, Settings
from phone_agent.device.adb import AdbDevice
from phone_agent.device.channel import Channel, open_channel
from phone_agent.device.settle import SettleMode
from phone_agent.embedded import EmbeddedPhone, embedded_phones
from phone_agent.errors import ConfigError
from phone_agent.handoff import HandOff
from phone_agent.loop.agent import AgentSettings, PhoneAgent
from phone_agent.loop.results import Listener, RunResult
from phone_agent.loop.stuck import StuckSettings
from phone_agent.model.client import ChatClient
from phone_agent.model.images import ImageOptions
from phone_agent.model.messages import ChatModel
from phone_agent.report import write_report
from phone_agent.trace import TraceRecorder, home_dir, new_run_dir

SIM_DEVICE = "sim"


@dataclass(frozen=True)
class TaskRecord:
    """A finished task and where its record is."""

    result: RunResult
    run_dir: Path
    report: Path


class Session:
    """Runs tasks one after another on an open phone with an open model client.

    Once ``cancellation`` (the model client's too) is cancelled, a task running ends with status ``interrupted``.
    """

    def __init__(
        self,
        phone: AdbDevice,
        channel: Channel,
        client: ChatClient,
        endpoint: Endpoint,
        settings: Settings,
        *,
        registry: Registry,
        handoff: HandOff,
        listeners: Sequence[Listener],
        runs_dir: Path | None,
        embedded: EmbeddedPhone | None,
        cancellation: Cancellation | None = None,
    ) -> None:
        self.phone = phone
        self.channel = channel
        self.embedded = embedded
        self._client = client
        self._registry = registry
        phone.forget_apps()  # a session's apps are listed afresh: an MCP server outlives installs
        self._agent_settings = agent_settings(settings, registry, phone)  # an unknown allowed app fails here, at once
        self._handoff = handoff
        self._listeners = list(listeners)
        self._runs_dir = runs_dir
        self._cancellation = cancellation or Cancellation()
        self._meta = {
            "device": phone.serial,
            "device_model": phone.getprop("ro.product.model"),
            "channel": channel.name,
            "provider": endpoint.provider,
            "model": endpoint.model,
            "base_url": endpoint.public_url,
            "settle": settings.settle,
            "image_format": settings.image_format,
            "image_max_side": settings.image_max_side,
            "dialect": settings.dialect,
        }

    def run(self, task: str) -> TaskRecord:
        """Run one task, recording it in a new run directory, and build its report."""
        return run_recorded(
            self.channel.device,
            self._client,
            task,
            new_run_dir(task, self._runs_dir),
            self._meta,
            settings=self._agent_settings,
            handoff=self._handoff,
            registry=self._registry,
            listeners=self._listeners,
            sleep=self._cancellation.sleep,  # a wait on the phone ends when the run is cancelled
            cancellation=self._cancellation,
        )


def run_recorded(
    device: Device,
    model: ChatModel,
    task: str,
    run_dir: Path,
    meta: Mapping[str, object],
    *,
    settings: AgentSettings,
    handoff: HandOff,
    registry: Registry,
    listeners: Sequence[Listener] = (),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    deadline: float | None = None,
    cancellation: Cancellation | None = None,
) -> TaskRecord:
    """Run one task with its trace in ``run_dir`` (its screens folder made), and build its report."""
    agent = PhoneAgent(
        device,
        model,
        settings=settings,
        handoff=handoff,
        registry=registry,
        listeners=[*listeners, TraceRecorder(run_dir, meta)],
        clock=clock,
        sleep=sleep,
    )
    result = agent.run(task, deadline=deadline, cancellation=cancellation)
    return TaskRecord(result, run_dir, write_report(run_dir))


def writable_runs_dir(runs_dir: Path | None) -> Path:
    """Where run directories go, created if need be: checked before anything happens on the phone.

    Raises:
        ConfigError: it cannot be created or written to.
    """
    base = runs_dir or home_dir() / "runs"
    try:
        base.mkdir(parents=True, exist_ok=True)
        if not os.access(base, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
    except OSError as exc:
        raise ConfigError(
            f"Cannot write run directories in {base} ({exc.strerror or exc}). Choose another with --runs-dir."
        ) from None
    return base


def open_client(
    endpoint: Endpoint, settings: Settings, *, max_retries: int = 4, cancellation: Cancellation | None = None
) -> ChatClient:
    """A model client for the endpoint, with the user's stream and timeout settings, cut short by ``cancellation``."""
    key = endpoint.api_key.get_secret_value() if endpoint.api_key else None
    return ChatClient(
        endpoint.base_url,
        endpoint.model,
        key,
        stream=settings.stream,
        timeout=settings.timeout,
        max_retries=max_retries,
        api_key_env=endpoint.api_key_env,
        api_key_source=endpoint.api_key_source,
        cancellation=cancellation,
    )


def agent_settings(settings: Settings, registry: Registry, phone: Device) -> AgentSettings:
    """The loop's settings from the user's; app names resolve in ``registry``, else among ``phone``'s apps.

    Raises:
        ConfigError: the app allowlist names an unknown app.
    """
    return AgentSettings(
        max_steps=settings.max_steps,
        lang=settings.lang,
        settle=SettleMode.parse(settings.settle),
        images=ImageOptions(settings.image_format, settings.image_max_side),
        stuck=StuckSettings(repeat_limit=settings.stuck_limit) if settings.stuck_guard else None,
        dialect=settings.dialect,
        allowed_apps=None if settings.allow_apps is None else AllowList.resolve(
            settings.allow_apps, registry, phone.launchable_apps
        ),
    )


@contextmanager
def open_phone(settings: Settings) -> Iterator[tuple[AdbDevice, Channel, EmbeddedPhone | None]]:
    """Connect to the phone (``device="sim"`` starts a virtual one, returned too) over the chosen channel;
    close them afterwards.

    Raises:
        NoDeviceError, DeviceStateError, DeviceError: the phone cannot be used.
        ChannelError: ``--channel scrcpy`` and the scrcpy server cannot start.
    """
    with ExitStack() as stack:
        embedded = None
        serial, port = settings.device, settings.adb_port
        if settings.device == SIM_DEVICE:
            (embedded,) = stack.enter_context(embedded_phones(1))
            serial, port = embedded.serial, embedded.adb_port
        phone = stack.enter_context(AdbDevice.connect(serial, host=settings.adb_host, port=port))
        yield phone, stack.enter_context(open_channel(phone, settings.channel, settings.scrcpy_server)), embedded


@contextmanager
def open_session(
    settings: Settings,
    endpoint: Endpoint,
    *,
    registry: Registry,
    handoff: HandOff,
    listeners: Sequence[Listener] = (),
    runs_dir: Path | None = None,
    cancellation: Cancellation | None = None,
) -> Iterator[Session]:
    """Connect to the phone (``device="sim"`` starts a virtual one) over the chosen channel, and to the model;
    close them afterwards. Cancelling ``cancellation`` ends the session's task in progress (status ``interrupted``).

    Raises:
        ConfigError: run directories cannot be written, or the API key cannot be sent in a header.
        NoDeviceError, DeviceStateError, DeviceError: the phone cannot be used.
        ChannelError: ``--channel scrcpy`` and the scrcpy server cannot start.
    """
    writable_runs_dir(runs_dir)
    with ExitStack() as stack:
        # First: a key it cannot send is a setup error.
        client = stack.enter_context(open_client(endpoint, settings, cancellation=cancellation))
        phone, channel, embedded = stack.enter_context(open_phone(settings))
        yield Session(
            phone,
            channel,
            client,
            endpoint,
            settings,
            registry=registry,
            handoff=handoff,
            listeners=listeners,
            runs_dir=runs_dir,
            embedded=embedded,
            cancellation=cancellation,
        )
