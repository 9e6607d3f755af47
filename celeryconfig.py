"""Celery settings. Read by `workers.app`; the broker is the Redis at REDIS_URL."""

from settings import from_env

_settings = from_env()

broker_url = _settings.redis_url
result_backend = None
task_ignore_result = True

task_serializer = "json"
accept_content = ["json"]
timezone = "UTC"
enable_utc = True

# At-least-once: a task is acknowledged only once it has run, and requeued if its worker
# dies. Steps are written to be idempotent (they check the state and version they were
# queued for), so a second delivery does nothing.
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1

broker_transport_options = {
    # A dead worker's unacknowledged task is redelivered this long after delivery, so keep it
    # short; it must still exceed the longest step and retry countdown, or a step runs twice
    # (steps are idempotent, so that costs work, not correctness).
    "visibility_timeout": _settings.broker_visibility_timeout,
    # kombu scans for unacknowledged messages of dead workers every interval x throttle
    # seconds; the defaults (10 x 10) leave a killed worker's task stranded for 90 s.
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
    "socket_timeout": 5,
    "socket_connect_timeout": 2,
}
broker_connection_retry_on_startup = True
broker_connection_timeout = 2

# Publishing happens inside API requests: fail fast and leave the follow-up in the outbox
# (a periodic sweep re-dispatches it) rather than hold the request while Redis is away.
task_publish_retry = True
task_publish_retry_policy = {"max_retries": 1, "interval_start": 0.1, "interval_step": 0.2}

worker_hijack_root_logger = False

beat_schedule = {
    "sweep-outbox": {"task": "processes.sweep_outbox", "schedule": _settings.outbox_sweep_seconds},
    "requeue-stranded-steps": {"task": "processes.requeue_stranded_steps", "schedule": 60.0},
    "mark-overdue": {"task": "processes.mark_overdue", "schedule": 60.0},
    "send-reminders": {"task": "processes.send_reminders", "schedule": 60.0},
}
