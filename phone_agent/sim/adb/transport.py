"""The device side of the ADB transport over TCP: connections, streams and flow control.

Threads, not asyncio: a service may block (screencap delay, `sleep`, PNG encoding) and must not
stall the other streams of the same connection, and a thread per stream costs far less than the
adb server's own round trip.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable

from phone_agent.sim.adb import wire
from phone_agent.sim.adb.wire import CLSE, CNXN, MAX_DATA, OKAY, VERSION, WRTE, Message, ProtocolError, parse_header

log = logging.getLogger(__name__)

Service = Callable[["Stream"], None]
Resolver = Callable[[str], Service | None]

# How long a writer waits for the host's OKAY before giving up on a stalled stream.
ACK_TIMEOUT_S = 60.0


class StreamClosed(Exception):
    """The host closed the stream (or the connection) while the device was using it."""


class Stream:
    """One logical stream: at most one WRTE in flight, host data delivered through `read()`."""

    def __init__(self, connection: Connection, local_id: int, remote_id: int) -> None:
        """Create the stream; the connection registers it and answers the OPEN."""
        self.connection = connection
        self.local_id = local_id
        self.remote_id = remote_id
        self._acked = threading.Event()
        self._acked.set()
        self._inbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._unread = b""  # what read_exact took from the host beyond the size asked for
        self._closed_by_host = False
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once either side closed the stream."""
        return self._closed or self._closed_by_host

    def write(self, data: bytes) -> None:
        """Send data as WRTE messages no larger than the host's maxdata, each after the last OKAY.

        Raises:
            StreamClosed: the host closed the stream or the connection dropped.
        """
        view = memoryview(data)
        step = self.connection.max_data
        for start in range(0, len(view), step):
            self._wait_for_ack()
            self._acked.clear()
            self.connection.send(Message(WRTE, self.local_id, self.remote_id, bytes(view[start : start + step])))

    def read(self, timeout: float | None = None) -> bytes | None:
        """The next chunk the host wrote; None once the host closed the stream.

        Raises:
            TimeoutError: nothing arrived within `timeout` seconds.
        """
        if self._unread:
            unread, self._unread = self._unread, b""
            return unread
        try:
            chunk = self._inbox.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError("no data from the host") from None
        if chunk is None:
            self._inbox.put(None)  # keep later reads answering "closed"
        return chunk

    def read_exact(self, size: int) -> bytes | None:
        """Exactly `size` bytes, across WRTE boundaries; None once the host closed the stream first."""
        data = b""
        while len(data) < size:
            chunk = self.read()
            if chunk is None:
                return None
            data += chunk
        data, self._unread = data[:size], data[size:]
        return data

    def close(self) -> None:
        """Send CLSE once the last WRTE is acknowledged, unless the host closed first."""
        if self.closed:
            return
        self._closed = True
        # The final OKAY may never come if the host is going away; CLSE goes out regardless.
        self._acked.wait(ACK_TIMEOUT_S)
        if not self._closed_by_host:
            self.connection.send(Message(CLSE, self.local_id, self.remote_id))
        self.connection.forget(self.local_id)

    def _wait_for_ack(self) -> None:
        if not self._acked.wait(ACK_TIMEOUT_S) or self._closed_by_host:
            raise StreamClosed("the host closed the stream")
        if not self.connection.alive:
            raise StreamClosed("the connection dropped")

    def host_acked(self) -> None:
        """The host's OKAY: the next WRTE may go."""
        self._acked.set()

    def host_wrote(self, data: bytes) -> None:
        """The host's WRTE payload, queued for `read()`."""
        self._inbox.put(data)

    def host_closed(self) -> None:
        """The host's CLSE (or a dropped connection): wake every waiter."""
        self._closed_by_host = True
        self._inbox.put(None)
        self._acked.set()


