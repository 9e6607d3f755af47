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

if __name__ == "__config__":  # read by gunicorn (a test reading these settings prepares nothing)
    from telemetry.logs import gunicorn_logconfig
    from telemetry.multiproc import prepare_multiprocess_dir

    # Every worker's metrics in files of one directory, named before the master loads the
    # worker class (and with it the app and prometheus_client), which happens before any hook.
    prepare_multiprocess_dir("api")
    # gunicorn's own lines and the app's, in one format (telemetry/logs.py).
    logconfig_dict = gunicorn_logconfig("api")


def on_starting(server: object) -> None:
    """Refuse to start without the API's keys: one message, before any worker is forked."""
    from settings import MissingKeys, from_env, require_keys

    try:
        require_keys(from_env(), "api")
    except MissingKeys as error:
        raise SystemExit(str(error)) from None


def child_exit(server: object, worker: object) -> None:
    """Let the metrics of a worker that exited stop counting as live."""
    from telemetry.metrics import mark_process_dead

    mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def on_exit(server: object) -> None:
    """Remove the metrics directory this run made."""
    from telemetry.multiproc import remove_multiprocess_dir

    remove_multiprocess_dir()
