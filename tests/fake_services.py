"""A real HTTP server that speaks the Tenure and Person APIs from in-memory dicts.

Tests give it records (`tenures`, `persons`), point an HTTP adapter at `url`, and read
back every request it received (`requests`). It can be told to answer the next requests
with an error status (`fail_next`) or to answer them late (`delay_next`).
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote, urlsplit

_ROUTE = re.compile(r"^/api/v1/(?P<collection>tenures|persons)(?:/(?P<id>[^/]+))?/?$")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it; header names are lower-cased."""

    method: str
    path: str
    body: Any
    headers: dict[str, str]
    client_port: int = 0
    """The port the request came from: one per connection."""


class FakeServices:
    """The Tenure and Person APIs on 127.0.0.1, on a free port, in a daemon thread."""

    def __init__(self, *, required_token: str | None = None) -> None:
        self.tenures: dict[str, dict[str, Any]] = {}
        self.persons: dict[str, dict[str, Any]] = {}
        self.requests: list[RecordedRequest] = []
        self.required_token = required_token
        self._lock = threading.Lock()
        self._failures: deque[tuple[int, str]] = deque()
        self._delays: deque[float] = deque()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:54321."""
        if self._server is None:
            raise RuntimeError("The fake services are not started.")
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def start(self) -> Self:
        """Listen on a free local port and serve in a daemon thread."""
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},  # so that stop() returns at once
            name="fake-services",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port; requests still being delayed are cut short."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def fail_next(self, n: int, status: int = 503, message: str = "Service failed.") -> None:
        """Answer the next `n` requests with `status` and `{"message": message}`."""
        with self._lock:
            self._failures.extend([(status, message)] * n)

    def delay_next(self, n: int, seconds: float) -> None:
        """Wait `seconds` before answering each of the next `n` requests."""
        with self._lock:
            self._delays.extend([seconds] * n)

    def requests_to(self, method: str, path: str | None = None) -> list[RecordedRequest]:
        """The recorded requests with this method (and path, if given)."""
        with self._lock:
            return [
                r for r in self.requests if r.method == method and (path is None or r.path == path)
            ]

    def _receive(self, request: RecordedRequest) -> float:
        """Record `request` and return how long to wait before answering it."""
        with self._lock:
            self.requests.append(request)
            return self._delays.popleft() if self._delays else 0.0

    def _answer(self, request: RecordedRequest) -> tuple[int, Any]:
        """The status and JSON body (None for no body) to answer `request` with."""
        with self._lock:
            if self._failures:
                status, message = self._failures.popleft()
                return status, {"message": message}
            if self.required_token is not None:
                expected = f"Bearer {self.required_token}"
                if request.headers.get("authorization") != expected:
                    return 401, {"message": "Unauthorized."}
            return self._route(request)

    def _route(self, request: RecordedRequest) -> tuple[int, Any]:
        match = _ROUTE.match(urlsplit(request.path).path)
        if match is None:
            return 404, {"message": f"No endpoint at {request.path}."}
        collection = match["collection"]
        records = self.tenures if collection == "tenures" else self.persons
        kind = collection[:-1].capitalize()
        record_id = unquote(match["id"]) if match["id"] else None
        if record_id is None:
            if request.method == "POST" and collection == "tenures":
                return self._create(records, request.body)
            return 405, {"message": f"{request.method} is not allowed here."}
        if request.method == "GET":
            if record_id not in records:
                return 404, {"message": f"{kind} with id {record_id} not found."}
            return 200, copy.deepcopy(records[record_id])
        if request.method == "PATCH":
            if record_id not in records:
                return 404, {"message": f"{kind} with id {record_id} not found."}
            if not isinstance(request.body, dict):
                return 400, {"message": "The body must be a JSON object."}
            records[record_id].update(copy.deepcopy(request.body))
            return 204, None
        return 405, {"message": f"{request.method} is not allowed here."}

    @staticmethod
    def _create(records: dict[str, dict[str, Any]], body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or not body.get("id"):
            return 400, {"message": "A tenure to create needs an id."}
        if body["id"] in records:
            return 409, {"message": f"Tenure with id {body['id']} already exists."}
        records[body["id"]] = copy.deepcopy(body)
        return 201, copy.deepcopy(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        fake: FakeServices,
    ) -> None:
        super().__init__(address, handler)
        self.fake = fake

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout test) leaves a broken pipe behind: not an error here.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keeps connections open, as the real services do

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet

    def _handle(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", errors="replace")
        request = RecordedRequest(
            method=self.command,
            path=self.path,
            body=body,
            headers={name.lower(): value for name, value in self.headers.items()},
            client_port=self.client_address[1],
        )
        delay = fake._receive(request)
        if delay and fake._stopping.wait(delay):
            return
        status, payload = fake._answer(request)
        data = b"" if payload is None else json.dumps(payload).encode()
        try:
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped waiting
