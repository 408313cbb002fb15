"""Device services by name: `shell:` (v1 and v2), `exec:`, `sync:`, `abb:`/`abb_exec:` and a few stubs."""

from __future__ import annotations

import contextlib
import struct
import threading
from collections.abc import Callable
from typing import Protocol

from phone_agent.sim.adb.command_io import CommandIO
from phone_agent.sim.adb.device import ShellPhone
from phone_agent.sim.adb.shell import Session
from phone_agent.sim.adb.stdin import Stdin
from phone_agent.sim.adb.sync import serve_sync
from phone_agent.sim.adb.system_cmds import install_apk
from phone_agent.sim.adb.transport import Service, Stream, StreamClosed


class ServedPhone(ShellPhone, Protocol):
    """What the services use of the phone they serve."""

    def new_session(self) -> Session:
        """A shell session over this phone (one per ADB stream)."""
        ...

    def reboot(self) -> None:
        """Restart the phone (`adb reboot`)."""
        ...


# Shell protocol v2 packet ids.
STDIN, STDOUT, STDERR, EXIT, CLOSE_STDIN, WINDOW_SIZE = 0, 1, 2, 3, 4, 5
FRAME = struct.Struct("<BI")
PROMPT = b"sim:/ $ "


class OutputBuffer:
    """Collects a script's output in write order; one flush keeps a round trip to a single WRTE."""

    def __init__(self, framed: bool) -> None:
        """`framed` selects shell v2 packets; otherwise stdout and stderr interleave raw."""
        self.framed = framed
        self.parts: list[bytes] = []

    def __call__(self, fd: int, data: bytes) -> None:
        """Append one write to fd 1 or 2."""
        if not data:
            return
        if self.framed:
            self.parts.append(FRAME.pack(STDOUT if fd == 1 else STDERR, len(data)) + data)
        else:
            self.parts.append(data)

    def take(self) -> bytes:
        """Everything written so far, emptying the buffer."""
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def read_frame(stream: Stream) -> tuple[int, bytes] | None:
    """The next shell v2 packet from the host as (id, payload), or None when the stream closed."""
    header = stream.read_exact(FRAME.size)
    if header is None:
        return None
    kind, length = FRAME.unpack(header)
    payload = stream.read_exact(length)
    return None if payload is None else (kind, payload)


def _v2_stdin(stream: Stream) -> Stdin:
    """Stdin for a v2 command: read lazily, only if the command wants it, until close-stdin."""

    def chunk() -> bytes | None:
        frame = read_frame(stream)
        if frame is None or frame[0] == CLOSE_STDIN:
            return None
        return frame[1] if frame[0] == STDIN else b""

    return Stdin(chunk)


def _fail(message: str) -> bytes:
    """A FAIL reply with its length-prefixed message, as adbd answers a bad forward request."""
    return b"FAIL%04x" % len(message) + message.encode()


def _flusher(stream: Stream, output: OutputBuffer) -> Callable[[], None]:
    """Send what a long-running command wrote so far (logcat, a shell script's jobs) without waiting for its end."""
    lock = threading.Lock()

    def flush() -> None:
        with lock, contextlib.suppress(StreamClosed):
            data = output.take()
            if data:
                stream.write(data)

    return flush


