"""A local HTTP/JSON endpoint to observe and steer virtual phones from another process.

Routes (PHONE is an index, a name or a serial; `/phones/PHONE` may be left out with one phone):

- `GET  /phones` — name, serial and port of every phone
- `GET  /phones/PHONE/state` — the observable state
- `GET  /phones/PHONE/screenshot.png` — what `screencap -p` would return now
- `POST /phones/PHONE/reset` — back to a freshly booted phone
- `POST /phones/PHONE/faults` — `{"screencap_delay_ms": 500, "secure_screen": true, …}`
- `POST /phones/PHONE/signed_in` — `{"value": true}` (the human passing the shop's sign-in wall)
- `POST /phones/PHONE/popup` — `{"title": …, "message": …, "buttons": ["OK"]}`
- `POST /phones/PHONE/shell` — `{"command": "…"}` runs the sim's shell in-process
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from phone_agent.sim.phone import VirtualPhone


class ControlError(Exception):
    """A bad control request; carries the HTTP status to answer with."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        """Keep the status next to the message."""
        super().__init__(message)
        self.status = status


class ControlServer:
    """Serves the control routes for a fixed list of phones on a local port."""

    def __init__(self, phones: Sequence[VirtualPhone]) -> None:
        """Control these phones."""
        self.phones = list(phones)
        self._httpd: ThreadingHTTPServer | None = None
        self._host = "127.0.0.1"
        self._thread: threading.Thread | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen (0 = a free port) and return the port."""
        self._host = host
        handler = type("Handler", (_Handler,), {"control": self})
        self._httpd = ThreadingHTTPServer((host, port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="sim-control", daemon=True)
        self._thread.start()
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:8765."""
        assert self._httpd is not None, "start() first"
        return f"http://{self._host}:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        """Stop serving."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def find(self, key: str) -> VirtualPhone:
        """A phone by index, name or serial.

        Raises:
            ControlError: no such phone.
        """
        if key.isdigit() and int(key) < len(self.phones):
            return self.phones[int(key)]
        for phone in self.phones:
            if key in (phone.name, phone.serial):
                return phone
        known = ", ".join(f"{index} ({phone.name}, {phone.serial})" for index, phone in enumerate(self.phones))
        raise ControlError(HTTPStatus.NOT_FOUND, f"no phone {key!r}; known: {known}")

    def handle(self, method: str, path: str, body: dict[str, Any]) -> Any:
        """Route one request and return the JSON-able answer (bytes for the screenshot).

        Raises:
            ControlError: unknown route, phone or knob.
        """
        parts = [part for part in path.split("?", 1)[0].split("/") if part]
        if parts in ([], ["phones"]) and method == "GET":
            return {"phones": [{"index": index, "name": phone.name, "serial": phone.serial, "port": phone.port}
                               for index, phone in enumerate(self.phones)]}
        if parts and parts[0] == "phones" and len(parts) >= 2:
            phone, action = self.find(parts[1]), "/".join(parts[2:])
        elif len(self.phones) == 1:
            phone, action = self.phones[0], "/".join(parts)
        else:
            raise ControlError(HTTPStatus.NOT_FOUND, "use /phones/PHONE/… when several phones run")
        return self._act(phone, method, action, body)

    @staticmethod
    def _act(phone: VirtualPhone, method: str, action: str, body: dict[str, Any]) -> Any:
        match method, action:
            case "GET", "state":
                return phone.state()
            case "GET", "screenshot.png":
                return phone.screencap(png=True)
            case "POST", "reset":
                phone.reset()
                return {"ok": True}
            case "POST", "faults":
                try:
                    phone.set_faults(**body)
                except ValueError as exc:
                    raise ControlError(HTTPStatus.BAD_REQUEST, str(exc)) from None
                return {"faults": phone.state()["faults"]}
            case "POST", "signed_in":
                phone.set_signed_in(bool(body.get("value", True)))
                return {"ok": True}
            case "POST", "popup":
                phone.show_popup(str(body.get("title", "")), str(body.get("message", "")),
                                 [str(button) for button in body.get("buttons", ["OK"])])
                return {"ok": True}
            case "POST", "shell":
                result = phone.run(str(body.get("command", "")))
                return {"status": result.status, "stdout": result.stdout, "stderr": result.stderr}
        raise ControlError(HTTPStatus.NOT_FOUND, f"no route {method} {action!r}")


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP requests into ControlServer.handle calls."""

    control: ControlServer

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches on
        self._respond("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._respond("POST")

    def _respond(self, method: str) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw.strip() else {}
            if not isinstance(body, dict):
                raise ControlError(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
            answer = self.control.handle(method, self.path, body)
            status = HTTPStatus.OK
        except ControlError as exc:
            answer, status = {"error": str(exc)}, exc.status
        except json.JSONDecodeError as exc:
            answer, status = {"error": f"invalid JSON: {exc}"}, HTTPStatus.BAD_REQUEST
        if isinstance(answer, bytes):
            payload, kind = answer, "image/png"
        else:
            payload, kind = json.dumps(answer, ensure_ascii=False).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the sim's console belongs to the user."""
