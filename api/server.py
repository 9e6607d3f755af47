"""The gunicorn worker the API is served with (gunicorn.conf.py): gthread, except that a
connection reaches a thread only once the head of its request has arrived whole.

gunicorn 27's gthread worker hands every accepted connection to a thread, which waits up to
5 s for a first byte and then reads the request line and headers with a blocking socket and no
deadline. A client that sends its headers slowly (a byte or a line a second) keeps that thread
for as long as it keeps sending, so workers x threads such clients stop the API. Here the
worker's event loop reads request heads itself, without blocking, on every connection at once:

- a head that is not complete HEAD_TIMEOUT seconds after the connection was accepted (or, on a
  kept-alive connection, after its next request began) is dropped, as is a silent connection;
- a head larger than MAX_HEAD_BYTES is refused with 431;
- once a thread has the request, each read of its body and each write of the response may
  wait at most READ_TIMEOUT seconds; a body that trickles in faster than that still holds the
  thread until it is complete (a buffering proxy in front, deploy/nginx.conf, takes that too).

Slow or idle connections then cost a file descriptor and a buffer in the event loop, up to
`worker_connections` of them per worker; the threads serve complete requests. TLS and HTTP/2
are left to gunicorn's own handling (neither is configured here: nginx terminates TLS).
"""

from __future__ import annotations

import selectors
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn.http2 import negotiation
from gunicorn.workers.gthread import ThreadWorker

HEAD_TIMEOUT = 10.0
"""Seconds a client has to send a request's line and headers (nginx: client_header_timeout)."""
READ_TIMEOUT = 30.0
"""Seconds one read of a request body, or one write of a response, may wait on the client."""
MAX_HEAD_BYTES = 64 * 1024
READ_CHUNK = 64 * 1024
HEAD_END = b"\r\n\r\n"
HEAD_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"Content-Type: application/problem+json\r\nConnection: close\r\nContent-Length: 89\r\n\r\n"
    b'{"type":"about:blank","title":"Request Header Fields Too Large","status":431,"detail":""}'
)


class HeadBufferingWorker(ThreadWorker):
    """gthread with request heads read in the event loop, under a deadline."""

    def init_process(self) -> None:
        self.heading: deque[Any] = deque()  # connections awaiting a whole head, oldest first
        super().init_process()

    def enqueue_req(self, conn: Any) -> None:
        """Hand `conn` to a thread once its head is in; until then, read it in the loop.

        Every path to a thread comes through here: a new connection, a kept-alive one that
        became readable, one whose previous request left bytes read ahead.
        """
        if conn.__dict__.pop("head_in", False) or not self._buffers_heads(conn):
            super().enqueue_req(conn)
            return
        conn.head = bytearray()
        conn.head_searched = 0
        if conn.parser is not None:  # a kept-alive connection: take what was read ahead
            conn.head += conn.parser.unreader.take_buffered()
            if self._pass_on_if_complete(conn):
                return
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + HEAD_TIMEOUT
        conn.watched = True
        self.heading.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read_head, conn))

    def _buffers_heads(self, conn: Any) -> bool:
        # TLS bytes and an HTTP/2 preface must reach gunicorn's own handshakes untouched.
        return not self.cfg.is_ssl and not negotiation.prior_knowledge_allowed(
            self.cfg, conn.client
        )

    def _read_head(self, conn: Any, sock: Any) -> None:
        """Take what the client has sent so far (the loop calls this when it is readable)."""
        try:
            data = sock.recv(READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client closed the connection, or reset it
            self._drop(conn)
            return
        conn.head += data
        self._pass_on_if_complete(conn)

    def _pass_on_if_complete(self, conn: Any) -> bool:
        """Give `conn` to a thread if its head is in, refuse it if too large; say if either."""
        if conn.head[:1] in (b"\r", b"\n"):  # empty lines before a request line are ignored
            conn.head[:] = conn.head.lstrip(b"\r\n")
            conn.head_searched = 0
        # Search only what arrived since the last search (and the 3 bytes before), so a head
        # sent a byte at a time is not searched again from the start every time.
        found = conn.head.find(HEAD_END, max(0, conn.head_searched - 3))
        conn.head_searched = len(conn.head)
        if found < 0 and len(conn.head) <= MAX_HEAD_BYTES:
            return False
        self._stop_watching(conn)  # before a thread may use the socket
        if found < 0:
            self._refuse(conn, HEAD_TOO_LARGE)
            return True
        conn.head_in = True
        conn.data_ready = True  # gthread's own wait for a first byte is over
        if conn.parser is None:
            conn.init()  # plain HTTP/1.x: creates the parser, reads nothing
        conn.parser.unreader.unread(bytes(conn.head))
        del conn.head
        conn.sock.setblocking(True)
        self.enqueue_req(conn)
        return True

    def _refuse(self, conn: Any, reply: bytes) -> None:
        """Send `reply` as far as the socket takes it without waiting, then close."""
        conn.sock.setblocking(False)
        try:
            conn.sock.send(reply)
            # Read what the client already sent: closing on unread bytes would reset the
            # connection, and the client might lose the reply.
            while conn.sock.recv(READ_CHUNK):
                pass
        except OSError:  # nothing more to read now (BlockingIOError), or the client is gone
            pass
        self.nr_conns -= 1
        conn.close()

    def _stop_watching(self, conn: Any) -> None:
        if conn.__dict__.pop("watched", False):
            self.heading.remove(conn)
            self.poller.unregister(conn.sock)

    def _drop(self, conn: Any) -> None:
        self._stop_watching(conn)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Also drop the connections whose head has not come in time (called every loop)."""
        super().murder_pending()
        now = time.monotonic()
        while self.heading and self.heading[0].timeout <= now:
            self._drop(self.heading[0])

    def handle_request(self, req: Any, conn: Any) -> bool:
        """Serve one request whose head is in, bounding each wait on the client."""
        # gthread makes the socket blocking without a timeout before parsing; from here on the
        # application reads the body and gunicorn writes the response through it. (A body
        # read that times out reaches the application as a disconnected client: a 400.)
        conn.sock.settimeout(READ_TIMEOUT)
        try:
            keepalive: bool = super().handle_request(req, conn)
        except TimeoutError:
            self.log.info("Closing a connection whose client stopped reading the response.")
            return False
        return keepalive
