"""Run adbutils' own real-device suite (`e2etests/`) against a `phone-agent sim` phone; print the tally.

Fetches nothing: give it an adbutils checkout. It starts a private adb server on a free port, then
`phone-agent sim` on a free emulator port announced to that server, and runs the suite with the
installed adbutils, pointed at that server alone. The suite hard-codes port 5037 in one module; this
file, loaded into the suite's pytest as a plugin, sends those clients to the private server too, so
the user's own adb server is never touched.

    python scripts/adbutils_e2e.py PATH/TO/adbutils [-- extra pytest args]
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import adbutils
import pytest

from phone_agent.sim.server import plan_ports
from phone_agent.sim.testing import adb_server

READY_TIMEOUT_S = 30.0


def main() -> int:
    """Start the server and the phone, run the suite, print the pass count; exit with pytest's status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="an adbutils checkout (it holds e2etests/)")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args()
    suite = args.checkout / "e2etests"
    if not suite.is_dir():
        parser.error(f"{suite} does not exist: give the root of an adbutils checkout")
    with adb_server(isolate_env=False) as server:
        port = plan_ports(1, None)[0]
        if not port:
            sys.exit("no free emulator port in 5555-5585")
        sim = subprocess.Popen([sys.executable, "-m", "phone_agent", "sim", "--port", str(port),
                                "--adb-port", str(server.port)], env=server.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            server.wait_for(f"emulator-{port - 1}", timeout=READY_TIMEOUT_S)
            started = time.monotonic()
            # The suite's conftest makes a plain AdbClient(): the port comes from the environment (and the plugin).
            plugin_path = os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))
            result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                                     "-p", Path(__file__).stem, "-q", "-rfEs", "--rootdir", str(suite),
                                     "-c", os.devnull, str(suite), *args.pytest_args],
                                    env={**server.env, "PYTHONPATH": plugin_path},
                                    cwd=suite, capture_output=True, text=True, check=False)
        finally:
            sim.terminate()
            sim.wait(timeout=10)
    print(result.stdout[-6000:])
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-2000:]
    counts = {kind: int(number) for number, kind in re.findall(r"(\d+) (passed|failed|error|skipped)", summary)}
    total = sum(counts.values())
    print(f"adbutils e2e against the virtual phone: {counts.get('passed', 0)} of {total} passed "
          f"({time.monotonic() - started:.1f} s)")
    return result.returncode


def pytest_configure(config: pytest.Config) -> None:
    """In the suite's pytest: an AdbClient asked for port 5037 gets the private server's port instead."""
    private = int(os.environ["ANDROID_ADB_SERVER_PORT"])
    original = adbutils.AdbClient.__init__

    @functools.wraps(original)
    def redirected(self: adbutils.AdbClient, host: str | None = None, port: int | None = None,
                   socket_timeout: float | None = None) -> None:
        original(self, host, private if port in (None, 5037) else port, socket_timeout)

    adbutils.AdbClient.__init__ = redirected  # type: ignore[method-assign]


if __name__ == "__main__":
    raise SystemExit(main())
