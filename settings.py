"""Runtime settings, read from the environment in one place for the API and the workers."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    mongo_uri: str
    mongo_db: str
    redis_url: str
    port: int
    tenure_api_url: str | None = None
    tenure_api_token: str | None = None
    person_api_url: str | None = None
    person_api_token: str | None = None
    events_stream: str = "processes.events"
    webhook_urls: tuple[str, ...] = ()
    webhook_secret: str = ""
    step_max_retries: int = 5
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 15.0
    """Kept well under the broker's visibility timeout: a retry waits on the worker, unacked."""
    outbox_grace_seconds: float = 30.0
    outbox_sweep_seconds: float = 15.0
    """How often beat sweeps outboxes for follow-ups older than `outbox_grace_seconds`."""
    jwt_secret: str = ""
    """HS256 signing secret of bearer tokens (at least 32 bytes), unless a public key or a JWKS
    URL is set; in development mode, `DEVELOPMENT_JWT_SECRET` when unset."""
    jwt_public_key: str | None = None
    jwks_url: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    auth_policy_file: str = "config/authorisation.json"
    broker_visibility_timeout: float = 30.0
    reminder_hours: float = 24.0
    local_timezone: str = "Europe/London"
    development_mode: bool = False
    """DEVELOPMENT_MODE=1 (set by `make run` and `make test`): known development keys stand in
    for the signing keys a deployment must configure."""
    secret_key: str = ""
    """Signs what the service hands out and reads back (pagination tokens); at least 32 bytes."""
    store_paging: str = "auto"
    """How listings page through the store: keyset, time-slices, or auto (asks the server)."""
    cors_origins: tuple[str, ...] = ()
    """Browser origins allowed to call the API (CORS); none by default."""
    oidc_issuer: str | None = None
    """Single sign-on for the officer pages (OpenID Connect, authorization code with PKCE):
    the provider's issuer URL. Unset: no single sign-on."""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_groups_claim: str = "groups"
    """The ID token claim holding the officer's groups (Cognito: custom:groups)."""
    log_format: str = "json"
    """`json` (one object a line) or `console` (for people); LOG_FORMAT."""
    log_level: str = "INFO"
    metrics_token: str | None = None
    """When set, the API's /metrics answers only requests with `Authorization: Bearer` it."""
    metrics_allow_from: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    """Without a token, the networks whose clients the API's /metrics answers."""
    metrics_address: str = "127.0.0.1"
    """Where the worker and beat serve their metrics (their ports are not the API's)."""
    worker_metrics_port: int = 0
    """The worker's metrics port; 0 (the default) serves none."""
    beat_metrics_port: int = 0
    metrics_figures_seconds: float = 15.0
    """How long the API reuses the case figures it computed for a scrape."""
    ready_beat_max_age_seconds: float = 120.0
    """/ready fails when beat has sent no periodic task for this long."""
    ready_outbox_max_age_seconds: float = 300.0
    """/ready fails when a follow-up has waited in an outbox for this long."""


DEVELOPMENT_JWT_SECRET = "development-only-jwt-secret-never-use-in-production"
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-never-use-in-production"
DEVELOPMENT_WEBHOOK_SECRET = "development-only-webhook-secret-never-use-in-production"
MIN_SECRET_BYTES = 32
ROLES = {"api": "The API", "worker": "The Celery worker", "beat": "Celery beat"}
"""Who checks its keys at startup, as named in the refusal."""


