"""Running suites: cases spread over several phones in parallel, one case per phone at a time."""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from phone_agent.cancellation import wait_all
from phone_agent.errors import PhoneAgentError
from phone_agent.suites.case import CaseEnvironment, CaseResult, CaseStatus, run_case
from phone_agent.suites.spec import Case, Suite, SuiteError, is_suite_file, load_suite

Progress = Callable[[str, Suite, Case, str, CaseResult | None], None]
STOPPED = "Stopped with the rest of the suite (Ctrl-C)."


def collect(paths: Sequence[Path], tags: Sequence[str] = ()) -> list[tuple[Suite, Case]]:
    """Load the suite files (directories are searched for them) and pick the cases with any of ``tags``.

    Raises:
        SuiteError: a path does not exist, holds no suites, or a file is invalid (all problems at once).
    """
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            found, refused = [], []
            for candidate in sorted(path.rglob("*.y*ml")):
                try:
                    if "recordings" not in candidate.parts and is_suite_file(candidate):
                        found.append(candidate)
                except SuiteError as exc:  # a suite with a duplicate key is still a suite: say so, never skip it
                    refused.append(str(exc))
            if not found and not refused:
                raise SuiteError(f"{path}: no suite files (YAML with a 'cases' list) in this directory")
            files += found
            problems += refused
        elif path.is_file():
            files.append(path)
        else:
            raise SuiteError(f"{path}: no such file or directory")
    suites = []
    for file in files:
        try:
            suites.append(load_suite(file))
        except SuiteError as exc:
            problems.append(str(exc))
    if problems:
        raise SuiteError("\n".join(problems))
    wanted = set(tags)
    return [(s, c) for s in suites for c in s.cases if not wanted or wanted & set(c.tags)]


def shard_of(items: Sequence[tuple[Suite, Case]], number: int, total: int) -> list[tuple[Suite, Case]]:
    """Shard ``number`` of ``total`` (from 1): the cases ranked by the SHA-256 of "suite/case", dealt in turn.

    Every machine ranks the same cases the same way, so the shards of one suite never overlap or miss a case,
    and their sizes differ by at most one.
    """
    ranked = sorted(range(len(items)), key=lambda i: hashlib.sha256(_case_id(items[i]).encode()).hexdigest())
    mine = {index for rank, index in enumerate(ranked) if rank % total == number - 1}
    return [item for index, item in enumerate(items) if index in mine]


def _case_id(item: tuple[Suite, Case]) -> str:
    suite, case = item
    return f"{suite.name}/{case.name}"


def run_all(
    items: Sequence[tuple[Suite, Case]], environments: Sequence[CaseEnvironment], progress: Progress | None = None
) -> list[CaseResult]:
    """Run every case once, each phone taking the next case as soon as it is free; results in input order.

    Ctrl-C (and SIGTERM, which the CLI turns into it) cancels every environment's cancellation: the cases
    running end ``interrupted`` (an AI step at once, a scripted one at its next step or poll) with their
    records written, and the cases not started are ``not_run``. Only the main thread receives the signal.
    """
    work: queue.Queue[tuple[int, Suite, Case]] = queue.Queue()
    for index, (suite, case) in enumerate(items):
        work.put((index, suite, case))
    results: dict[int, CaseResult] = {}
    lock = threading.Lock()  # guards results and keeps progress lines whole
    crashes: list[BaseException] = []
    done = [threading.Event() for _ in environments]

    def report(event: str, suite: Suite, case: Case, serial: str, result: CaseResult | None) -> None:
        if progress is not None:
            with lock:
                progress(event, suite, case, serial, result)

    def worker(env: CaseEnvironment, finished: threading.Event) -> None:
        try:
            while not env.cancellation.cancelled:
                try:
                    index, suite, case = work.get_nowait()
                except queue.Empty:
                    return
                report("started", suite, case, env.device.serial, None)
                result = run_case(suite, case, env)
                if result.status == "error" and not _reachable(env):
                    work.put((index, suite, case))  # not the case's fault: another phone takes it
                    report("phone lost", suite, case, env.device.serial, None)
                    return
                with lock:
                    results[index] = result
                report("finished", suite, case, env.device.serial, result)
        except BaseException as exc:  # a bug: surfaces in the main thread once the others are done
            crashes.append(exc)
        finally:
            finished.set()

    for env, finished in zip(environments, done, strict=True):
        threading.Thread(
            target=worker, args=(env, finished), name=f"suite-{env.device.serial}", daemon=True
        ).start()
    try:
        wait_all(done)
    except KeyboardInterrupt as exc:
        for env in environments:
            env.cancellation.cancel(str(exc) or STOPPED)
        wait_all(done)
    if crashes:
        raise crashes[0]
    stopped = any(env.cancellation.cancelled for env in environments)
    while not work.empty():  # the suite was stopped before these ran, or every phone was lost
        index, suite, case = work.get_nowait()
        status: CaseStatus = "not_run" if stopped else "error"
        message = "the suite was stopped first" if stopped else "no phone was left to run this case"
        results[index] = CaseResult(suite.name, suite.path, case.name, "-", status, message, 0.0, 0, Path("-"))
    return [results[index] for index in sorted(results)]


def _reachable(env: CaseEnvironment) -> bool:
    """Whether the phone still answers (a case error may really be a lost phone)."""
    try:
        env.device.shell("echo ok")
    except PhoneAgentError:
        return False
    return True