class Connection:
    """One TCP connection from an adb server: the handshake, then stream multiplexing."""

    def __init__(self, sock: socket.socket, listener: AdbListener) -> None:
        """Wrap an accepted socket; `serve()` runs the read loop."""
        self.sock = sock
        self.listener = listener
        self.max_data = MAX_DATA
        self.alive = True
        self._send_lock = threading.Lock()
        self._streams: dict[int, Stream] = {}
        self._streams_lock = threading.Lock()
        self._ids = itertools.count(1)

    def send(self, message: Message) -> None:
        """Write one message, at the link's speed; a failure marks the connection dead."""
        payload = message.pack()
        bytes_per_s = self.listener.link_bytes_per_s()
        with self._send_lock:
            if not self.alive:
                return
            if bytes_per_s:
                # The cable carries one message at a time: other streams wait their turn, as on USB.
                time.sleep(len(payload) / bytes_per_s)
            try:
                self.sock.sendall(payload)
            except OSError:
                self._die()

    def forget(self, local_id: int) -> None:
        """Drop a finished stream from the table."""
        with self._streams_lock:
            self._streams.pop(local_id, None)

    def serve(self) -> None:
        """Read messages until the host goes away, dispatching each one."""
        reader = self.sock.makefile("rb", buffering=256 * 1024)
        try:
            while self.alive:
                header = reader.read(24)
                if len(header) < 24:
                    break
                command, arg0, arg1, length = parse_header(header)
                data = reader.read(length) if length else b""
                if len(data) < length:
                    break
                message = Message(command, arg0, arg1, data)
                if self.listener.should_drop(message):
                    log.info("fault: dropping the connection at %r", message)
                    self.listener.drop_connections()
                    break
                self._dispatch(message)
        except (OSError, ProtocolError, ValueError) as exc:
            log.debug("connection ended: %s", exc)
        finally:
            reader.close()
            self._die()

    def close(self) -> None:
        """Shut the socket so the read loop ends and the host sees the device go."""
        self._die()

    def _dispatch(self, message: Message) -> None:
        match message.command:
            case wire.CNXN:
                self.max_data = max(256, min(MAX_DATA, message.arg1))
                self.send(Message(CNXN, VERSION, MAX_DATA, self.listener.banner()))
            case wire.OPEN:
                self._open(message.arg0, message.data.rstrip(b"\0").decode("utf-8", "replace"))
            case wire.OKAY:
                stream = self._stream(message.arg1)
                if stream is not None:
                    stream.host_acked()
            case wire.WRTE:
                stream = self._stream(message.arg1)
                if stream is not None:
                    self.send(Message(OKAY, stream.local_id, stream.remote_id))
                    stream.host_wrote(message.data)
            case wire.CLSE:
                stream = self._stream(message.arg1)
                if stream is not None:
                    self.forget(stream.local_id)
                    stream.host_closed()
            case wire.AUTH | wire.STLS:
                log.debug("ignoring %r: this device never asks for AUTH or TLS", message)
            case _:
                log.debug("ignoring unknown %r", message)

    def _open(self, remote_id: int, name: str) -> None:
        service = self.listener.resolve(name)
        if service is None:
            log.info("unknown service %r", name)
            self.send(Message(CLSE, 0, remote_id))
            return
        stream = Stream(self, next(self._ids), remote_id)
        with self._streams_lock:
            self._streams[stream.local_id] = stream
        self.send(Message(OKAY, stream.local_id, remote_id))
        threading.Thread(target=self._run, args=(service, stream, name), daemon=True).start()

    def _run(self, service: Service, stream: Stream, name: str) -> None:
        try:
            service(stream)
        except StreamClosed:
            log.debug("stream %s (%s) closed by the host", stream.local_id, name)
        except Exception:
            log.exception("service %r failed", name)
        finally:
            stream.close()

    def _stream(self, local_id: int) -> Stream | None:
        with self._streams_lock:
            return self._streams.get(local_id)

    def _die(self) -> None:
        if self.alive:
            self.alive = False
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()
        with self._streams_lock:
            streams = list(self._streams.values())
            self._streams.clear()
        for stream in streams:
            stream.host_closed()
        self.listener.connection_ended(self)


class AdbListener:
    """A TCP listener that speaks the device side of ADB to every adb server that connects."""

    def __init__(
        self,
        resolve: Resolver,
        banner: Callable[[], bytes],
        should_drop: Callable[[Message], bool] = lambda message: False,
        link_bytes_per_s: Callable[[], int] = lambda: 0,
    ) -> None:
        """Serve the services `resolve` names; `should_drop` is the connection-drop fault hook.

        `link_bytes_per_s` is the speed of the cable (0 = unlimited), read for every message.
        """
        self.resolve = resolve
        self.banner = banner
        self.should_drop = should_drop
        self.link_bytes_per_s = link_bytes_per_s
        self.port = 0
        self._sock: socket.socket | None = None
        self._connections: set[Connection] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on host:port (0 = a free port) and return the port.

        Raises:
            OSError: the port is taken.
        """
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen(16)
        except OSError:
            sock.close()
            raise
        # A timeout lets stop() end the accept loop on every platform.
        sock.settimeout(0.2)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._stopping.clear()
        self._thread = threading.Thread(target=self._accept_loop, name=f"adb-listener-{self.port}", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        """Stop listening and close every connection."""
        self._stopping.set()
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)  # wakes accept() at once on Linux
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self.drop_connections()

    def drop_connections(self) -> None:
        """Close every open connection abruptly, as a USB cable pull or a crashed adbd would."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.close()

    def connection_count(self) -> int:
        """How many adb servers are connected right now."""
        with self._lock:
            return len(self._connections)

    def connection_ended(self, connection: Connection) -> None:
        """Forget a connection whose socket is gone."""
        with self._lock:
            self._connections.discard(connection)

    def _accept_loop(self) -> None:
        assert self._sock is not None
        listening = self._sock
        while not self._stopping.is_set():
            try:
                sock, _address = listening.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = Connection(sock, self)
            with self._lock:
                self._connections.add(connection)
            threading.Thread(target=connection.serve, name=f"adb-conn-{self.port}", daemon=True).start()
