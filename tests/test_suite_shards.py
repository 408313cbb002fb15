"""Suites across machines: ``suite run --shard K/N`` and ``suite merge`` as real processes on virtual phones
(each with its own hash seed), and phones on more than one adb server."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from phone_agent.sim.testing import AdbServer, PhoneSession, adb_server, running_phone
from phone_agent.suites.runner import collect, shard_of
from tests.support import invoke
from tests.test_cli_process import agent_env, agent_home

CASE = "  - name: {name}\n    steps: [home]\n    expect: {{app: {app}}}\n"
NAMES = ["alpha", "bravo", "charlie", "delta", "echo"]


def suite_dir(tmp_path: Path, failing: str | None = None) -> Path:
    """A suite of quick cases; ``failing`` expects the wrong app."""
    folder = tmp_path / "suites"
    folder.mkdir(exist_ok=True)
    cases = "".join(CASE.format(name=n, app="Settings" if n == failing else "Launcher") for n in NAMES)
    (folder / "home.yaml").write_text("cases:\n" + cases, encoding="utf-8")
    return folder


def agent(tmp_path: Path, *args: str, hash_seed: str = "0") -> subprocess.CompletedProcess[str]:
    env = agent_env(tmp_path) | {"PYTHONHASHSEED": hash_seed}  # Python's own hash() differs per process
    return subprocess.run([sys.executable, "-m", "phone_agent", *args], env=env, capture_output=True, text=True,
                          timeout=180, stdin=subprocess.DEVNULL, check=False)


def junit_cases(path: Path) -> list[str]:
    return sorted(case.get("name", "") for case in ElementTree.parse(path).getroot().iter("testcase"))


def test_shards_split_the_cases_the_same_way_whatever_the_order() -> None:
    items = collect([Path(__file__).parent.parent / "suites"])
    shards = [shard_of(items, k, 3) for k in (1, 2, 3)]
    ids = [[f"{s.name}/{c.name}" for s, c in shard] for shard in shards]
    assert sorted(sum(ids, [])) == sorted(f"{s.name}/{c.name}" for s, c in items)  # each case in one shard
    assert max(map(len, ids)) - min(map(len, ids)) <= 1
    backwards = [[f"{s.name}/{c.name}" for s, c in shard_of(items[::-1], k, 3)] for k in (1, 2, 3)]
    assert [sorted(x) for x in backwards] == [sorted(x) for x in ids]


def test_three_shards_on_three_machines_merge_into_one_report(tmp_path: Path) -> None:
    suites = suite_dir(tmp_path, failing="delta")
    codes = {}
    for k in (1, 2, 3):
        out = tmp_path / "job" / f"shard-{k}"
        done = agent(tmp_path, "suite", "run", str(suites), "--shard", f"{k}/3", "--sim", "1", "--html", str(out),
                     "--junit", str(out / "junit.xml"), "--runs-dir", str(out / "runs"), hash_seed=str(k))
        assert done.returncode in (0, 1), done.stdout + done.stderr
        codes[k] = done.returncode
        # Each job uploads its folder; the merge job downloads them somewhere else.
        shutil.move(out, tmp_path / "downloaded" / f"shard-{k}")
    shards = [tmp_path / "downloaded" / f"shard-{k}" for k in (1, 2, 3)]
    per_shard = [junit_cases(shard / "junit.xml") for shard in shards]
    assert sorted(sum(per_shard, [])) == sorted(NAMES) and all(per_shard)

    merged = agent(tmp_path, "suite", "merge", str(tmp_path / "merged"), *map(str, shards))
    assert merged.returncode == 1, merged.stdout + merged.stderr  # delta failed, in whichever shard it ran
    assert sorted(codes.values()) == [0, 0, 1]
    assert "4 of 5 cases passed" in merged.stdout
    root = ElementTree.parse(tmp_path / "merged" / "junit.xml").getroot()
    assert junit_cases(tmp_path / "merged" / "junit.xml") == sorted(NAMES)
    assert (root.get("tests"), root.get("failures")) == ("5", "1")
    index = tmp_path / "merged" / "index.html"
    page = index.read_text(encoding="utf-8")
    assert page.count('<tr class="passed">') == 4 and page.count('<tr class="failed">') == 1
    screens = [line.split('"')[0] for line in page.split('href="')[1:]]
    assert len(screens) == 5 and all((index.parent / screen).is_file() for screen in screens)


def test_merge_without_results_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = invoke("suite", "merge", str(tmp_path / "merged"), str(tmp_path / "empty"), env=agent_home(tmp_path))
    assert done.returncode == 2 and "results.json: cannot read it" in done.stderr
    bad = invoke("suite", "run", str(suite_dir(tmp_path)), "--shard", "4/3", "--sim", "1", env=agent_home(tmp_path))
    assert bad.returncode == 2 and "--shard '4/3': give K/N" in bad.stderr


def test_cases_spread_over_phones_of_two_adb_servers(adb: AdbServer, phone: PhoneSession, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    with adb_server(isolate_env=False) as other, running_phone(other) as remote:
        done = invoke("suite", "run", str(suite_dir(tmp_path)), "--all-devices",
                      "--adb-host", f"127.0.0.1:{adb.port}", "--adb-host", f"127.0.0.1:{other.port}",
                      "--junit", str(junit), "--runs-dir", str(tmp_path / "runs"), env=agent_home(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"on {phone.phone.serial} over adb, {remote.phone.serial} over adb" in done.stdout
    devices = {p.get("value") for p in ElementTree.parse(junit).getroot().iter("property") if p.get("name") == "device"}
    assert devices == {phone.phone.serial, remote.phone.serial}
