"""The stuck guard: repeats, cycles and screens that never change, then escalation."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from phone_agent.cli import app
from phone_agent.device.adb import AdbDevice
from phone_agent.loop.agent import AgentSettings, PhoneAgent
from phone_agent.loop.results import Listener, RunResult
from phone_agent.loop.stuck import Detection, StuckSettings
from phone_agent.model.client import ChatClient
from phone_agent.sim.model_server import ReplayModelServer, ReplayScript
from phone_agent.sim.testing import AdbServer, PhoneSession
from phone_agent.trace import read_trace
from tests.support import FakeClock, FakeDevice, ScriptedHandOff, ScriptedModel

DEAD_TAP = 'do(action="Tap", element=[500, 700])'


class DeadScreen(FakeDevice):
    """Taps change nothing; Back shows screen A and Launch screen B; swipes scroll to a new screen."""

    def tap(self, x: int, y: int) -> None:
        self.calls.append(("tap", x, y))

    def back(self) -> None:
        self.calls.append(("back",))
        self.shade = 60

    def launch(self, package: str, activity: str | None = None) -> bool:
        self.calls.append(("launch", package))
        self.shade = 180
        return True


class Detections(Listener):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def stuck_detected(self, detection: Detection, response: str) -> None:
        self.seen.append((detection.kind, response))


def run(replies: list[str], **kwargs: object) -> tuple[RunResult, ScriptedModel, Detections]:
    model, clock, detections = ScriptedModel(replies), FakeClock(), Detections()
    agent = PhoneAgent(DeadScreen(), model, clock=clock, sleep=clock.sleep, listeners=[detections], **kwargs)  # type: ignore[arg-type]
    return agent.run("t"), model, detections


def last_user_text(request: list[dict]) -> str:
    return request[-1]["content"][0]["text"]


def test_a_repeated_tap_on_a_dead_screen_gets_a_note_then_stops_the_run() -> None:
    result, model, detections = run([DEAD_TAP] * 4 + ["finish()"])
    assert "your last 3 actions were the same" in last_user_text(model.requests[3])
    assert "Try something different" in last_user_text(model.requests[3])
    assert all("Note:" not in last_user_text(r) for r in model.requests[:3])
    assert result.status == "stuck" and len(result.steps) == 4
    assert "going round in circles" in result.message
    assert detections.seen == [("repeat", "note"), ("repeat", "stop")]


def test_taps_a_little_apart_still_count_as_the_same() -> None:
    taps = [f'do(action="Tap", element=[{500 + d}, {700 - d}])' for d in (0, 8, 15)]
    _, model, _ = run([*taps, "finish()"])
    assert "were the same" in last_user_text(model.requests[3])


def test_changing_course_after_the_note_clears_the_warning() -> None:
    result, _, detections = run([DEAD_TAP] * 3 + ['do(action="Back")', *[DEAD_TAP] * 3, "finish()"])
    assert result.status == "finished"
    assert detections.seen == [("repeat", "note"), ("repeat", "note")]


def test_going_back_and_forth_between_two_screens_is_a_cycle() -> None:
    replies = ['do(action="Back")', 'do(action="Launch", app="eBay")'] * 4 + ["finish()"]
    result, model, detections = run(replies)
    assert detections.seen[0] == ("cycle", "note")
    assert "back and forth between the same 2 screens" in last_user_text(model.requests[6])
    assert result.status == "stuck"


def test_actions_that_never_change_the_screen() -> None:
    replies = [f'do(action="Tap", element=[{100 * i}, 500])' for i in range(1, 6)] + ["finish()"]
    _, model, detections = run(replies)
    assert detections.seen == [("no_change", "note")]
    assert "not changed after any of your last 5 actions" in last_user_text(model.requests[5])


def test_effective_repeated_swipes_never_trigger() -> None:
    swipe = 'do(action="Swipe", start=[500, 800], end=[500, 300])'
    result, _, detections = run([swipe] * 8 + ["finish()"])
    assert result.status == "finished" and detections.seen == []


def test_a_person_can_let_it_continue_or_take_over() -> None:
    handoff = ScriptedHandOff()
    handoff.stuck = lambda message: "continue"  # type: ignore[method-assign]
    result, _, detections = run([DEAD_TAP] * 4 + ["finish()"], handoff=handoff)
    assert result.status == "finished" and detections.seen == [("repeat", "note"), ("repeat", "continue")]
    handoff.stuck = lambda message: "take_over"  # type: ignore[method-assign]
    result, model, _ = run([DEAD_TAP] * 4 + ["finish()"], handoff=handoff)
    assert result.status == "finished" and "The person stepped in" in last_user_text(model.requests[4])


def test_the_guard_can_be_turned_off_and_tuned() -> None:
    result, _, detections = run([DEAD_TAP] * 6 + ["finish()"], settings=AgentSettings(stuck=None))
    assert result.status == "finished" and detections.seen == []
    _, _, detections = run([DEAD_TAP] * 2 + ["finish()"], settings=AgentSettings(stuck=StuckSettings(2)))
    assert detections.seen == [("repeat", "note")]


def test_the_note_is_in_the_runs_language() -> None:
    _, model, _ = run([DEAD_TAP] * 3 + ["finish()"], settings=AgentSettings(lang="zh"))
    assert "次执行了相同的操作" in last_user_text(model.requests[3])


# Through the real adb server, the virtual phone and the replay model.

runner = CliRunner()


def test_cli_tapping_an_empty_launcher_area_ends_stuck_with_exit_1(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path
) -> None:
    script = ReplayScript.model_validate({"replies": [DEAD_TAP] * 5})
    with ReplayModelServer(script) as server:
        args = [
            "run",
            "open the thing",
            "--device",
            phone.phone.serial,
            "--adb-port",
            str(adb.port),
            "--base-url",
            server.base_url,
            "--runs-dir",
            str(tmp_path),
            "--non-interactive",
        ]
        result = runner.invoke(app, args)
        requests = server.requests
    assert result.exit_code == 1, result.output
    assert "STUCK" in result.output
    assert "were the same" in requests[3].messages[-1]["content"][0]["text"]
    (run_dir,) = tmp_path.iterdir()
    events = [r for r in read_trace(run_dir) if r["type"] == "stuck"]
    assert [(e["kind"], e["response"]) for e in events] == [("repeat", "note"), ("repeat", "stop")]


def drive(adb: AdbServer, session: PhoneSession, replies: list[str]) -> tuple[RunResult, Detections]:
    detections = Detections()
    script = ReplayScript.model_validate({"replies": replies})
    with (
        ReplayModelServer(script) as server,
        AdbDevice.connect(session.phone.serial, port=adb.port) as device,
        ChatClient(server.base_url, "m") as client,
    ):
        return PhoneAgent(device, client, listeners=[detections]).run("t"), detections


def test_back_and_reopen_on_the_phone_is_a_cycle(adb: AdbServer, phone: PhoneSession) -> None:
    replies = ['do(action="Launch", app="eBay")', 'do(action="Back")'] * 4 + ['finish(message="x")']
    result, detections = drive(adb, phone, replies)
    assert ("cycle", "note") in detections.seen and result.status == "stuck"


def test_scrolling_a_long_list_on_the_phone_never_triggers(adb: AdbServer, phone: PhoneSession) -> None:
    search = [
        'do(action="Launch", app="eBay")',
        'do(action="Tap", element=[500, 145])',
        'do(action="Type", text="earbuds")',
        'do(action="Tap", element=[500, 222])',
    ]
    scroll = ['do(action="Swipe", start=[500, 750], end=[500, 450])'] * 4
    result, detections = drive(adb, phone, [*search, *scroll, 'finish(message="scrolled")'])
    assert result.status == "finished" and detections.seen == []
