"""How gunicorn serves the API: `make run`, the image (and so docker-compose), the chaos tests
and the benchmarks all start `gunicorn -c gunicorn.conf.py`. Pass `--bind` where the address
differs; GUNICORN_CMD_ARGS overrides anything else.

Slow or idle clients: request heads are read in each worker's event loop, with a 10 s
deadline, before a thread is given the request (api/server.py); docker-compose also puts
nginx in front (deploy/nginx.conf), which takes whole requests before passing them on.
"""

import os

wsgi_app = "api:create_app()"
bind = [f"127.0.0.1:{os.environ.get('PORT', '5000')}"]

worker_class = "api.server.HeadBufferingWorker"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = 4
"""Requests served at once per worker; each request waits on MongoDB and Redis, not the CPU."""
worker_connections = 1000
"""Connections per worker, waiting or served; beyond it, new ones wait in the listen backlog."""
keepalive = 5
"""Seconds an idle kept-alive connection stays open; behind nginx, longer than its upstream
keepalive_timeout (4 s), so that nginx closes first and never reuses a closing connection."""
timeout = 30
"""Seconds of silence from a worker before the master restarts it (a stuck worker)."""
graceful_timeout = 10
"""Seconds a stopping worker has to finish the requests it is serving."""

# No control socket: gunicorn 27 otherwise shares ~/.gunicorn/gunicorn.ctl between servers.
control_socket_disable = True


def on_starting(server: object) -> None:
    """Refuse to start without the API's keys: one message, before any worker is forked."""
    from settings import MissingKeys, from_env, require_keys

    try:
        require_keys(from_env(), "api")
    except MissingKeys as error:
        raise SystemExit(str(error)) from None
