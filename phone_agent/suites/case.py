"""Running one suite case on one phone: setup, the task or the steps, then the checks, with retries."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

from actions import SuiteDevice
from apps_registry import Registry, UnknownAppError
from phone_agent.cancellation import Cancellation, Cancelled
from phone_agent.device.settle import SettleMode, Settler
from phone_agent.errors import PhoneAgentError
from phone_agent.handoff import NonInteractiveHandOff
from phone_agent.loop.results import RunResult
from phone_agent.loop.step import AgentSettings
from phone_agent.model.messages import ChatModel
from phone_agent.session import run_recorded
from phone_agent.suites.judge import Verdict, judge
from phone_agent.suites.recording import Mode, Recording, RecordingModel
from phone_agent.suites.spec import Case, Suite, slug
from phone_agent.suites.steps import CheckResult, StepFailed, StepRunner
from phone_agent.trace import SCREENS_DIR

# interrupted: stopped while it ran (Ctrl-C, SIGTERM); not_run: the suite was stopped before it began.
CaseStatus = Literal["passed", "failed", "error", "interrupted", "not_run"]


@dataclass
class CaseResult:
    """How one case went on one device."""

    suite: str
    suite_path: Path
    case: str
    device: str
    status: CaseStatus
    message: str
    duration: float
    attempts: int
    case_dir: Path
    reports: list[Path] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    replayed: int = 0
    healed: int = 0
    model_calls: list[str] = field(default_factory=list)  # per model call: replayed, healed or recorded


@dataclass
class CaseEnvironment:
    """Everything a case needs on one phone; ``model`` is None for scripted-only runs.

    Cancelling ``cancellation`` (give the model client the same one, to cut a request in flight) ends the case
    running ``interrupted``; ``sleep`` should then be its ``sleep``, so that a Wait action wakes.
    """

    device: SuiteDevice
    registry: Registry
    model: ChatModel | None
    runs_dir: Path
    mode: Mode | None = None
    agent_settings: AgentSettings = AgentSettings()
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    cancellation: Cancellation = field(default_factory=Cancellation)


def recording_path(suite: Suite, case: Case) -> Path:
    """Where the recorded model replies of a case live: next to the suite file."""
    return suite.path.parent / "recordings" / suite.path.stem / f"{slug(case.name)}.json"


def run_case(suite: Suite, case: Case, env: CaseEnvironment) -> CaseResult:
    """Run a case, retrying up to ``case.retries`` times (not once interrupted); the last attempt's result is kept."""
    result = None
    for attempt in range(1, case.retries + 2):
        result = _attempt(suite, case, env, attempt)
        if result.status in ("passed", "interrupted"):
            break
    assert result is not None
    return result


def _attempt(suite: Suite, case: Case, env: CaseEnvironment, attempt: int) -> CaseResult:
    began = env.clock()
    case_dir = env.runs_dir / slug(suite.name) / slug(case.name) / (f"attempt-{attempt}" if attempt > 1 else "")
    case_dir.mkdir(parents=True, exist_ok=True)
    result = CaseResult(suite.name, suite.path, case.name, env.device.serial, "passed", "", 0.0, attempt, case_dir)
    model = env.model
    recorder = None
    try:
        if env.mode is not None:
            path = recording_path(suite, case)
            recording = Recording.load(path) if env.mode == "replay" else Recording(path)
            recorder = model = RecordingModel(recording, env.mode, env.model)
        runner = StepRunner(
            env.device,
            env.registry,
            Settler(SettleMode("auto"), env.clock, env.sleep),
            _ai_runner(env, model, case_dir, result, deadline=began + case.timeout),
            env.clock,
            env.sleep,
            env.cancellation,
        )
        _check_app(case.app or suite.app, env.registry)
        for step in [*case.setup, *(case.steps or [])]:
            result.steps.append(runner.run(step))
            _check_time(case, began, env.clock)
        if case.task is not None:
            run = runner.run_ai(case.task, case.max_steps)
            result.steps.append(f"task ended {run.status}: {run.message}")
            if run.status != "finished":
                raise StepFailed(f"the task ended {run.status}: {run.message}")
            _check_time(case, began, env.clock)
        result.checks = runner.check(case.expect, suite.path.parent, _judge(model))
        failed = [check for check in result.checks if not check.passed]
        if failed:
            result.status, result.message = "failed", "; ".join(f"{c.name}: {c.detail}" for c in failed)
    except KeyboardInterrupt as exc:  # the cancellation, or Ctrl-C itself where the case runs in the main thread
        result.status, result.message = "interrupted", str(exc) or "Stopped by the person (Ctrl-C)."
    except StepFailed as exc:
        result.status, result.message = "failed", str(exc)
    except Exception as exc:  # whatever went wrong, the case must still have a result
        result.status, result.message = "error", f"{type(exc).__name__}: {exc}"
    _tear_down(case, env, result)
    if recorder is not None:
        result.replayed, result.healed = recorder.replayed, recorder.healed
        result.model_calls = list(recorder.sources)
        # Only a passing run is worth keeping, and only when it changed the recording.
        if result.status == "passed" and recorder.changed:
            recorder.finish()
            recorder.recording.save()
    result.duration = env.clock() - began
    _save_final_screen(env.device, case_dir)
    with contextlib.suppress(PhoneAgentError):  # each case leaves the person's keyboard as it found it
        env.device.release_input()
    (case_dir / "case.json").write_text(json.dumps(_summary(result), ensure_ascii=False, indent=1), encoding="utf-8")
    return result


