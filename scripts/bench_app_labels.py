"""What listing the phone's apps with their labels costs, once per device, for a Launch of an app missing from the list.

On the virtual phone with a real phone's command costs (``--profile``), through the real adb server:
the scrcpy server's list (the jar pushed first, or already on the phone as the scrcpy channel leaves
it), the launcher-activity fallback without a server file, a second call (the cache), and a whole
``Launch`` by label against a ``Launch`` of a catalogued app.

    python scripts/bench_app_labels.py [--profile mid-range] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from actions.execute import launch_app
from apps_registry import default_registry
from phone_agent.device.adb import AdbDevice
from phone_agent.device.scrcpy.connection import DEVICE_PATH
from phone_agent.device.scrcpy.server import locate
from phone_agent.sim.testing import AdbServer, PhoneSession, adb_server, running_phone

PACKAGE, LABEL = "com.github.uiautomator", "ATX"


def timed(action: Callable[..., object], *args: object) -> float:
    started = time.perf_counter()
    action(*args)
    return time.perf_counter() - started


def fresh(server: AdbServer, session: PhoneSession, jar: Path | None) -> AdbDevice:
    """A new device object (one run's), back on the home screen."""
    device = AdbDevice.connect(session.phone.serial, port=server.port)
    device.apps.server = jar
    device.home()
    return device


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="mid-range", help="instant, flagship, mid-range or emulator")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    jar, registry = locate(None), default_registry()
    rows: dict[str, list[float]] = {}

    def measure(name: str, action: Callable[..., object], *args: object) -> None:
        rows.setdefault(name, []).append(timed(action, *args))

    with adb_server() as server, running_phone(server, profile=args.profile) as session:
        with session.phone.lock:  # as `adb install` of an APK labelled so would
            session.phone.ui.install(PACKAGE, LABEL, f"{PACKAGE}.MainActivity")
        for _ in range(args.repeats):
            session.device.shell(f"rm -f {DEVICE_PATH}")
            device = fresh(server, session, jar)
            measure("scrcpy list, jar pushed first", device.launchable_apps)
            measure("second call (cached)", device.launchable_apps)
            measure("scrcpy list, jar on the phone", fresh(server, session, jar).launchable_apps)
            session.device.shell(f"rm -f {DEVICE_PATH}")
            measure("no server file: launcher activities", fresh(server, session, None).launchable_apps)
            device = fresh(server, session, jar)
            measure(f'Launch "{LABEL}", jar on the phone (list + start)', launch_app, LABEL, device, registry)
            device.home()
            measure(f'Launch "{LABEL}" again, same device (start)', launch_app, LABEL, device, registry)
            catalogued = fresh(server, session, jar)
            measure('Launch "eBay" (catalogued)', launch_app, "eBay", catalogued, registry)
    print(f"profile {args.profile}: median of {args.repeats} (seconds)")
    for name, seconds in rows.items():
        print(f"  {name:<48} {statistics.median(seconds):7.3f}")


if __name__ == "__main__":
    main()
