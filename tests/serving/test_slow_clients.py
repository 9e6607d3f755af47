"""Slow or idle clients cannot starve the API served by gunicorn with the project's settings."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest

from api.server import HEAD_TIMEOUT, MAX_HEAD_BYTES
from tests.serving.conftest import GUNICORN, HOST, Served

PING = "/api/v1/healthcheck/ping"


class Trickler:
    """A client that starts a request and then sends one header line a second, or nothing."""

    def __init__(self, port: int, idle: bool) -> None:
        self.sock = socket.create_connection((HOST, port), timeout=5)
        if not idle:
            self.sock.sendall(f"GET {PING} HTTP/1.1\r\nHost: {HOST}\r\n".encode())
        self.idle = idle
        self.opened = time.monotonic()
        self.cut_after: float | None = None

    def tick(self) -> None:
        """Send the next header line (or probe an idle socket); note when the server hung up."""
        if self.cut_after is not None:
            return
        try:
            if self.idle:
                self.sock.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    if self.sock.recv(1) == b"":
                        raise ConnectionResetError
            else:
                self.sock.sendall(b"X-Slow: yes\r\n")
        except OSError:
            self.cut_after = time.monotonic() - self.opened


@pytest.mark.slow
def test_clients_trickling_headers_do_not_starve_the_api(served: Served):
    """With twice workers x threads clients sending headers a line a second, or nothing, the
    health check still answers at once; each of those clients is cut off after HEAD_TIMEOUT."""
    capacity = GUNICORN["workers"] * GUNICORN["threads"]
    slow = [Trickler(served.port, idle=i % 4 == 0) for i in range(2 * capacity + 1)]
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(1.0):
            for client in slow:
                client.tick()

    ticker = threading.Thread(target=trickle, daemon=True)
    ticker.start()
    try:
        time.sleep(1.5)  # every slow client has been accepted and has sent something
        answered = []
        for _ in range(6):
            started = time.monotonic()
            response = served.get(PING, timeout=5)
            answered.append((response.status, time.monotonic() - started))
            time.sleep(0.5)
        assert all(status == 200 for status, _ in answered), answered
        assert max(seconds for _, seconds in answered) < 1.0, answered

        deadline = time.monotonic() + HEAD_TIMEOUT + 5
        while any(c.cut_after is None for c in slow) and time.monotonic() < deadline:
            time.sleep(0.2)
        cut = sorted(c.cut_after for c in slow if c.cut_after is not None)
        assert len(cut) == len(slow), f"{len(slow) - len(cut)} slow clients still connected"
        assert cut[0] >= HEAD_TIMEOUT - 1, cut
        assert cut[-1] <= HEAD_TIMEOUT + 3, cut
    finally:
        stop.set()
        ticker.join()
        for client in slow:
            client.sock.close()


def test_a_request_sent_in_pieces_within_the_deadline_is_served(served: Served):
    """A head that arrives in pieces, and a second request on the same connection, get 200s."""
    with socket.create_connection((HOST, served.port), timeout=5) as sock:
        for piece in (f"GET {PING} HTTP/1.1\r\n", f"Host: {HOST}\r\n", "\r\n"):
            sock.sendall(piece.encode())
            time.sleep(0.3)
        sock.sendall(f"GET {PING} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
        replies = b""
        while chunk := sock.recv(65536):
            replies += chunk
    assert replies.count(b"HTTP/1.1 200 OK") == 2, replies[:400]


def test_an_oversized_request_head_is_refused_with_431(served: Served):
    """Headers beyond MAX_HEAD_BYTES are answered 431 problem+json, then the socket closed."""
    with socket.create_connection((HOST, served.port), timeout=5) as sock:
        start = f"GET {PING} HTTP/1.1\r\nX-Big: ".encode()
        sock.sendall(start + b"a" * (MAX_HEAD_BYTES + 1 - len(start)))
        reply = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                reply += chunk
    assert reply.startswith(b"HTTP/1.1 431 "), reply[:200]
    assert b"Content-Type: application/problem+json" in reply
    assert served.get(PING).status == 200
