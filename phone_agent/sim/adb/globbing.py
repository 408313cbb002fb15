"""Pathname expansion: unquoted `*`, `?` and `[...]` in a word match the phone's files, as sh does."""

from __future__ import annotations

import fnmatch

from phone_agent.sim.adb.fs import FileSystem

_WILDCARDS = "*?["


def _escape(text: str) -> str:
    """Quoted text as a pattern that matches only itself."""
    return "".join(f"[{char}]" if char in _WILDCARDS else char for char in text)


class Field:
    """One field being built from parts of a word: its text, and the pattern where only unquoted text is magic."""

    def __init__(self) -> None:
        """Start an empty field."""
        self.text = ""
        self.pattern = ""
        self.magic = False

    def add(self, text: str, quoted: bool) -> None:
        """Append text; unquoted wildcards in it make the field a pattern."""
        self.text += text
        self.pattern += _escape(text) if quoted else text
        self.magic = self.magic or (not quoted and any(char in text for char in _WILDCARDS))

    def expand(self, fs: FileSystem, cwd: str) -> list[str]:
        """The sorted paths the field matches, or the field itself when it matches none (or is no pattern)."""
        if not self.magic:
            return [self.text]
        return _matches(fs, cwd, self.pattern) or [self.text]


def _is_dir(fs: FileSystem, cwd: str, path: str) -> bool:
    node = fs.stat(fs.normalize(path or ".", cwd))
    return node is not None and node.is_dir


def _matches(fs: FileSystem, cwd: str, pattern: str) -> list[str]:
    """Paths matching a pattern component by component, written as the pattern was (relative stays relative)."""
    start = "/" if pattern.startswith("/") else ""
    found = [start]
    for component in (piece for piece in pattern.split("/") if piece):
        following: list[str] = []
        for prefix in found:
            if not any(char in component for char in _WILDCARDS):
                if fs.stat(fs.normalize(prefix + component, cwd)) is not None:
                    following.append(prefix + component)
            elif _is_dir(fs, cwd, prefix):
                # A leading dot is matched only by a pattern that starts with one, as in sh.
                following.extend(prefix + name for name, _ in fs.listdir(fs.normalize(prefix or ".", cwd))
                                 if fnmatch.fnmatchcase(name, component)
                                 and (component.startswith(".") or not name.startswith(".")))
        found = [path + "/" for path in following]
    if found == [start]:
        return []
    if pattern.endswith("/"):  # `*/` names directories only, and keeps the slash
        return sorted(path for path in found if _is_dir(fs, cwd, path))
    return sorted(path[:-1] for path in found)
