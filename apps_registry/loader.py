"""Reading app data files (YAML lists of entries) into validated `App` objects."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from apps_registry.app import App
from apps_registry.errors import AppDataError
from apps_registry.yaml_file import YamlFileError, parse_yaml, read_yaml


def parse_app_file(text: str, source: str) -> list[App]:
    """Parse the YAML text of one data file; `source` names the file in errors.

    Raises:
        AppDataError: the text is not YAML, not a list of mappings, or an entry does not validate.
    """
    try:
        data = parse_yaml(text, source).data
    except YamlFileError as exc:
        raise AppDataError(str(exc)) from None
    return _apps_from(data, source)


def _apps_from(data: Any, source: str) -> list[App]:
    """Validate a data file's content: a list of app entries (an empty file has none)."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise AppDataError(f"{source}: expected a list of app entries, got {type(data).__name__}")
    return [_parse_entry(entry, source, number) for number, entry in enumerate(data, start=1)]


def read_app_file(path: Path) -> list[App]:
    """Read and validate one data file from disk.

    Raises:
        AppDataError: the file cannot be read or does not validate.
    """
    try:
        data = read_yaml(path).data
    except OSError as exc:
        raise AppDataError(f"{path}: cannot read app file: {exc.strerror or exc}") from None
    except YamlFileError as exc:
        raise AppDataError(str(exc)) from None
    return _apps_from(data, str(path))


@cache
def shipped_app_files() -> tuple[tuple[str, tuple[App, ...]], ...]:
    """`(file name, apps)` for each data file shipped in `apps_registry/data`, in name order.

    Read once per process: the files are part of the package, and the strict YAML reader takes a noticeable
    part of a second over them, which every command (and every MCP task) that loads the registry would pay.
    """
    data_dir = resources.files("apps_registry") / "data"
    return tuple(
        (item.name, tuple(parse_app_file(item.read_text(encoding="utf-8"), item.name)))
        for item in sorted(data_dir.iterdir(), key=lambda entry: entry.name)
        if item.name.endswith((".yaml", ".yml"))
    )


def _parse_entry(entry: Any, source: str, number: int) -> App:
    """Validate one entry, naming the file, entry number and app in any error."""
    label = _entry_label(entry, number)
    if not isinstance(entry, dict):
        raise AppDataError(f"{source}: {label}: expected a mapping with name, package, ...")
    try:
        return App.model_validate(entry)
    except ValidationError as exc:
        problems = "; ".join(_describe(error) for error in exc.errors())
        raise AppDataError(f"{source}: {label}: {problems}") from exc


def _entry_label(entry: Any, number: int) -> str:
    """Say which entry this is: its number, and its name when it has one."""
    name = entry.get("name") if isinstance(entry, dict) else None
    return f'entry {number} ("{name}")' if isinstance(name, str) else f"entry {number}"


def _describe(error: Any) -> str:
    """Render one pydantic error as `field: message`."""
    field = ".".join(str(part) for part in error["loc"]) or "entry"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{field}: {message}"
