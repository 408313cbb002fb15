"""Abstract UNIX sockets on the phone: what `adb forward … localabstract:NAME` reaches.

The adb server opens a `localabstract:NAME` stream to the device for every TCP connection it
accepts on a forwarded port. Nobody listening on NAME means the stream is refused at once.
"""

from __future__ import annotations

import queue
import threading

from phone_agent.sim.adb.transport import Stream


class LocalSocket:
    """One accepted connection: exact reads and writes over the ADB stream behind it."""

    def __init__(self, stream: Stream) -> None:
        """Wrap the stream the adb server opened."""
        self.stream = stream
        self.finished = threading.Event()

    def read_exact(self, size: int) -> bytes | None:
        """Exactly `size` bytes, or None once the host closed the connection first."""
        return self.stream.read_exact(size)

    def write(self, data: bytes) -> None:
        """Send bytes to the host.

        Raises:
            StreamClosed: the host closed the connection.
        """
        self.stream.write(data)

    @property
    def closed(self) -> bool:
        """True once either side closed the connection."""
        return self.stream.closed or self.finished.is_set()

    def close(self) -> None:
        """End the connection; the ADB stream closes behind it."""
        self.finished.set()


class LocalServerSocket:
    """A listening abstract socket: connections queue until `accept()` takes them."""

    def __init__(self, name: str) -> None:
        """Listen on NAME (the registry makes it reachable)."""
        self.name = name
        self._pending: queue.SimpleQueue[LocalSocket] = queue.SimpleQueue()

    def accept(self, timeout: float) -> LocalSocket | None:
        """The next connection, or None when none came within `timeout` seconds."""
        try:
            return self._pending.get(timeout=timeout)
        except queue.Empty:
            return None

    def connected(self, stream: Stream) -> None:
        """Serve one incoming stream until the accepting side closes it (runs on the stream's thread)."""
        connection = LocalSocket(stream)
        self._pending.put(connection)
        while not connection.finished.wait(0.2):
            if stream.closed:
                return


class AbstractSockets:
    """The phone's abstract socket namespace."""

    def __init__(self) -> None:
        """Start with nothing listening."""
        self._listening: dict[str, LocalServerSocket] = {}
        self._lock = threading.Lock()

    def listen(self, name: str) -> LocalServerSocket:
        """Bind NAME.

        Raises:
            OSError: NAME is already bound (EADDRINUSE, as on Android).
        """
        with self._lock:
            if name in self._listening:
                raise OSError(f"Address already in use: {name}")
            server = self._listening[name] = LocalServerSocket(name)
        return server

    def unbind(self, server: LocalServerSocket) -> None:
        """Stop listening; later connections are refused."""
        with self._lock:
            if self._listening.get(server.name) is server:
                del self._listening[server.name]

    def find(self, name: str) -> LocalServerSocket | None:
        """Who listens on NAME, if anyone."""
        with self._lock:
            return self._listening.get(name)
