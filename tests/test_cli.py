"""The command line: help, setup errors with exit code 2, listing apps."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from phone_agent.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("PHONE_AGENT_API_KEY", "ZAI_API_KEY", "PHONE_AGENT_PROVIDER", "PHONE_AGENT_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PHONE_AGENT_CONFIG", str(tmp_path / "none.yaml"))


def test_run_help_documents_every_flag() -> None:
    result = runner.invoke(app, ["run", "--help"])
    assert result.exit_code == 0
    for flag in (
        "--device",
        "--provider",
        "--base-url",
        "--model",
        "--api-key",
        "--lang",
        "--max-steps",
        "--non-interactive",
        "--quiet",
        "--verbose",
    ):
        assert flag in result.output


def test_missing_api_key_is_a_one_line_setup_error() -> None:
    result = runner.invoke(app, ["run", "open Settings"])
    assert result.exit_code == 2
    assert "No API key for zai" in result.output and "ZAI_API_KEY" in result.output
    assert "Traceback" not in result.output


def test_unknown_provider_is_a_setup_error() -> None:
    result = runner.invoke(app, ["run", "x", "--provider", "nope", "--api-key", "k"])
    assert result.exit_code == 2
    assert "Unknown provider 'nope'" in result.output


def test_bad_setting_from_the_environment_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHONE_AGENT_MAX_STEPS", "many")
    result = runner.invoke(app, ["run", "x", "--api-key", "k"])
    assert result.exit_code == 2 and "max_steps" in result.output


def test_config_file_is_read_and_flags_win(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("provider: nope-from-file\n", encoding="utf-8")
    monkeypatch.setenv("PHONE_AGENT_CONFIG", str(config))
    assert "nope-from-file" in runner.invoke(app, ["run", "x", "--api-key", "k"]).output
    result = runner.invoke(app, ["run", "x", "--api-key", "k", "--provider", "flag-wins"])
    assert "flag-wins" in result.output


def test_apps_lists_the_registry_as_json() -> None:
    result = runner.invoke(app, ["apps", "--json"])
    assert result.exit_code == 0
    packages = {entry["name"]: entry["package"] for entry in json.loads(result.output)}
    assert packages["eBay"] == "com.ebay.mobile" and packages["WeChat"] == "com.tencent.mm"


def test_apps_with_a_user_file(tmp_path: Path) -> None:
    extra = tmp_path / "mine.yaml"
    extra.write_text("- name: Acme Notes\n  package: com.acme.notes\n  category: productivity\n", encoding="utf-8")
    result = runner.invoke(app, ["apps", "--apps-file", str(extra)])
    assert result.exit_code == 0 and "Acme Notes  com.acme.notes" in result.output


def test_bad_apps_file_is_a_setup_error(tmp_path: Path) -> None:
    extra = tmp_path / "bad.yaml"
    extra.write_text("- name: Broken\n  package: not a package\n", encoding="utf-8")
    result = runner.invoke(app, ["apps", "--apps-file", str(extra)])
    assert result.exit_code == 2 and "bad.yaml" in result.output


def test_a_real_provider_is_never_called_from_tests() -> None:
    with pytest.raises(AssertionError, match="api.z.ai"):
        httpx.get("https://api.z.ai/api/paas/v4/models")


def test_a_base_url_without_a_scheme_is_a_setup_error() -> None:
    result = runner.invoke(app, ["run", "x", "--base-url", "localhost:8000/v1"])
    assert result.exit_code == 2 and "must start with http:// or https://" in result.output


def test_credentials_in_the_base_url_stay_out_of_logs() -> None:
    from phone_agent.config import Endpoint

    endpoint = Endpoint("custom", "https://user:sk-secret-42@gpu.example:8443/v1?key=sk-secret-42", "m", None, ())
    assert endpoint.public_url == "https://gpu.example:8443/v1"


def test_a_mistyped_adb_port_is_reported_without_starting_a_server() -> None:
    import socket

    from phone_agent.sim.testing import free_port

    port = free_port()
    result = runner.invoke(app, ["devices", "--adb-port", str(port)])
    assert result.exit_code == 1 and f"No adb server answers at 127.0.0.1:{port}" in result.output
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
