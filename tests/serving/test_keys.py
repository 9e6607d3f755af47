"""The API, the worker and beat refuse to start without their keys, outside development mode."""

from __future__ import annotations

import sys

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from api import create_app
from scripts.stack import gunicorn_command
from settings import MissingKeys
from tests.serving.conftest import KEY_SETTINGS, env_without_keys, run

KEY = "k" * 32
CONFIG = {"TESTING": True, "MONGO_DB": "test_keys_unused"}


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """This test's environment as a deployment's: no development mode, no key set."""
    for name in KEY_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def public_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_the_api_names_each_missing_key_and_how_to_set_it(deployed):
    """Without JWT_SECRET and SECRET_KEY the app is not built; the message names both."""
    with pytest.raises(MissingKeys) as refused:
        create_app(CONFIG)
    message = str(refused.value)
    assert message.startswith("The API refuses to start: JWT_SECRET is not set")
    assert "SECRET_KEY is not set" in message
    assert "secrets.token_urlsafe(32)" in message
    assert "DEVELOPMENT_MODE=1" in message


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"JWT_SECRET": "short", "SECRET_KEY": KEY}, "JWT_SECRET is 5 bytes long"),
        ({"JWT_SECRET": KEY, "SECRET_KEY": "s" * 31}, "SECRET_KEY is 31 bytes long"),
        ({"JWT_PUBLIC_KEY": "not a key", "SECRET_KEY": KEY}, "JWT_PUBLIC_KEY is not"),
        (
            {"JWT_SECRET": KEY, "SECRET_KEY": KEY, "WEBHOOK_URLS": "https://hooks.example/x"},
            "WEBHOOK_SECRET is not set, though WEBHOOK_URLS is",
        ),
    ],
)
def test_the_api_refuses_a_short_or_unusable_key(deployed, settings, named):
    """A secret under 32 bytes, a public key that is none, a webhook without a secret: refused."""
    for name, value in settings.items():
        deployed.setenv(name, value)
    with pytest.raises(MissingKeys, match=named):
        create_app(CONFIG)


def test_a_short_key_is_refused_in_development_mode_too(deployed):
    """Development mode fills in unset keys, never one set too short."""
    deployed.setenv("DEVELOPMENT_MODE", "1")
    deployed.setenv("JWT_SECRET", "development")
    with pytest.raises(MissingKeys, match="JWT_SECRET is 11 bytes long"):
        create_app(CONFIG)


@pytest.mark.parametrize("verifier", ["JWT_SECRET", "JWT_PUBLIC_KEY", "JWKS_URL"])
def test_the_api_starts_with_its_keys_outside_development_mode(deployed, verifier):
    """An HS256 secret, an RS256 public key or a JWKS URL, with SECRET_KEY, is enough."""
    value = {
        "JWT_SECRET": KEY,
        "JWT_PUBLIC_KEY": public_key_pem(),
        "JWKS_URL": "https://login.example/jwks",
    }[verifier]
    deployed.setenv(verifier, value)
    deployed.setenv("SECRET_KEY", KEY)
    assert create_app(CONFIG).extensions["settings"].development_mode is False


def test_mint_token_refuses_outside_development_mode():
    """`flask mint-token` says it only mints in development mode, and mints nothing."""
    env = env_without_keys(JWT_SECRET=KEY, SECRET_KEY=KEY)
    result = run([sys.executable, "-m", "flask", "--app", "api", "mint-token"], env)
    assert result.returncode == 1
    assert "only mints in development mode (DEVELOPMENT_MODE=1" in result.stderr
    assert result.stdout == ""


def test_mint_token_mints_in_development_mode():
    """In development mode it prints a token signed with JWT_SECRET."""
    env = env_without_keys(DEVELOPMENT_MODE="1", JWT_SECRET=KEY)
    result = run([sys.executable, "-m", "flask", "--app", "api", "mint-token"], env)
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), KEY, algorithms=["HS256"])
    assert claims["groups"] == ["processes-admin"]


def test_commands_that_serve_nothing_need_no_keys():
    """`flask --app api definitions` lists definitions in a shell without keys."""
    result = run(
        [sys.executable, "-m", "flask", "--app", "api", "definitions"], env_without_keys()
    )
    assert result.returncode == 0, result.stderr
    assert "soletojoint" in result.stdout


@pytest.mark.slow
def test_gunicorn_exits_with_the_message_before_serving():
    """gunicorn with the project's settings stops at once, status 1, with one paragraph."""
    result = run([*gunicorn_command(), "-b", "127.0.0.1:0"], env_without_keys(SECRET_KEY=KEY))
    assert result.returncode == 1
    assert "The API refuses to start: JWT_SECRET is not set" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Booting worker" not in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "who"), [("worker", "Celery worker"), ("beat", "Celery beat")]
)
def test_celery_exits_without_its_keys(command, who, tmp_path):
    """`celery worker` and `celery beat` end with status 1, naming the missing key."""
    argv = [sys.executable, "-m", "celery", "-A", "workers.app", command]
    if command == "beat":
        argv += ["--schedule", str(tmp_path / "schedule")]
    else:
        argv += ["--pool=solo", "--without-mingle", "--without-gossip", "--without-heartbeat"]
    result = run(argv, env_without_keys(WEBHOOK_URLS="https://hooks.example/x"))
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert f"{who} refuses to start: JWT_SECRET is not set" in output
    assert "WEBHOOK_SECRET is not set, though WEBHOOK_URLS is" in output