def _tear_down(case: Case, env: CaseEnvironment, result: CaseResult) -> None:
    """Put the phone back as the case found it (always run, even interrupted; a failure here only shows if all else
    passed)."""
    runner = StepRunner(
        env.device, env.registry, Settler(SettleMode("auto"), env.clock, env.sleep), _no_ai, env.clock, env.sleep,
        Cancellation(),
    )
    for step in case.teardown:
        try:
            result.steps.append(f"teardown: {runner.run(step)}")
        except Exception as exc:  # the case's own result matters more than a failed clean-up
            if result.status == "passed":
                result.status, result.message = "error", f"teardown failed: {type(exc).__name__}: {exc}"
            return


def _no_ai(task: str, max_steps: int) -> RunResult:
    raise StepFailed(f"teardown steps cannot be AI steps ({task!r})")


def _ai_runner(
    env: CaseEnvironment, model: ChatModel | None, case_dir: Path, result: CaseResult, *, deadline: float
) -> Callable[[str, int], RunResult]:
    def run_ai(task: str, max_steps: int) -> RunResult:
        if model is None:
            raise StepFailed(f"the AI step {task!r} needs a model: give --base-url/--provider, or --replay a recording")
        run_dir = case_dir / f"ai-{len(result.reports) + 1}"
        (run_dir / SCREENS_DIR).mkdir(parents=True, exist_ok=True)
        record = run_recorded(
            env.device,
            model,
            task,
            run_dir,
            {"device": env.device.serial, "suite_case": result.case},
            settings=replace(env.agent_settings, max_steps=max_steps),
            handoff=NonInteractiveHandOff(),
            registry=env.registry,
            clock=env.clock,
            sleep=env.sleep,
            deadline=deadline,  # the case's timeout bounds its AI steps too
            cancellation=env.cancellation,
        )
        run = record.result
        result.reports.append(record.report)
        if run.error is not None:
            raise run.error
        if run.status == "interrupted":
            raise Cancelled(run.message)
        return run

    return run_ai


def _judge(model: ChatModel | None) -> Callable[[str, bytes], Verdict]:
    def ask(statement: str, png: bytes) -> Verdict:
        if model is None:
            return Verdict(False, "judge needs a model: give --base-url/--provider, or --replay a recording", "")
        return judge(model, statement, png)

    return ask


def _check_app(name: str | None, registry: Registry) -> None:
    if name is not None:
        try:
            registry.resolve(name)
        except UnknownAppError as exc:
            raise StepFailed(f"the case's app: {exc}") from None


def _check_time(case: Case, began: float, clock: Callable[[], float]) -> None:
    if clock() - began > case.timeout:
        raise StepFailed(f"the case took longer than its timeout of {case.timeout:g} s")


def _save_final_screen(device: SuiteDevice, case_dir: Path) -> None:
    with contextlib.suppress(PhoneAgentError):  # the result already says what went wrong with the phone
        (case_dir / "final.png").write_bytes(device.screenshot().png)


def _summary(result: CaseResult) -> dict[str, object]:
    data = asdict(result)
    return {key: str(value) if isinstance(value, Path) else value for key, value in data.items()} | {
        "reports": [str(path) for path in result.reports]
    }