def from_env() -> Settings:
    """Build settings from the environment, with defaults that work on a developer machine."""
    env = os.environ.get
    development = env("DEVELOPMENT_MODE", "").strip().lower() in ("1", "true", "yes", "on")
    paging = env("STORE_PAGING", "auto")
    if paging not in ("auto", "keyset", "time-slices"):
        raise ValueError(f"STORE_PAGING must be auto, keyset or time-slices, not {paging!r}.")
    return Settings(
        mongo_uri=env("MONGO_URI", "mongodb://127.0.0.1:27017"),
        mongo_db=env("MONGO_DB", "processes"),
        redis_url=env("REDIS_URL", "redis://127.0.0.1:6379/0"),
        port=int(env("PORT", "5000")),
        tenure_api_url=env("TENURE_API_URL") or None,
        tenure_api_token=env("TENURE_API_TOKEN") or None,
        person_api_url=env("PERSON_API_URL") or None,
        person_api_token=env("PERSON_API_TOKEN") or None,
        events_stream=env("EVENTS_STREAM", "processes.events"),
        webhook_urls=tuple(u.strip() for u in env("WEBHOOK_URLS", "").split(",") if u.strip()),
        webhook_secret=env("WEBHOOK_SECRET")
        or (DEVELOPMENT_WEBHOOK_SECRET if development else ""),
        step_max_retries=int(env("STEP_MAX_RETRIES", "5")),
        retry_base_seconds=float(env("RETRY_BASE_SECONDS", "2")),
        retry_max_seconds=float(env("RETRY_MAX_SECONDS", "15")),
        outbox_grace_seconds=float(env("OUTBOX_GRACE_SECONDS", "30")),
        outbox_sweep_seconds=float(env("OUTBOX_SWEEP_SECONDS", "15")),
        jwt_secret=env("JWT_SECRET") or (DEVELOPMENT_JWT_SECRET if development else ""),
        jwt_public_key=env("JWT_PUBLIC_KEY") or None,
        jwks_url=env("JWKS_URL") or None,
        jwt_audience=env("JWT_AUDIENCE") or None,
        jwt_issuer=env("JWT_ISSUER") or None,
        broker_visibility_timeout=float(env("BROKER_VISIBILITY_TIMEOUT", "30")),
        reminder_hours=float(env("APPOINTMENT_REMINDER_HOURS", "24")),
        local_timezone=env("LOCAL_TIMEZONE", "Europe/London"),
        auth_policy_file=env("AUTH_POLICY_FILE", str(ROOT / "config" / "authorisation.json")),
        development_mode=development,
        secret_key=env("SECRET_KEY") or (DEVELOPMENT_SECRET_KEY if development else ""),
        store_paging=paging,
        cors_origins=tuple(o.strip() for o in env("CORS_ORIGINS", "").split(",") if o.strip()),
        oidc_issuer=env("OIDC_ISSUER") or None,
        oidc_client_id=env("OIDC_CLIENT_ID", ""),
        oidc_client_secret=env("OIDC_CLIENT_SECRET", ""),
        oidc_groups_claim=env("OIDC_GROUPS_CLAIM", "groups"),
        log_format=env("LOG_FORMAT", "json").strip().lower(),
        log_level=env("LOG_LEVEL", "INFO").strip().upper(),
        metrics_token=env("METRICS_TOKEN") or None,
        metrics_allow_from=tuple(
            n.strip()
            for n in env("METRICS_ALLOW_FROM", "127.0.0.1/32,::1/128").split(",")
            if n.strip()
        ),
        metrics_address=env("METRICS_ADDRESS", "127.0.0.1"),
        worker_metrics_port=int(env("WORKER_METRICS_PORT", "0")),
        beat_metrics_port=int(env("BEAT_METRICS_PORT", "0")),
        metrics_figures_seconds=float(env("METRICS_FIGURES_SECONDS", "15")),
        ready_beat_max_age_seconds=float(env("READY_BEAT_MAX_AGE_SECONDS", "120")),
        ready_outbox_max_age_seconds=float(env("READY_OUTBOX_MAX_AGE_SECONDS", "300")),
    )


class MissingKeys(RuntimeError):
    """A key the service signs or verifies with is not configured, or is too short."""


def key_problems(settings: Settings, role: str) -> list[str]:
    """What is wrong with the keys `role` (one of ROLES) runs with, one clause each.

    Every runtime needs a way to verify tokens, so that a deployment missing its key fails
    as a whole instead of half-working; the API also needs SECRET_KEY; webhooks need
    WEBHOOK_SECRET. A secret that is set must be long enough, in development mode too.
    """
    problems = []
    if settings.jwt_public_key and not _is_rsa_public_key(settings.jwt_public_key):
        problems.append("JWT_PUBLIC_KEY is not a PEM-encoded RSA public key")
    verifies_rs256 = bool(settings.jwt_public_key or settings.jwks_url)
    problems += _secret_problems(
        "JWT_SECRET", settings.jwt_secret, not verifies_rs256, " (nor JWT_PUBLIC_KEY or JWKS_URL)"
    )
    if role == "api":
        problems += _secret_problems("SECRET_KEY", settings.secret_key, True)
        problems += _secret_problems("METRICS_TOKEN", settings.metrics_token or "", False)
    problems += _secret_problems(
        "WEBHOOK_SECRET",
        settings.webhook_secret,
        bool(settings.webhook_urls),
        ", though WEBHOOK_URLS is",
    )
    return problems


def _secret_problems(name: str, value: str, required: bool, why: str = "") -> list[str]:
    size = len(value.encode())
    if required and not size:
        return [f"{name} is not set{why}"]
    if 0 < size < MIN_SECRET_BYTES:
        return [f"{name} is {size} bytes long, shorter than {MIN_SECRET_BYTES}"]
    return []


def require_keys(settings: Settings, role: str) -> None:
    """Raise MissingKeys, saying what to set and how, unless `role` has the keys it needs."""
    problems = key_problems(settings, role)
    if problems:
        raise MissingKeys(
            f"{ROLES[role]} refuses to start: {'; '.join(problems)}. Set each secret to a "
            f"random value of at least {MIN_SECRET_BYTES} bytes, for example the output of "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'` (docker-compose "
            "reads them from .env: see .env.example); for RS256 tokens set JWT_PUBLIC_KEY or "
            "JWKS_URL instead of JWT_SECRET. On a developer machine, DEVELOPMENT_MODE=1 (which "
            "make run and make test set) puts known development keys in place of unset ones."
        )


def _is_rsa_public_key(pem: str) -> bool:
    """Whether `pem` is what the token verifier can check RS256 signatures with."""
    # Imported here: only deployments with RS256 tokens pay for loading cryptography.
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from jwt.algorithms import RSAAlgorithm
    from jwt.exceptions import InvalidKeyError

    try:
        key = RSAAlgorithm(RSAAlgorithm.SHA256).prepare_key(pem)
    except (InvalidKeyError, ValueError, TypeError):
        return False
    return isinstance(key, RSAPublicKey)
