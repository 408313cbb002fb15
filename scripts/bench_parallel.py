"""Several virtual phones, each driven by its own agent at the same time, from one process.

Every phone runs the 10-action task of bench_step.py with its own replay model (answering after
--model-latency-ms, as a hosted model would). Prints the steps per second for 1, 4 and 8 phones and
the scaling ratio against one phone, measured in the same run.

    python scripts/bench_parallel.py [--phones 1,4,8] [--model-latency-ms 1000]
"""

from __future__ import annotations

import argparse
import threading
import time
from contextlib import ExitStack

from bench_step import first_result_point, task_script

from phone_agent.device.adb import AdbDevice
from phone_agent.loop.agent import PhoneAgent
from phone_agent.model.client import ChatClient
from phone_agent.sim.model_server import ReplayModelServer, ReplayScript
from phone_agent.sim.testing import AdbServer, adb_server, running_phone


def with_latency(script: ReplayScript, latency_ms: int) -> ReplayScript:
    return script.model_copy(
        update={"replies": [r.model_copy(update={"latency_ms": latency_ms}) for r in script.replies]}
    )


def run_fleet(server: AdbServer, phones: int, script: ReplayScript) -> tuple[int, float]:
    """Run the task on ``phones`` phones at once; return the steps done and the wall time."""
    with ExitStack() as stack:
        agents = []
        for _ in range(phones):
            session = stack.enter_context(running_phone(server))
            model = stack.enter_context(ReplayModelServer(script))
            device = stack.enter_context(AdbDevice.connect(session.phone.serial, port=server.port))
            client = stack.enter_context(ChatClient(model.base_url, "m"))
            agents.append(PhoneAgent(device, client))
        results: list[int] = []
        failures: list[str] = []

        def drive(agent: PhoneAgent) -> None:
            result = agent.run("search eBay for earbuds, look at an item, then open Settings")
            if result.status != "finished":
                failures.append(result.message)
            results.append(len(result.steps))

        threads = [threading.Thread(target=drive, args=(agent,)) for agent in agents]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
    if failures:
        raise SystemExit(f"{len(failures)} run(s) failed: {failures[0]}")
    return sum(results), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phones", default="1,4,8", help="fleet sizes, comma-separated")
    parser.add_argument("--model-latency-ms", type=int, default=1000, help="how long each model reply takes")
    args = parser.parse_args()
    script = with_latency(task_script(first_result_point()), args.model_latency_ms)
    with adb_server() as server:
        baseline = None
        print(f"model latency {args.model_latency_ms} ms per reply")
        print(f"{'phones':>6} {'steps':>6} {'seconds':>8} {'steps/s':>8} {'scaling':>8}")
        for phones in (int(value) for value in args.phones.split(",")):
            steps, seconds = run_fleet(server, phones, script)
            rate = steps / seconds
            baseline = baseline or rate
            print(f"{phones:>6} {steps:>6} {seconds:8.2f} {rate:8.2f} {rate / baseline:7.2f}x")


if __name__ == "__main__":
    main()
