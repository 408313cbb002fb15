"""An in-memory file system with the directories an agent or a test touches on Android."""

from __future__ import annotations

import errno
import os
import posixpath
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

DIRECTORIES = (
    "/sdcard",
    "/sdcard/Download",
    "/sdcard/DCIM",
    "/sdcard/Pictures",
    "/sdcard/Movies",
    "/data",
    "/data/local",
    "/data/local/tmp",
    "/system",
    "/system/bin",
    "/storage",
    "/dev",
)
# The shell user may write only here; elsewhere Android answers EACCES or EROFS.
WRITABLE = ("/sdcard", "/data/local/tmp")
# Android's /sdcard is a link to the primary shared storage; both spellings reach one tree.
ALIASES = ("/storage/emulated/0", "/storage/self/primary", "/mnt/sdcard")
DEVICES = ("/dev/null", "/dev/zero", "/dev/tty")


class FsError(OSError):
    """A file-system call failed; `errno` says why, as on the device."""

    def __init__(self, code: int, path: str) -> None:
        """Build the error from an errno value and the path it concerns."""
        super().__init__(code, os.strerror(code), path)


@dataclass
class Node:
    """A file or directory: its st_mode, mtime (seconds) and, for files, contents."""

    mode: int
    mtime: int
    data: bytearray = field(default_factory=bytearray)

    @property
    def is_dir(self) -> bool:
        """True for a directory."""
        return stat.S_ISDIR(self.mode)

    @property
    def size(self) -> int:
        """Byte size (4096 for directories, like ext4)."""
        return 4096 if self.is_dir else len(self.data)


class FileSystem:
    """Thread-safe tree of nodes keyed by normalised absolute path."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        """Create the standard Android directories."""
        self._clock = clock
        self._lock = threading.RLock()
        self._nodes: dict[str, Node] = {}
        self.reset()

    def reset(self) -> None:
        """Forget every file; keep only the standard directories."""
        now = int(self._clock())
        with self._lock:
            self._nodes = {"/": Node(stat.S_IFDIR | 0o755, now)}
            for path in DIRECTORIES:
                self._nodes[path] = Node(stat.S_IFDIR | 0o771, now)
            for path in DEVICES:
                self._nodes[path] = Node(stat.S_IFCHR | 0o666, now)

    @staticmethod
    def normalize(path: str, cwd: str = "/") -> str:
        """An absolute, normalised path with the shared-storage aliases folded into /sdcard."""
        path = posixpath.normpath(posixpath.join(cwd, path or "."))
        if path.startswith("//"):
            path = "/" + path.lstrip("/")
        for alias in ALIASES:
            if path == alias or path.startswith(alias + "/"):
                return "/sdcard" + path[len(alias) :]
        return path

    def stat(self, path: str) -> Node | None:
        """The node at path, or None."""
        with self._lock:
            return self._nodes.get(self.normalize(path))

    def read(self, path: str) -> bytes:
        """The contents of a file.

        Raises:
            FsError: ENOENT when missing, EISDIR for a directory.
        """
        path = self.normalize(path)
        with self._lock:
            node = self._existing(path)
            if node.is_dir:
                raise FsError(errno.EISDIR, path)
            if path == "/dev/zero":
                return bytes(4096)
            return bytes(node.data)

    def write(self, path: str, data: bytes, *, append: bool = False, mode: int = 0o644,
              mtime: int | None = None, make_parents: bool = False) -> None:
        """Create or replace (or append to) a file.

        Raises:
            FsError: EACCES outside the writable trees, ENOENT without a parent, EISDIR for a directory.
        """
        path = self.normalize(path)
        with self._lock:
            node = self._nodes.get(path)
            if node is not None and stat.S_ISCHR(node.mode):
                return  # /dev/null and friends swallow writes
            self._check_writable(path)
            parent = posixpath.dirname(path)
            if make_parents:
                self.mkdir(parent, parents=True)
            parent_node = self._nodes.get(parent)
            if parent_node is None or not parent_node.is_dir:
                raise FsError(errno.ENOENT, path)
            if node is not None and node.is_dir:
                raise FsError(errno.EISDIR, path)
            when = int(self._clock()) if mtime is None else mtime
            if append and node is not None:
                node.data += data
                node.mtime = when
            else:
                self._nodes[path] = Node(stat.S_IFREG | (mode & 0o7777), when, bytearray(data))

    def mkdir(self, path: str, *, parents: bool = False) -> None:
        """Create a directory (and its parents with `parents`).

        Raises:
            FsError: EEXIST, ENOENT or EACCES as mkdir(1) would report.
        """
        path = self.normalize(path)
        with self._lock:
            node = self._nodes.get(path)
            if node is not None:
                if node.is_dir and parents:
                    return
                raise FsError(errno.EEXIST, path)
            self._check_writable(path)
            parent = posixpath.dirname(path)
            if parent not in self._nodes:
                if not parents:
                    raise FsError(errno.ENOENT, path)
                self.mkdir(parent, parents=True)
            self._nodes[path] = Node(stat.S_IFDIR | 0o771, int(self._clock()))

    def remove(self, path: str, *, recursive: bool = False) -> None:
        """Delete a file, or a directory tree with `recursive`.

        Raises:
            FsError: ENOENT, EISDIR (a directory without `recursive`) or EACCES.
        """
        path = self.normalize(path)
        with self._lock:
            node = self._existing(path)
            self._check_writable(path)
            if node.is_dir and not recursive:
                raise FsError(errno.EISDIR, path)
            if path in WRITABLE:
                raise FsError(errno.EACCES, path)
            prefix = path + "/"
            for key in [key for key in self._nodes if key == path or key.startswith(prefix)]:
                del self._nodes[key]

    def listdir(self, path: str) -> list[tuple[str, Node]]:
        """The (name, node) entries of a directory, sorted by name.

        Raises:
            FsError: ENOENT when missing, ENOTDIR for a file.
        """
        path = self.normalize(path)
        with self._lock:
            if not self._existing(path).is_dir:
                raise FsError(errno.ENOTDIR, path)
            prefix = path.rstrip("/") + "/"
            entries = [
                (key[len(prefix) :], child)
                for key, child in self._nodes.items()
                if key.startswith(prefix) and key != prefix and "/" not in key[len(prefix) :]
            ]
        return sorted(entries)

    def files(self) -> dict[str, int]:
        """Every regular file under the writable trees with its size (for the observable state)."""
        with self._lock:
            return {
                path: len(node.data)
                for path, node in sorted(self._nodes.items())
                if stat.S_ISREG(node.mode)
            }

    def _existing(self, path: str) -> Node:
        """The node at a normalised path (call under the lock).

        Raises:
            FsError: ENOENT when missing.
        """
        node = self._nodes.get(path)
        if node is None:
            raise FsError(errno.ENOENT, path)
        return node

    @staticmethod
    def _check_writable(path: str) -> None:
        if not any(path == root or path.startswith(root + "/") for root in WRITABLE):
            code = errno.EROFS if path == "/" or path.startswith("/system") else errno.EACCES
            raise FsError(code, path)
