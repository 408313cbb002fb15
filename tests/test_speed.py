"""What speed must never cost: every observation is a settled screen, and a busy screen cannot hang a run."""

from __future__ import annotations

from pathlib import Path

from actions import Screenshot
from phone_agent.device.adb import AdbDevice
from phone_agent.device.settle import SettleMode
from phone_agent.loop.agent import AgentSettings, PhoneAgent
from phone_agent.loop.results import Listener, StepResult
from phone_agent.model.client import ChatClient
from phone_agent.model.images import ImageOptions
from phone_agent.sim.model_server import ReplayModelServer, ReplayScript
from phone_agent.sim.testing import AdbServer, running_phone
from phone_agent.trace import TraceRecorder, new_run_dir, read_trace

SEARCH = [
    'do(action="Launch", app="eBay")',
    'do(action="Tap", element=[500, 145])',
    'do(action="Type", text="earbuds")',
    'do(action="Tap", element=[500, 222])',
    'do(action="Back")',
    'finish(message="done")',
]


def run(adb: AdbServer, replies: list[str], settings: AgentSettings, **phone_options: object) -> tuple:
    script = ReplayScript.model_validate({"replies": replies})
    with (
        running_phone(adb, **phone_options) as session,
        ReplayModelServer(script) as server,
        # The phone's own PNGs, so that what the model saw can be looked up among the frames the phone served.
        AdbDevice.connect(session.phone.serial, port=adb.port, raw_capture=False) as device,
        ChatClient(server.base_url, "m") as client,
    ):
        result = PhoneAgent(device, client, settings=settings).run("search earbuds")
        return result, server.requests, list(session.phone.frames_served)


def test_with_slow_transitions_the_model_only_ever_sees_settled_screens(adb: AdbServer) -> None:
    result, requests, served = run(adb, SEARCH, AgentSettings(), latency_ms=500)
    assert result.status == "finished"
    settled_by_digest = {frame["sha256"]: frame["settled"] for frame in served}
    assert any(not frame["settled"] for frame in served)  # transition frames really were captured
    seen = [digest for request in requests for digest in request.image_sha256[-1:]]
    assert len(seen) == len(SEARCH)
    assert all(settled_by_digest[digest] for digest in seen)


class SeenDigests(Listener):
    """The MD5 of the raw capture behind each screen the model saw."""

    def __init__(self) -> None:
        self.digests: list[str | None] = []

    def step_finished(self, step: StepResult, screenshot: Screenshot) -> None:
        self.digests.append(getattr(screenshot, "digest", None))


def test_raw_captures_settled_by_the_phones_own_digest_show_the_model_only_settled_screens(adb: AdbServer) -> None:
    script = ReplayScript.model_validate({"replies": SEARCH})
    seen = SeenDigests()
    with (
        running_phone(adb, latency_ms=500) as session,
        ReplayModelServer(script) as server,
        AdbDevice.connect(session.phone.serial, port=adb.port, raw_capture=True) as device,
        ChatClient(server.base_url, "m") as client,
    ):
        result = PhoneAgent(device, client, listeners=[seen]).run("search earbuds")
        served = list(session.phone.frames_served)
        commands = session.phone.state()["commands"]
    assert result.status == "finished" and len(seen.digests) == len(SEARCH)
    settled_by_digest = {frame["md5"]: frame["settled"] for frame in served}
    assert any(not frame["settled"] for frame in served)  # transition frames really were captured
    assert all(settled_by_digest[digest] for digest in seen.digests if digest is not None)
    assert None not in seen.digests[1:] and any("md5sum" in command for command in commands)


def test_with_fixed_short_sleeps_the_model_would_see_transition_frames(adb: AdbServer) -> None:
    # The same check can fail: a fixed 0.1 s wait observes the phone mid-transition.
    result, requests, served = run(adb, SEARCH, AgentSettings(settle=SettleMode.parse("fixed:0.1")), latency_ms=500)
    settled_by_digest = {frame["sha256"]: frame["settled"] for frame in served}
    seen = [request.image_sha256[-1] for request in requests]
    assert not all(settled_by_digest[digest] for digest in seen)


def test_a_screen_that_never_settles_still_returns_and_is_flagged(adb: AdbServer, tmp_path: Path) -> None:
    script = ReplayScript.model_validate({"replies": ['do(action="Home")', 'finish(message="done")']})
    run_dir = new_run_dir("busy", tmp_path)
    with (
        running_phone(adb) as session,
        ReplayModelServer(script) as server,
        AdbDevice.connect(session.phone.serial, port=adb.port) as device,
        ChatClient(server.base_url, "m") as client,
    ):
        session.phone.ui.set_animation(True)
        agent = PhoneAgent(
            device, client, settings=AgentSettings(settle_max_wait=1.0), listeners=[TraceRecorder(run_dir, {})]
        )
        result = agent.run("go home")
    assert result.status == "finished"
    first = result.steps[0]
    assert first.settled is False and 1.0 <= first.timings["settle"] < 2.0
    assert read_trace(run_dir)[1]["settled"] is False


def test_smaller_jpeg_images_are_sent_when_asked(adb: AdbServer) -> None:
    settings = AgentSettings(images=ImageOptions("jpeg", 540))
    result, requests, _ = run(adb, ['finish(message="done")'], settings)
    assert result.steps[0].image_bytes == requests[0].image_bytes[0] < 100_000
    assert result.steps[0].screen_size == (1080, 2400)  # taps are still mapped on the real screen
