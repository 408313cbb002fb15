"""Suite results as JUnit XML (for CI servers) and as an HTML page linking each case's run report."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from html import escape
from itertools import groupby
from pathlib import Path
from typing import Any

from phone_agent.errors import ConfigError
from phone_agent.suites.case import CaseResult
from phone_agent.suites.steps import CheckResult

RESULTS_FILE = "results.json"  # next to index.html: what `suite merge` reads back

# Characters XML 1.0 cannot hold at all (control codes from adb output, model text or app labels).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def write_junit(results: Sequence[CaseResult], path: Path) -> Path:
    """JUnit XML: one testsuite per suite file, one testcase per case, failure/error with the message."""
    root = ElementTree.Element("testsuites", {"name": "phone-agent", **_counts(results)})
    for name, group in groupby(sorted(results, key=lambda r: r.suite), key=lambda r: r.suite):
        cases = list(group)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        suite = ElementTree.SubElement(root, "testsuite", {"name": name, "timestamp": stamp, **_counts(cases)})
        for result in cases:
            case = ElementTree.SubElement(
                suite,
                "testcase",
                classname=f"suites.{name}",
                name=_xml_text(result.case),
                time=f"{result.duration:.3f}",
                file=str(result.suite_path),
            )
            properties = ElementTree.SubElement(case, "properties")
            for key, value in _properties(result):
                ElementTree.SubElement(properties, "property", name=key, value=_xml_text(value))
            if result.status == "not_run":
                ElementTree.SubElement(case, "skipped", message=_xml_text(f"not run: {result.message}"))
            elif result.status != "passed":
                kind = "failure" if result.status == "failed" else "error"
                named = "interrupted" if result.status == "interrupted" else kind  # an error of its own type
                element = ElementTree.SubElement(case, kind, message=_xml_text(result.message[:500]), type=named)
                element.text = _xml_text("\n".join([result.message, *_details(result)]))
            ElementTree.SubElement(case, "system-out").text = _xml_text("\n".join(_details(result)))
    path.parent.mkdir(parents=True, exist_ok=True)
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def write_html(results: Sequence[CaseResult], directory: Path) -> Path:
    """``index.html`` in ``directory``: a summary table linking each case's reports and final screen."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = []
    for result in results:
        links = [_link(directory, report, f"run {i + 1}") for i, report in enumerate(result.reports)]
        final = result.case_dir / "final.png"
        if final.exists():
            links.append(_link(directory, final, "final screen"))
        checks = "<br>".join(f"{'✓' if c.passed else '✗'} {escape(c.detail)}" for c in result.checks)
        calls = escape(" ".join(result.model_calls))
        rows.append(
            f'<tr class="{result.status}"><td>{escape(result.suite)}</td><td>{escape(result.case)}</td>'
            f"<td>{escape(result.status)}</td><td>{escape(result.device)}</td><td>{result.duration:.1f} s</td>"
            f"<td>{result.replayed} / {result.healed}<br><small>{calls}</small></td>"
            f"<td>{escape(result.message)}<br>{checks}</td>"
            f"<td>{' · '.join(links)}</td></tr>"
        )
    statuses = [r.status for r in results]
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>phone-agent suites</title><style>'
        "body{font-family:system-ui,sans-serif;margin:24px}table{border-collapse:collapse;width:100%}"
        "td,th{border:1px solid #ccc;padding:6px;vertical-align:top;font-size:14px}"
        "tr.passed td:nth-child(3){color:#1a7f37}tr.failed td:nth-child(3),tr.error td:nth-child(3),"
        "tr.interrupted td:nth-child(3){color:#c62828}tr.not_run td:nth-child(3){color:#777}"
        "</style></head><body>"
        f"<h1>Suite results</h1><p>{len(results)} cases: {statuses.count('passed')} passed, "
        f"{statuses.count('failed')} failed, {statuses.count('error')} errors, {statuses.count('interrupted')} "
        f"interrupted, {statuses.count('not_run')} not run, {_counts(results)['time']} s</p>"
        "<table><tr><th>suite</th><th>case</th><th>result</th><th>device</th><th>time</th>"
        "<th>replayed / healed</th><th>details</th><th>reports</th></tr>" + "".join(rows) + "</table></body></html>\n"
    )
    path = directory / "index.html"
    path.write_text(page, encoding="utf-8")
    (directory / RESULTS_FILE).write_text(
        json.dumps([_as_json(result, directory) for result in results], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return path


def read_results(directory: Path) -> list[CaseResult]:
    """The results an HTML report was written from, its paths resolved from wherever the folder is now.

    Raises:
        ConfigError: the folder holds no readable results.json.
    """
    path = directory / RESULTS_FILE
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
        return [_from_json(record, directory) for record in records]
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror or exc}); give the shards' --html folders.") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise ConfigError(f"{path}: not the results of `phone-agent suite run --html` ({exc}).") from None


def _as_json(result: CaseResult, directory: Path) -> dict[str, Any]:
    """The result with its paths relative to the report folder, which CI jobs move as one artifact."""
    return {
        **asdict(result),
        "suite_path": str(result.suite_path),  # as given on the command line, as JUnit names it
        "case_dir": os.path.relpath(result.case_dir, directory),
        "reports": [os.path.relpath(report, directory) for report in result.reports],
    }


def _from_json(record: dict[str, Any], directory: Path) -> CaseResult:
    return CaseResult(**{
        **record,
        "suite_path": Path(record["suite_path"]),
        "case_dir": directory / record["case_dir"],
        "reports": [directory / report for report in record["reports"]],
        "checks": [CheckResult(**check) for check in record["checks"]],
    })


def _counts(results: Sequence[CaseResult]) -> dict[str, str]:
    return {
        "tests": str(len(results)),
        "failures": str(sum(r.status == "failed" for r in results)),
        "errors": str(sum(r.status in ("error", "interrupted") for r in results)),
        "skipped": str(sum(r.status == "not_run" for r in results)),
        "time": f"{sum(r.duration for r in results):.3f}",
    }


def _properties(result: CaseResult) -> list[tuple[str, str]]:
    pairs = [("device", result.device), ("attempts", str(result.attempts)), ("case_dir", str(result.case_dir))]
    pairs += [("report", str(report)) for report in result.reports]
    return pairs + [("replayed", str(result.replayed)), ("healed", str(result.healed))]


def _details(result: CaseResult) -> list[str]:
    lines = [f"device: {result.device}", f"run directory: {result.case_dir}"]
    lines += [f"report: {report}" for report in result.reports]
    lines += [f"step: {step}" for step in result.steps]
    if result.model_calls:
        lines.append("model calls: " + ", ".join(f"{i + 1} {how}" for i, how in enumerate(result.model_calls)))
    lines += [f"check {'passed' if c.passed else 'FAILED'}: {c.name}: {c.detail}" for c in result.checks]
    return lines


def _link(directory: Path, target: Path, label: str) -> str:
    return f'<a href="{escape(Path(os.path.relpath(target, directory)).as_posix())}">{escape(label)}</a>'
