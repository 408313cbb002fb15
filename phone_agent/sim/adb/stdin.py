"""A command's standard input, read all at once or line by line."""

from __future__ import annotations

from collections.abc import Callable


class Stdin:
    """A command's standard input: everything at once (`read`), or line by line (`readline`, for `read`).

    On a terminal (`pty`) the host never closes stdin, so reading it all would wait for ever: it
    yields what arrived so far only, while `readline` still waits for a typed line.
    """

    def __init__(self, source: Callable[[], bytes | None] | None = None, data: bytes = b"", pty: bool = False) -> None:
        """`source` returns the next chunk, or None at end of input; `data` is already there."""
        self._source = source
        self._buffer = bytearray(data)
        self._pty = pty
        self._eof = source is None

    def _more(self) -> bool:
        if self._eof or self._source is None:
            return False
        chunk = self._source()
        if chunk is None:
            self._eof = True
            return False
        self._buffer += chunk
        return True

    def read(self) -> bytes:
        """All the input up to its end (what arrived so far, on a terminal)."""
        while not self._pty and self._more():
            pass
        data = bytes(self._buffer)
        self._buffer.clear()
        return data

    def readline(self) -> bytes | None:
        """One line with its newline, the last unterminated line, or None at end of input."""
        while b"\n" not in self._buffer and self._more():
            pass
        if not self._buffer:
            return None
        end = self._buffer.find(b"\n") + 1 or len(self._buffer)
        line = bytes(self._buffer[:end])
        del self._buffer[:end]
        return line
