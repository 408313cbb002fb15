"""`app_process`: runs the scrcpy server when the pushed jar is a genuine release, and aborts otherwise.

`CLASSPATH=/data/local/tmp/JAR app_process / com.genymobile.scrcpy.Server VERSION key=value…`
listens on `localabstract:scrcpy_%08x` (tunnel_forward), accepts the video, audio and control
sockets in that order and serves them until the shell stream or a socket closes.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable

from phone_agent.sim.adb.command_io import CommandIO, unlocked
from phone_agent.sim.adb.common import phone_of
from phone_agent.sim.adb.device import ShellPhone
from phone_agent.sim.adb.fs import FsError
from phone_agent.sim.scrcpy.apps import LISTING, app_list_message
from phone_agent.sim.scrcpy.control import Controller
from phone_agent.sim.scrcpy.options import LOG_LEVELS, JavaError, ServerOptions, parse_options
from phone_agent.sim.scrcpy.video import VideoStreamer
from phone_agent.sim.sockets import LocalServerSocket, LocalSocket

SERVER_CLASS = "com.genymobile.scrcpy.Server"
# SHA-256 of each official scrcpy-server release (published in scrcpy's doc/build.md) -> its version.
GENUINE_SERVERS = {
    "8588238c9a5a00aa542906b6ec7e6d5541d9ffb9b5d0f6e1bc0e365e2303079e": "3.3.4",
}
ABORTED = 134  # sh's status for a process killed by SIGABRT, as app_process is when the class is missing
DEVICE_NAME_BYTES = 64
POLL_S = 0.05


def genuine_version(data: bytes) -> str | None:
    """The scrcpy release these bytes are, or None."""
    return GENUINE_SERVERS.get(hashlib.sha256(data).hexdigest())


@unlocked
def app_process_command(io: CommandIO, args: list[str]) -> int:
    """`app_process [java-options] CMD-DIR CLASS ARGS…` for the one class this phone can run."""
    positional = [arg for arg in args if not arg.startswith("-")]
    if len(positional) < 2:
        return io.fail("Usage: app_process [java-options] cmd-dir start-class-name [options]", 1)
    class_name, rest = positional[1], args[args.index(positional[1]) + 1:]
    phone = phone_of(io)
    jar = io.session.variables.get("CLASSPATH", "").split(":")[0]
    try:
        with phone.lock:
            data = phone.system.fs.read(phone.system.fs.normalize(jar, io.session.cwd)) if jar else b""
    except FsError:
        data = b""
    version = genuine_version(data)
    if class_name != SERVER_CLASS or version is None:
        # ClassNotFoundException while starting the VM: the runtime aborts and sh prints this.
        return io.fail("Aborted", ABORTED)
    return ScrcpyServer(phone, io, version, jar).run(rest)


class ScrcpyServer:
    """One run of the server: parse, listen, accept, stream and control until the end."""

    def __init__(self, phone: ShellPhone, io: CommandIO, version: str, jar: str) -> None:
        """Run for this phone; `io` carries the shell's output and hang-up signal."""
        self.phone = phone
        self.io = io
        self.version = version
        self.jar = jar
        self.level = "DEBUG"
        self.stop = threading.Event()
        self._log_lock = threading.Lock()

    def log(self, level: str, message: str) -> None:
        """Ln: `[server] LEVEL: message`, INFO and below on stdout, WARN and ERROR on stderr."""
        if LOG_LEVELS.index(level) < LOG_LEVELS.index(self.level):
            return
        line = f"[server] {level}: {message}\n"
        with self._log_lock:  # the control and video threads log too
            self.io.err(line) if level in ("WARN", "ERROR") else self.io.out(line)
            self.io.flush()  # a running server's lines reach the host as it prints them

    def run(self, args: list[str]) -> int:
        """Serve until the client or the shell goes away; the exit status of the Java process."""
        try:
            options, warnings = parse_options(args, self.version)
        except JavaError as exc:
            self.log("ERROR", str(exc))
            self.io.err(f"{exc.exception}: {exc}\n\tat com.genymobile.scrcpy.Options.parse(Options.java)\n"
                        "\tat com.genymobile.scrcpy.Server.internalMain(Server.java)\n"
                        "\tat com.genymobile.scrcpy.Server.main(Server.java)\n")
            return 1
        for warning in warnings:
            self.log("WARN", warning)
        self.level = options.log_level
        props = self.phone.system.props
        self.log("INFO", f"Device: [{props.get('ro.product.manufacturer', '')}] {props.get('ro.product.brand', '')} "
                         f"{props.get('ro.product.model', '')} (Android {props.get('ro.build.version.release', '')})")
        if options.cleanup:
            # The clean-up process unlinks the jar at once: a client pushes it again for every start.
            with self.phone.lock, contextlib.suppress(FsError):
                self.phone.system.fs.remove(self.phone.system.fs.normalize(self.jar, self.io.session.cwd))
        if options.list_apps:
            self.log("INFO", LISTING)
            with self.phone.lock:
                apps = self.phone.ui.launchable()
            self.log("INFO", app_list_message("List of apps:", apps))
            return 0
        if not options.tunnel_forward:
            self.log("ERROR", "Could not connect to the client: the virtual phone supports tunnel_forward=true only")
            return 1
        return self._serve(options)

    def _serve(self, options: ServerOptions) -> int:
        listening = self.phone.sockets.listen(options.socket_name)
        sockets: list[LocalSocket] = []
        threads: list[threading.Thread] = []
        try:
            self.stop.wait(self.phone.faults.scrcpy_accept_delay_ms / 1000)
            for _wanted in range(options.video + options.audio + options.control):
                sock = self._accept(listening)
                if sock is None:
                    return 0
                if not sockets and options.send_dummy_byte:
                    sock.write(b"\0")
                sockets.append(sock)
            self.phone.sockets.unbind(listening)
            if not sockets:
                return 0
            if options.send_device_meta:
                name = self.phone.system.props.get("ro.product.model", "").encode()[: DEVICE_NAME_BYTES - 1]
                sockets[0].write(name.ljust(DEVICE_NAME_BYTES, b"\0"))
            queue = list(sockets)
            video = VideoStreamer(self.phone, queue.pop(0), options, self.stop, self.log) if options.video else None
            if options.audio:
                # No audio capture on the virtual phone: the server disables the stream (codec id 0).
                queue.pop(0).write(b"\0\0\0\0")
            if video is not None:
                threads.append(self._start(video.run, "scrcpy-video"))
            if options.control:
                controller = Controller(self.phone, queue.pop(0), options, self.stop, video, self.log)
                threads.append(self._start(controller.run, "scrcpy-control"))
            while not self.stop.wait(POLL_S):
                if self.io.session.hung_up():
                    break
            return 0
        finally:
            self.stop.set()
            self.phone.sockets.unbind(listening)
            for sock in sockets:
                sock.close()
            for thread in threads:
                thread.join(timeout=5)

    def _accept(self, listening: LocalServerSocket) -> LocalSocket | None:
        """The next connection; None when the shell hung up first."""
        while not self.io.session.hung_up():
            sock = listening.accept(POLL_S)
            if sock is not None:
                return sock
        return None

    @staticmethod
    def _start(target: Callable[[], None], name: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        return thread

