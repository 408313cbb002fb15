"""Hostile input through the real command: unsendable keys, credentials in URLs, escape codes, crafted traces."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from phone_agent.config import load_settings, resolve_endpoint
from phone_agent.console import ConsolePrinter, printable
from phone_agent.errors import ConfigError
from phone_agent.handoff import ConsoleHandOff
from phone_agent.report import write_report
from phone_agent.session import open_client
from phone_agent.sim.model_server import ReplayModelServer, ReplayScript
from phone_agent.trace import read_trace
from tests import support
from tests.test_trace_report import _browser

ROOT = Path(__file__).parent.parent
SECRET = "SECRET123456"  # the unique middle of every key below: no form of a key may show it
FINISH = '<answer>finish(message="done")</answer>'


def replay(*steps: Any) -> ReplayModelServer:
    return ReplayModelServer(ReplayScript.model_validate({"replies": list(steps)}))


def phone_agent(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m phone_agent`` as a person would, with a clean environment and no config file."""
    clean = {key: value for key, value in os.environ.items() if "API_KEY" not in key and "ADB" not in key}
    clean |= {"PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path), **home(tmp_path), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "phone_agent", *args], env=clean, capture_output=True, text=True, timeout=120
    )


def invoke(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The same command in this process, with the same clean environment."""
    unset: dict[str, str | None] = {key: None for key in os.environ if "API_KEY" in key or "ADB" in key}
    return support.invoke(*args, env=unset | home(tmp_path) | (env or {}))


def home(tmp_path: Path) -> dict[str, str]:
    return {"PHONE_AGENT_HOME": str(tmp_path), "PHONE_AGENT_CONFIG": str(tmp_path / "none.yaml")}


def run_on_sim(
    tmp_path: Path, server: ReplayModelServer, *args: str, process: bool = False, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """``phone-agent run`` on a virtual phone started for the purpose, against the replay model; in a real
    process where the test is about the terminal."""
    runs = ["run", "open Settings", "--device", "sim", "--base-url", server.base_url, "--runs-dir", str(tmp_path)]
    return (phone_agent if process else invoke)(tmp_path, *runs, *args, **kwargs)


def run_files(tmp_path: Path) -> str:
    """Everything a run left on disk that is text: the trace and the report."""
    return "".join(path.read_text(encoding="utf-8") for path in tmp_path.glob("*/*.*") if path.suffix != ".png")


# -- 1. the API key -------------------------------------------------------------------------------


def test_a_key_with_a_trailing_line_break_is_used_without_it(tmp_path: Path) -> None:
    with replay(FINISH) as server:
        completed = run_on_sim(tmp_path, server, env={"PHONE_AGENT_API_KEY": f"sk-{SECRET}\r\n"})
        requests = server.requests
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert requests[0].authorization
    assert SECRET not in completed.stdout + completed.stderr + run_files(tmp_path)


def test_surrounding_whitespace_is_stripped_from_every_source(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PHONE_AGENT_CONFIG", str(tmp_path / "none.yaml"))
    monkeypatch.setenv("PHONE_AGENT_API_KEY", f" sk-{SECRET}\r\n")
    endpoint = resolve_endpoint(load_settings())
    assert endpoint.api_key is not None and endpoint.api_key.get_secret_value() == f"sk-{SECRET}"
    monkeypatch.delenv("PHONE_AGENT_API_KEY")
    endpoint = resolve_endpoint(load_settings(api_key=f"\tsk-{SECRET} "))
    assert endpoint.api_key is not None and endpoint.api_key.get_secret_value() == f"sk-{SECRET}"


@pytest.mark.parametrize("blank", ["", "  "])
def test_a_blank_key_variable_does_not_hide_the_key_in_the_config_file(tmp_path: Path, blank: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"api_key: sk-{SECRET}\n", encoding="utf-8")
    with replay(FINISH) as server:
        completed = run_on_sim(tmp_path, server, env={"PHONE_AGENT_CONFIG": str(config), "PHONE_AGENT_API_KEY": blank})
        requests = server.requests
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert requests[0].authorization


def test_a_bad_key_in_the_config_file_is_named_there_whatever_blank_variable_is_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f'api_key: "sk-{SECRET}\\u001b"\n', encoding="utf-8")
    monkeypatch.setenv("PHONE_AGENT_CONFIG", str(config))
    monkeypatch.setenv("PHONE_AGENT_API_KEY", "  ")
    settings = load_settings()
    with pytest.raises(ConfigError, match=f"from api_key in {re.escape(str(config))} cannot be sent"):
        open_client(resolve_endpoint(settings), settings)


@pytest.mark.parametrize(
    ("source", "key", "problem"),
    [
        ("PHONE_AGENT_API_KEY", f"sk-{SECRET}\r\nsk-other", "a line break"),
        ("ZAI_API_KEY", f"sk-{SECRET}\x1b[2J", "a control character"),
        ("--api-key", f"sk-{SECRET}é", "a non-ASCII character"),
        ("config", f"sk-{SECRET}\nsecond-line", "a line break"),
    ],
)
def test_a_key_that_cannot_go_in_a_header_is_a_setup_error_naming_its_source(
    tmp_path: Path, source: str, key: str, problem: str
) -> None:
    args = ["run", "open Settings", "--provider", "zai", "--base-url", "http://127.0.0.1:9/v1", "--device", "sim"]
    env = {}
    if source == "--api-key":
        args += ["--api-key", key]
    elif source == "config":
        config = tmp_path / "config.yaml"
        config.write_text(f"api_key: |\n  {key.replace(chr(10), chr(10) + '  ')}\n", encoding="utf-8")
        env["PHONE_AGENT_CONFIG"] = str(config)
        source = str(config)
    else:
        env[source] = key
    completed = invoke(tmp_path, *args, env=env)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert source in completed.stderr and problem in completed.stderr
    assert "Traceback" not in completed.stderr
    assert SECRET not in completed.stdout + completed.stderr


def test_credentials_in_the_base_url_stay_out_of_messages_traces_and_reports(tmp_path: Path) -> None:
    with replay({"error": {"status": 401, "message": "bad credentials"}}) as server:
        base_url = server.base_url.replace("http://", f"http://user:pw-{SECRET}@")
        runs = ["run", "open Settings", "--device", "sim", "--base-url", base_url, "--runs-dir", str(tmp_path)]
        completed = invoke(tmp_path, *runs)
    assert completed.returncode == 2 and "API key" in completed.stdout
    assert SECRET not in completed.stdout + completed.stderr + run_files(tmp_path)
    assert server.base_url in completed.stdout  # the endpoint is still named, without its userinfo


@pytest.mark.parametrize("cut_after", [8, 15])
def test_a_key_echoed_across_the_quoting_limit_shows_no_part_of_itself(tmp_path: Path, cut_after: int) -> None:
    key = f"sk-live-{SECRET}"
    padding = "x" * (300 - len("Invalid key ") - cut_after)  # the server's message is quoted up to 300 characters
    with replay({"error": {"status": 401, "message": f"Invalid key {padding}{key}"}}) as server:
        completed = run_on_sim(tmp_path, server, env={"PHONE_AGENT_API_KEY": key})
    assert completed.returncode == 2, completed.stdout + completed.stderr
    shown = completed.stdout + completed.stderr + run_files(tmp_path)
    assert "Invalid key xxx" in shown and key[:cut_after] not in shown


@pytest.mark.parametrize(
    "base_url",
    [f"htps://bob:pw-{SECRET}@models.test/v1", f"http://[::1/v1?key={SECRET}", f"http://bob:{SECRET}@host:abc/v1"],
)
def test_a_bad_base_url_is_a_setup_error_that_shows_no_credentials(tmp_path: Path, base_url: str) -> None:
    completed = invoke(tmp_path, "run", "open Settings", "--device", "sim", "--base-url", base_url)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "base_url" in completed.stderr and "Traceback" not in completed.stderr
    assert SECRET not in completed.stdout + completed.stderr


# -- 6. escape sequences in the model's text -----------------------------------------------------

HOSTILE = (
    "Looking\x1b]52;c;cHduZWQ=\x07 at\x1b]0;owned title\x1b\\ the\x1b[2J\x1b[H screen\r\x08\x9b2J."
)
ESCAPES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def test_escape_sequences_from_the_model_never_reach_the_terminal_but_stay_in_the_trace(tmp_path: Path) -> None:
    reply = f'<think>{HOSTILE}</think><answer>finish(message="done\x1b]0;title\x07 \x1b[31mred")</answer>'
    with replay(reply) as server:
        completed = run_on_sim(tmp_path, server, process=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert ESCAPES.search(completed.stdout + completed.stderr) is None
    for payload in ("52;c", "owned title", "[2J"):  # dropped whole, not just disarmed
        assert payload not in completed.stdout
    assert "Looking at the screen" in completed.stdout and "done red" in completed.stdout
    (step,) = [r for r in read_trace(next(tmp_path.glob("*/"))) if r["type"] == "step"]
    assert step["thinking"] == HOSTILE  # the record keeps exactly what the model sent


def test_a_setup_error_quoting_hostile_text_reaches_the_terminal_without_escape_sequences(tmp_path: Path) -> None:
    hostile = "Pwn\x1b]52;c;ZXZpbA==\x07"
    args = ["run", "x", "--device", "sim", "--base-url", "http://127.0.0.1:9/v1", "--allow-apps", hostile]
    completed = phone_agent(tmp_path, *args)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert 'Unknown app "Pwn' in completed.stderr and ESCAPES.search(completed.stderr) is None


def test_an_escape_split_across_streamed_pieces_is_held_back_then_dropped() -> None:
    class Out:
        text = ""

        def write(self, text: str) -> None:
            self.text += text

        def flush(self) -> None:
            pass

    out = Out()
    printer = ConsolePrinter(out)  # type: ignore[arg-type]
    printer.step_started(1)
    for piece in ("<think>one \x1b", "]52;c;cHdu", "ZWQ=\x07two \x1b[", "2Jthree</think>"):
        printer.model_text(piece)
    assert out.text.endswith("one two three")


def test_printable_keeps_text_and_line_breaks() -> None:
    assert printable("Tap 搜索 at (1, 2)\n\tthen wait") == "Tap 搜索 at (1, 2)\n\tthen wait"
    assert printable("a\x1bPq#0;2;0;0;0\x1b\\b\x1b(Bc\x1bcd") == "abcd"


def test_hand_off_questions_are_shown_without_escape_sequences() -> None:
    shown: list[str] = []

    def answer(prompt: str) -> str:
        shown.append(prompt)
        return "n"

    handoff = ConsoleHandOff(read=answer, write=shown.append)
    handoff.confirm("Pay\x1b]52;c;eA==\x07 now")
    handoff.take_over("Sign in\x1b[2J")
    handoff.ask("Which\x1b]0;t\x07 one?")
    assert all(ESCAPES.search(text) is None for text in shown)
    assert any("Pay now" in text for text in shown) and any("Which one?" in text for text in shown)


# -- 7. crafted traces and the HTML report -------------------------------------------------------

SCRIPT = "<script>window.owned=1</script>"
IMG = '<img src=x onerror="window.owned=1">'


class Markup(HTMLParser):
    """The elements, event-handler attributes and image sources a page really has (not what its text says)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.handlers: list[str] = []
        self.images: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        if tag == "img":
            self.images.append(dict(attrs)["src"])


def crafted_trace(run_dir: Path) -> None:
    """A trace someone wrote to attack whoever opens its report: markup in every field, wrong types too."""
    run_dir.mkdir()
    records = [
        {"type": "run", "task": SCRIPT, "device": IMG, "device_model": 7, "provider": ["x"], "started_at": {"a": 1}},
        {
            "type": "step",
            "index": SCRIPT,
            "screenshot": '"><script>window.owned=1</script>',
            "screen_size": [IMG, "2400"],
            "points": [[SCRIPT, IMG], "junk", [1]],
            "action": {"action": "Swipe", "start": SCRIPT},
            "current_app": {"k": IMG},
            "thinking": ["list", SCRIPT],
            "feedback": 42,
            "durations": {IMG: SCRIPT},
        },
        {"type": "step", "index": 2, "screenshot": "screens/002.png", "points": [[IMG, 5], [6, SCRIPT]],
         "action": "Tap" + SCRIPT, "screen_size": "big", "durations": [SCRIPT]},
        [SCRIPT],
        {"type": "result", "status": 'x" onmouseover="window.owned=1', "message": SCRIPT, "duration": IMG},
    ]
    lines = [json.dumps(record) for record in records]
    (run_dir / "trace.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_crafted_trace_gives_a_report_without_live_markup(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    crafted_trace(run_dir)
    completed = invoke(tmp_path, "report", str(run_dir))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    markup = Markup()
    markup.feed(html)
    assert markup.tags == {"html", "head", "meta", "title", "style", "body", "header", "h1", "div", "span", "main",
                           "section", "h2", "img", "svg", "code", "p"}
    assert markup.handlers == [] and markup.images == ['"><script>window.owned=1</script>', "screens/002.png"]
    assert html.count('<section class="step"') == 2
    assert "&lt;script&gt;window.owned=1&lt;/script&gt;" in html  # shown as text, for whoever reads it


def test_a_crafted_report_runs_no_script_in_a_real_headless_browser(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev extra")
    executable = _browser()
    if executable is None:
        pytest.skip("no Chromium on this machine (.ci/run installs Debian's chromium package)")
    run_dir = tmp_path / "run"
    crafted_trace(run_dir)
    report = write_report(run_dir)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        page = browser.new_page()
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        page.mouse.move(10, 10)  # an injected onmouseover would fire now
        owned = page.evaluate("() => window.owned")
        scripts = page.evaluate("() => document.scripts.length")
        handlers = [a for a in page.eval_on_selector_all("*", "es => es.flatMap(e => e.getAttributeNames())")
                    if a.startswith("on")]
        browser.close()
    assert owned is None and scripts == 0 and handlers == []


def test_a_failed_suite_case_prints_the_models_message_without_escape_sequences(capsys) -> None:
    from pathlib import Path

    from phone_agent.cli.suite import _print_progress
    from phone_agent.suites.case import CaseResult
    from phone_agent.suites.spec import Case, Suite

    case = Case(name="search", task="search")
    suite = Suite(cases=[case])
    message = "Done\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b]0;pwned\x07 really"
    result = CaseResult("suite", Path("s.yaml"), "search", "emulator-5554", "failed", message, 1.0, 1, Path("."))
    _print_progress("finished", suite, case, "emulator-5554", result)
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "Done" in out and "really" in out
