"""The `sync:` service (push, pull, stat, list) over the phone's in-memory file system."""

from __future__ import annotations

import errno
import os
import struct
from collections.abc import Callable

from phone_agent.sim.adb.fs import FileSystem, FsError, Node
from phone_agent.sim.adb.transport import Stream

REQUEST = struct.Struct("<4sI")
STAT_V1 = struct.Struct("<4sIII")  # id, mode, size, mtime
STAT_V2 = struct.Struct("<4sIQQIIIIQqqq")  # id, error, dev, ino, mode, nlink, uid, gid, size, a/m/ctime
DENT_V1 = struct.Struct("<4sIIII")  # id, mode, size, mtime, name length
DENT_V2 = struct.Struct("<4sIQQIIIIQqqqI")  # a STA2 body plus the name length
MAX_CHUNK = 64 * 1024
SDCARD_RW = 1015  # gid of files on shared storage


def _stat_v2(ident: bytes, node: Node | None, error: int = 0) -> bytes:
    if node is None:
        return STAT_V2.pack(ident, error or errno.ENOENT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    inode = hash(id(node)) & 0xFFFFFFFF
    return STAT_V2.pack(ident, 0, 0xFD00, inode, node.mode, 1, 0, SDCARD_RW, node.size,
                        node.mtime, node.mtime, node.mtime)


def _fail(message: str) -> bytes:
    encoded = message.encode()
    return REQUEST.pack(b"FAIL", len(encoded)) + encoded


def serve_sync(stream: Stream, fs: FileSystem, record: Callable[[str, str], None]) -> None:
    """Answer sync requests until QUIT or the host closes the stream."""
    # Requests are read byte-exact: a SEND header and its first DATA may share one WRTE.
    while (header := stream.read_exact(REQUEST.size)) is not None:
        ident, length = REQUEST.unpack(header)
        if ident == b"QUIT":
            return
        argument = stream.read_exact(length) if ident != b"DONE" else b""
        if argument is None:
            return
        path = argument.decode("utf-8", "surrogateescape")
        match ident:
            case b"STAT" | b"LSTA":
                node = fs.stat(path)
                stream.write(STAT_V1.pack(ident, node.mode, node.size, node.mtime) if node else
                             STAT_V1.pack(ident, 0, 0, 0))
            case b"STA2" | b"LST2":
                stream.write(_stat_v2(ident, fs.stat(path)))
            case b"LIST" | b"LIS2":
                stream.write(_listing(fs, path, v2=ident == b"LIS2"))
            case b"RECV":
                record("pull", path)
                stream.write(_receive(fs, path))
            case b"SEND":
                record("push", path.rsplit(",", 1)[0])
                reply = _send(stream, fs, path)
                if reply is None:
                    return
                stream.write(reply)
            case _:
                stream.write(_fail(f"unknown sync request {ident!r}"))
                return


def _listing(fs: FileSystem, path: str, v2: bool) -> bytes:
    node = fs.stat(path)
    try:
        children = fs.listdir(path)
    except FsError:
        children = []
    entries = [(".", node), ("..", fs.stat(os.path.dirname(fs.normalize(path))))] if node and node.is_dir else []
    parts = []
    for name, child in [*entries, *children]:
        if child is None:
            continue
        encoded = name.encode()
        if v2:
            parts.append(b"DNT2" + _stat_v2(b"", child)[4:] + struct.pack("<I", len(encoded)) + encoded)
        else:
            parts.append(DENT_V1.pack(b"DENT", child.mode, child.size, child.mtime, len(encoded)) + encoded)
    parts.append(b"DONE" + bytes(DENT_V2.size - 4) if v2 else DENT_V1.pack(b"DONE", 0, 0, 0, 0))
    return b"".join(parts)


def _receive(fs: FileSystem, path: str) -> bytes:
    try:
        data = fs.read(path)
    except FsError as exc:
        return _fail(f"open failed: {exc.strerror}")
    view = memoryview(data)
    parts = [REQUEST.pack(b"DATA", len(view[start : start + MAX_CHUNK])) + bytes(view[start : start + MAX_CHUNK])
             for start in range(0, len(view), MAX_CHUNK)]
    parts.append(REQUEST.pack(b"DONE", 0))
    return b"".join(parts)


def _send(stream: Stream, fs: FileSystem, argument: str) -> bytes | None:
    """Receive DATA until DONE, then store the file; None if the host went away mid-transfer."""
    path, _, mode_text = argument.rpartition(",")
    if not path:
        path, mode_text = argument, "33188"
    mode = int(mode_text) if mode_text.isdigit() else 0o100644
    data = bytearray()
    while True:
        header = stream.read_exact(REQUEST.size)
        if header is None:
            return None
        ident, length = REQUEST.unpack(header)
        if ident == b"DONE":
            mtime = length  # DONE carries the file's mtime where DATA carries a length
            break
        if ident != b"DATA":
            return _fail(f"invalid data message {ident!r}")
        chunk = stream.read_exact(length)
        if chunk is None:
            return None
        data += chunk
    try:
        # fixed_push_mkdir: the device creates missing parent directories itself.
        fs.write(path, bytes(data), mode=mode, mtime=mtime, make_parents=True)
    except FsError as exc:
        return _fail(f"couldn't create file: {exc.strerror}")
    return REQUEST.pack(b"OKAY", 0)
