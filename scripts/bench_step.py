"""Per-step time of the agent on the virtual phone, split by phase, against a fixed-sleep baseline.

Runs a scripted 10-action task (a launch, taps, a Type, swipes, Back, Home) through the real adb
server, with a zero-latency replay model, at several transition latencies. For each latency it runs
our default (--settle auto) and what fixed-sleep agents do (--settle fixed:1.0), in the same process,
and prints the median per-step time of each phase and the ratio of the agent's own overhead.

    python scripts/bench_step.py [--latencies 0,300,800] [--repeats 3]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable

from phone_agent.device.adb import AdbDevice
from phone_agent.device.settle import SettleMode
from phone_agent.loop.agent import AgentSettings, PhoneAgent
from phone_agent.model.client import ChatClient
from phone_agent.sim.model_server import ReplayModelServer, ReplayScript
from phone_agent.sim.phone import VirtualPhone
from phone_agent.sim.testing import AdbServer, adb_server, running_phone

PHASES = ("capture", "model", "parse", "act", "settle")


def first_result_point() -> list[int]:
    """Where the first search result sits, in 0-999 space, on a fresh phone's layout."""
    ui = VirtualPhone().ui
    ui.start("com.ebay.mobile")
    ui.tap(*_centre(ui.hierarchy_xml(), "com.ebay.mobile:id/search_src_text"))
    ui.insert_text("earbuds")
    ui.tap(*_centre(ui.hierarchy_xml(), "com.ebay.mobile:id/search_button"))
    x, y = _centre(ui.hierarchy_xml(), "com.ebay.mobile:id/item_title")
    return [x * 1000 // ui.width, y * 1000 // ui.height]


def _centre(xml: str, rid: str) -> tuple[int, int]:
    node = re.search(rf'<node [^>]*resource-id="{re.escape(rid)}"[^>]*bounds="([^"]+)"', xml)
    assert node is not None, rid
    x1, y1, x2, y2 = map(int, re.findall(r"\d+", node.group(1)))
    return (x1 + x2) // 2, (y1 + y2) // 2


def task_script(result: list[int]) -> ReplayScript:
    replies = [
        'do(action="Launch", app="eBay")',
        'do(action="Tap", element=[500, 145])',
        'do(action="Type", text="earbuds")',
        'do(action="Tap", element=[500, 222])',
        'do(action="Swipe", start=[500, 700], end=[500, 300])',
        'do(action="Swipe", start=[500, 300], end=[500, 700])',
        f'do(action="Tap", element=[{result[0]}, {result[1]}])',
        'do(action="Back")',
        'do(action="Home")',
        'do(action="Launch", app="Settings")',
        'finish(message="done")',
    ]
    return ReplayScript.model_validate({"replies": [f"<answer>{r}</answer>" for r in replies]})


def run_task(server: AdbServer, latency_ms: int, settle: str, script: ReplayScript) -> list[dict[str, float]]:
    """One run of the task on a fresh phone; the timings of every action step."""
    with (
        running_phone(server, latency_ms=latency_ms) as session,
        ReplayModelServer(script) as model,
        AdbDevice.connect(session.phone.serial, port=server.port) as device,
        ChatClient(model.base_url, "m") as chat,
    ):
        agent = PhoneAgent(device, chat, settings=AgentSettings(settle=SettleMode.parse(settle)))
        result = agent.run("search eBay for earbuds, look at an item, then open Settings")
    assert result.status == "finished", result.message
    return [step.timings for step in result.steps if step.action.action != "finish"]


def shell_round_trip(call: Callable[[], object], repeats: int = 40) -> float:
    """Median seconds of one call."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latencies", default="0,300,800", help="transition latencies in ms, comma-separated")
    parser.add_argument("--repeats", type=int, default=3, help="runs of the task per configuration")
    args = parser.parse_args()
    latencies = [int(value) for value in args.latencies.split(",")]
    script = task_script(first_result_point())

    with adb_server() as server:
        with running_phone(server) as session:
            ours = AdbDevice.connect(session.phone.serial, port=server.port)
            adbutils_call = shell_round_trip(lambda: session.device.shell("echo ok"))
            our_call = shell_round_trip(lambda: ours.shell("echo ok"))
        print(
            f"shell round trip (median of 40): adbutils {adbutils_call * 1000:.1f} ms, "
            f"AdbDevice {our_call * 1000:.1f} ms, ratio {adbutils_call / our_call:.1f}x\n"
        )

        header = f"{'latency':>8} {'settle':>10} " + " ".join(f"{p:>8}" for p in PHASES) + f" {'overhead':>9}"
        print("median seconds per step (overhead = everything but the model's own time)")
        print(header)
        for latency in latencies:
            overheads = {}
            for settle in ("auto", "fixed:1.0"):
                steps = [t for _ in range(args.repeats) for t in run_task(server, latency, settle, script)]
                medians = {p: statistics.median(t[p] for t in steps) for p in PHASES}
                overheads[settle] = statistics.median(sum(t[p] for p in PHASES if p != "model") for t in steps)
                print(
                    f"{latency:>6}ms {settle:>10} "
                    + " ".join(f"{medians[p]:8.3f}" for p in PHASES)
                    + f" {overheads[settle]:9.3f}"
                )
            print(f"{'':>8} {'fixed/auto':>10} overhead ratio {overheads['fixed:1.0'] / overheads['auto']:.2f}x\n")


if __name__ == "__main__":
    main()