class Services:
    """Resolves service names for one phone."""

    def __init__(self, phone: ServedPhone) -> None:
        """Serve this phone."""
        self.phone = phone

    def resolve(self, name: str) -> Service | None:
        """The handler for an OPEN, or None (the transport then answers CLSE)."""
        kind, _, rest = name.partition(":")
        options = kind.split(",")
        if options[0] in ("shell", "exec") and rest.strip():
            # adbd starts the process before it answers the OPEN: the host's OKAY means the command runs.
            self.phone.record_command(rest)
        match options[0]:
            case "shell" if "v2" in options[1:]:
                return lambda stream: self._shell_v2(stream, rest, pty="pty" in options)
            case "shell":
                return lambda stream: self._shell_v1(stream, rest)
            case "exec":
                return lambda stream: self._exec(stream, rest)
            case "sync":
                return lambda stream: serve_sync(stream, self.phone.system.fs, self.phone.record_sync)
            case "localabstract":
                server = self.phone.sockets.find(rest)
                return server.connected if server is not None else None
            case "abb_exec" | "abb":
                return lambda stream: self._abb(stream, rest.split("\0"), framed=options[0] == "abb")
            case "root":
                return lambda stream: stream.write(b"adbd cannot run as root in production builds\n")
            case "framebuffer":
                return self._framebuffer
            case "reverse":
                return lambda stream: self._reverse(stream, rest)
            case "reboot":
                return lambda stream: self.phone.reboot()
            case "unroot" | "remount" | "tcpip" | "usb" | "enable-verity" | "disable-verity":
                return lambda stream: stream.write(f"{options[0]}: not supported on the virtual phone\n".encode())
        return None

    def _framebuffer(self, stream: Stream) -> None:
        """`framebuffer:`: a version-1 header (RGBA, 8 bits each), then the raw pixels."""
        with self.phone.lock:
            image = self.phone.screen_image().convert("RGBA")
        width, height = image.size
        header = struct.pack("<13I", 1, 32, width * height * 4, width, height, 0, 8, 16, 8, 8, 8, 24, 8)
        stream.write(header + image.tobytes())

    def _reverse(self, stream: Stream, request: str) -> None:
        """`reverse:forward[:norebind]:REMOTE;LOCAL`, `list-forward`, `killforward:REMOTE`, `killforward-all`.

        The tunnels are kept and listed; no process on this phone ever connects through one.
        """
        reverses = self.phone.reverses
        verb, _, spec = request.partition(":")
        if verb == "list-forward":
            listing = "".join(f"host {remote} {local}\n" for remote, local in reverses.items()).encode()
            stream.write(b"%04x" % len(listing) + listing)
        elif verb == "killforward-all":
            reverses.clear()
            stream.write(b"OKAY")
        elif verb == "killforward":
            found = reverses.pop(spec, None) is not None
            stream.write(b"OKAY" if found else _fail(f"listener '{spec}' not found"))
        elif verb == "forward":
            norebind = spec.startswith("norebind:")
            remote, _, local = spec.removeprefix("norebind:").partition(";")
            if not local:
                stream.write(_fail(f"malformed forward spec '{spec}'"))
            elif norebind and remote in reverses:
                stream.write(_fail("cannot rebind existing socket"))
            else:
                reverses[remote] = local
                stream.write(b"OKAY")
        else:
            stream.write(_fail(f"unknown reverse request '{request}'"))

    def _session(self) -> Session:
        return self.phone.new_session()

    def _run(self, stream: Stream, command: str, framed: bool, stdin: Stdin) -> tuple[bytes, int]:
        output = OutputBuffer(framed)
        session = self._session()
        # A long-running command (app_process) ends when the host closes the stream, as SIGHUP ends it.
        session.hung_up = lambda: stream.closed
        session.flush = _flusher(stream, output)
        status = session.run(command, output, stdin)
        return output.take(), status

    def _shell_v1(self, stream: Stream, command: str) -> None:
        if not command.strip():
            self._interactive(stream, framed=False, pty=True)
            return
        # A v1 shell's stdin is a terminal: lines arrive as typed, and it never ends.
        output, _status = self._run(stream, command, framed=False, stdin=Stdin(stream.read, pty=True))
        stream.write(output)

    def _shell_v2(self, stream: Stream, command: str, pty: bool) -> None:
        if not command.strip():
            self._interactive(stream, framed=True, pty=pty)
            return
        output, status = self._run(stream, command, framed=True, stdin=_v2_stdin(stream))
        stream.write(output + FRAME.pack(EXIT, 1) + bytes([status & 0xFF]))

    def _exec(self, stream: Stream, command: str) -> None:
        output, _status = self._run(stream, command, framed=False, stdin=Stdin(stream.read))
        stream.write(output)

    def _abb(self, stream: Stream, argv: list[str], framed: bool) -> None:
        """`abb_exec:SERVICE\\0ARG…`: `cmd` without a shell; `package install -S N` streams the APK."""
        self.phone.record_command("cmd " + " ".join(argv))
        if argv[:2] == ["package", "install"] and "-S" in argv:
            size = int(argv[argv.index("-S") + 1])
            apk = bytearray()
            while len(apk) < size and (chunk := stream.read()) is not None:
                apk += chunk
            output = OutputBuffer(framed)
            session = self._session()
            with self.phone.lock:
                status = install_apk(CommandIO(session, Stdin(), lambda d: output(1, d),
                                               lambda d: output(2, d)), bytes(apk))
        else:
            output = OutputBuffer(framed)
            session = self._session()
            status = session.commands["cmd"](CommandIO(session, Stdin(stream.read), lambda d: output(1, d),
                                                       lambda d: output(2, d)), argv)
        tail = FRAME.pack(EXIT, 1) + bytes([status & 0xFF]) if framed else b""
        stream.write(output.take() + tail)

    def _interactive(self, stream: Stream, framed: bool, pty: bool) -> None:
        """`adb shell` with no command: run each line it reads; a terminal (pty) also gets a prompt and echo."""
        session = self._session()
        output = OutputBuffer(framed)

        def send(data: bytes) -> None:
            output(1, data)
            stream.write(output.take())

        prompt = PROMPT if pty else b""
        send(prompt)
        pending = bytearray()
        while True:
            chunk: bytes | None
            if framed:
                frame = read_frame(stream)
                if frame is None or frame[0] == CLOSE_STDIN:
                    break
                if frame[0] != STDIN:
                    continue
                chunk = frame[1]
            else:
                chunk = stream.read()
                if chunk is None:
                    break
            if pty:
                send(chunk.replace(b"\r", b"\r\n"))
            pending += chunk.replace(b"\r", b"\n")
            while b"\n" in pending:
                line, _, rest = bytes(pending).partition(b"\n")
                pending = bytearray(rest)
                self.phone.record_command(line.decode("utf-8", "replace"))
                session.run(line.decode("utf-8", "replace"), output)
                if session.exited:
                    break
                send(prompt)
            if session.exited:
                break
        if pending.strip() and not session.exited:
            session.run(pending.decode("utf-8", "replace"), output)
        stream.write(output.take() + (FRAME.pack(EXIT, 1) + bytes([session.status & 0xFF]) if framed else b""))
