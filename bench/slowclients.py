"""How the health check answers while slow clients hold connections to a running API.

    python -m bench.slowclients PORT [--clients 9] [--send headers|bodies] [--seconds 14]

Opens `--clients` connections to 127.0.0.1:PORT. Each sends the start of a request and then
one header line a second (`headers`), or complete headers with `Content-Length: 1000` and then
one byte of body a second (`bodies`), for `--seconds`. Meanwhile it times five health checks,
0.5 s apart, each on a connection of its own, and reports when the server hung up on each slow
client. Nothing but 127.0.0.1 is contacted; every loop is bounded by `--seconds`.
"""

from __future__ import annotations

import argparse
import http.client
import socket
import threading
import time

HOST = "127.0.0.1"
PING = "/api/v1/healthcheck/ping"


def slow_client(port: int, send: str, seconds: float, cut: list[float]) -> None:
    """Send a request slowly; note after how long the server closed the connection."""
    started = time.monotonic()
    with socket.create_connection((HOST, port), timeout=5) as sock:
        if send == "headers":
            sock.sendall(f"GET {PING} HTTP/1.1\r\nHost: {HOST}\r\n".encode())
        else:
            sock.sendall(
                f"POST /api/v1/process HTTP/1.1\r\nHost: {HOST}\r\n"
                "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n".encode()
            )
        try:
            while time.monotonic() - started < seconds:
                sock.sendall(b"X-Slow: yes\r\n" if send == "headers" else b" ")
                time.sleep(1)
        except OSError:
            cut.append(time.monotonic() - started)


def ping(port: int) -> str:
    started = time.monotonic()
    try:
        connection = http.client.HTTPConnection(HOST, port, timeout=5)
        connection.request("GET", PING)
        response = connection.getresponse()
        response.read()
        connection.close()
        return f"{response.status} in {time.monotonic() - started:.3f} s"
    except (OSError, http.client.HTTPException) as error:
        return f"no answer after {time.monotonic() - started:.1f} s ({type(error).__name__})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slowclients")
    parser.add_argument("port", type=int)
    parser.add_argument("--clients", type=int, default=9)
    parser.add_argument("--send", choices=["headers", "bodies"], default="headers")
    parser.add_argument("--seconds", type=float, default=14.0)
    args = parser.parse_args(argv)
    cut: list[float] = []
    threads = [
        threading.Thread(target=slow_client, args=(args.port, args.send, args.seconds, cut))
        for _ in range(args.clients)
    ]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    for _ in range(5):
        print(f"health check: {ping(args.port)}", flush=True)
        time.sleep(0.5)
    for thread in threads:
        thread.join()
    hung_up = ", ".join(f"{seconds:.0f}" for seconds in sorted(cut)) or "none"
    print(f"slow clients the server hung up on: {len(cut)} of {args.clients}, after s: {hung_up}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
