"""The sockets a model client opened, so that another thread can cut a request short.

Closing a socket does not wake a thread blocked reading it (Linux keeps the read waiting until data
comes); shutting it down does, and tells the server we left, so a provider stops generating. httpx
does not expose the socket of a request still waiting for its response headers, so the sockets are
collected as they open, through httpcore's ``trace`` request extension.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import weakref
from typing import Any

# The trace events whose return value is a network stream the connection then reads and writes; each is
# prefixed by what opens it ("connection.", "proxy." through an HTTPS proxy, "socks.").
_OPENED = (".connect_tcp.complete", ".start_tls.complete")


class Connections:
    """Every network stream a client's requests opened that is still alive (streams are held weakly)."""

    def __init__(self) -> None:
        self._streams: weakref.WeakSet[Any] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._cut = False

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace callback: keep each stream a connection opens (shut at once after a cut)."""
        if event.endswith(_OPENED):
            stream = info["return_value"]
            with self._lock:
                self._streams.add(stream)
                cut = self._cut
            if cut:  # it was still connecting when the cut came
                _shut(stream)

    def cut(self) -> None:
        """Shut every open connection down, and any opened later, waking threads blocked on one with an error."""
        with self._lock:
            self._cut = True
            streams = list(self._streams)
        for stream in streams:
            _shut(stream)


def _shut(stream: Any) -> None:
    sock = stream.get_extra_info("socket")
    if isinstance(sock, socket.socket):
        # The base class's shutdown: a TLS socket's own would also drop its TLS state under a reading thread.
        with contextlib.suppress(OSError):  # closed already, or a plain socket TLS has taken over
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
