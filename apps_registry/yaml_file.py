"""Reading the YAML files people write for us (app files, suites, the config file), strictly and within limits.

One loader for all of them: UTF-8 only, at most ``MAX_YAML_BYTES`` and ``MAX_NESTING`` levels, and a
key given twice in one mapping is an error naming both lines (PyYAML would silently keep the last).
It lives here because ``apps_registry`` imports nothing from the rest of the project.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MAX_YAML_BYTES = 5 * 1024 * 1024
MAX_NESTING = 100
_MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlFileError(ValueError):
    """A YAML file that cannot be used; the message names the file and, where it can, the line."""


@dataclass(frozen=True)
class YamlDocument:
    """What a file holds (plain Python data) and its node tree, for pointing at lines."""

    data: Any
    root: yaml.Node | None


def read_yaml(path: Path) -> YamlDocument:
    """Read one YAML file.

    Raises:
        YamlFileError: the file is too big, not UTF-8, not valid YAML, nested too deeply, or repeats a key.
        OSError: the file cannot be read.
    """
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise YamlFileError(
            f"{path}: {size / 1024 / 1024:.1f} MB is more than the {MAX_YAML_BYTES // 1024 // 1024} MB "
            "a YAML file may have; split it into several files"
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlFileError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
        ) from None
    return parse_yaml(text, str(path))


def parse_yaml(text: str, source: str) -> YamlDocument:
    """Parse YAML text; ``source`` names it in errors.

    Raises:
        YamlFileError: not valid YAML, nested too deeply, or a key repeated in one mapping.
    """
    loader = _StrictLoader(text)
    loader.name = source  # marks (and so error messages) name the file instead of "<unicode string>"
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except YamlFileError:
        raise
    except yaml.YAMLError as exc:
        raise YamlFileError(f"{source}: not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    return YamlDocument(data, root)


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a nesting limit and duplicate keys refused."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        # Composing recurses once per level: stop well before Python's recursion limit does.
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                line = self.peek_event().start_mark.line + 1
                raise YamlFileError(f"{self.name}:{line}: nested more than {MAX_NESTING} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue  # "<<: *defaults" may be overridden by the mapping's own keys
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                seen = first_line.get(key)
            except TypeError:
                continue  # an unhashable key: SafeLoader reports it below
            if seen is not None:
                raise YamlFileError(f"{self.name}:{line}: the key {key!r} is given twice (first on line {seen})")
            first_line[key] = line
        return super().construct_mapping(node, deep=deep)
