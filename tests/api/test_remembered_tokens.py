"""A verified token is remembered, never beyond its expiry, a key change, or a failure."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

import jwt
import pytest

from api.auth import REMEMBER_SECONDS, REMEMBERED_TOKENS, TokenVerifier, Unauthenticated, mint
from settings import from_env

SECRET = "a-secret-of-at-least-thirty-two-bytes-0001"
ROTATED = "a-secret-of-at-least-thirty-two-bytes-0002"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def settings():  # type: ignore[no-untyped-def]
    return replace(from_env(), jwt_secret=SECRET, jwks_url=None, jwt_public_key=None)


def token(settings, lifetime: timedelta = timedelta(hours=1), **claims) -> str:  # type: ignore[no-untyped-def]
    signed = mint(settings, "officer-1", "Olu", "olu@example.org", ["housing-officers"], lifetime)
    if not claims:
        return signed
    decoded = jwt.decode(signed, options={"verify_signature": False})
    return jwt.encode({**decoded, **claims}, settings.jwt_secret, algorithm="HS256")


def test_a_token_is_remembered_no_longer_than_it_is_valid(settings) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    verifier = TokenVerifier(settings, clock)
    short = token(settings, timedelta(seconds=60))
    verifier.verify(short)
    verifier._settings = replace(settings, jwt_secret=ROTATED)  # checked afresh, it would fail
    clock.now += 59
    assert verifier.verify(short)["sub"] == "officer-1"  # remembered
    clock.now += 32  # past its expiry and the leeway: not taken from memory
    with pytest.raises(jwt.InvalidSignatureError):
        verifier.verify(short)


def test_a_changed_key_stops_a_remembered_token_within_the_time_it_is_trusted(settings) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    verifier = TokenVerifier(settings, clock)
    held = token(settings)
    verifier.verify(held)
    verifier._settings = replace(settings, jwt_secret=ROTATED)  # the key is rotated
    clock.now += REMEMBER_SECONDS + 1
    with pytest.raises(jwt.InvalidSignatureError):
        verifier.verify(held)


def test_a_token_that_failed_is_checked_again_every_time(settings) -> None:  # type: ignore[no-untyped-def]
    verifier = TokenVerifier(settings, Clock())
    forged = jwt.encode(
        jwt.decode(token(settings), options={"verify_signature": False}),
        ROTATED,
        algorithm="HS256",
    )
    for _ in range(3):
        with pytest.raises(jwt.InvalidSignatureError):
            verifier.verify(forged)
    unusable = token(settings, groups=7)
    for _ in range(3):
        with pytest.raises(Unauthenticated, match="groups claim"):
            verifier.verify(unusable)


def test_the_memory_is_bounded_and_forgets_the_least_recently_used(settings) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    verifier = TokenVerifier(settings, clock)
    tokens = [token(settings, jti=str(n)) for n in range(REMEMBERED_TOKENS + 1)]
    for held in tokens:
        verifier.verify(held)
    verifier._settings = replace(settings, jwt_secret=ROTATED)
    # The first was pushed out and is checked afresh (and now fails); the last is remembered.
    with pytest.raises(jwt.InvalidSignatureError):
        verifier.verify(tokens[0])
    assert verifier.verify(tokens[-1])["sub"] == "officer-1"
