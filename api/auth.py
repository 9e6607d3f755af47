"""Bearer-token authentication: verify the JWT, then remember who is calling.

HS256 with a shared secret, or RS256 with a public key or a JWKS URL. The signature and
expiry are always checked; a missing, malformed, expired or wrongly signed token is a 401.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from flask import g, request
from jsonschema import Draft202012Validator

from api.bodies import lone_surrogates
from services.authorisation import token_groups
from settings import Settings

PUBLIC_ENDPOINTS = {
    "health.ping",
    "health.ready",
    "metrics.scrape",  # its own token or network check (api/metrics.py)
    "openapi.spec",
    "openapi.docs",
    "openapi.swagger_ui_oauth_redirect",
    "static",
}
LEEWAY_SECONDS = 30
PAGES_BLUEPRINT = "ui"
"""The officers' web pages authenticate with their own session cookie (ui.session)."""

CLAIMS = Draft202012Validator(
    {
        "type": "object",
        "properties": {
            "sub": {"type": "string", "minLength": 1},
            "name": {"type": ["string", "null"]},
            "email": {"type": ["string", "null"]},
            "groups": {"type": ["array", "string", "null"], "items": {"type": "string"}},
        },
        "required": ["sub"],
    }
)
"""The claims the service reads from a token, and the types it can use them as."""
EXPECTED = {
    "sub": "a non-empty string",
    "name": "a string",
    "email": "a string",
    "groups": "a list of strings",
}


class Unauthenticated(Exception):
    """No valid bearer token came with the request."""


REMEMBERED_TOKENS = 1024
"""How many verified tokens a verifier remembers (a client sends the same one many times)."""
REMEMBER_SECONDS = 300.0
"""How long a verification is trusted at most: a key taken out of the JWKS, or a changed
setting, stops a token within this time even if the token itself has not expired."""


class TokenVerifier:
    """Checks tokens against the configured key(s).

    Verifying a signature is most of a request's authentication; a client sends the same token
    with every request until it expires, so a verified token's claims are remembered, by the
    token's exact text, until the token expires or `REMEMBER_SECONDS` pass, whichever is first.
    A token that failed is never remembered: it is checked again each time it comes.
    """

    def __init__(self, settings: Settings, clock: Any = time.time) -> None:
        self._settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwks_url) if settings.jwks_url else None
        self._clock = clock
        self._remembered: OrderedDict[str, tuple[float, float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, once its signature, expiry and claims are checked."""
        now = self._clock()
        with self._lock:
            found = self._remembered.get(token)
            if found is not None:
                not_before, until, claims = found
                if not_before <= now < until:
                    self._remembered.move_to_end(token)
                    return claims
                del self._remembered[token]
        claims = self._decode(token)
        check_claims(claims)
        self._remember(token, claims, now)
        return claims

    def _remember(self, token: str, claims: dict[str, Any], now: float) -> None:
        # Within the same leeway the signature check allowed: `exp` and `nbf` are numbers
        # there (PyJWT refuses a token whose dates are not).
        until = min(float(claims["exp"]) + LEEWAY_SECONDS, now + REMEMBER_SECONDS)
        not_before = float(claims.get("nbf", now)) - LEEWAY_SECONDS
        with self._lock:
            self._remembered[token] = (not_before, until, claims)
            if len(self._remembered) > REMEMBERED_TOKENS:
                self._remembered.popitem(last=False)

    def _decode(self, token: str) -> dict[str, Any]:
        settings = self._settings
        if self._jwks is not None:
            key: Any = self._jwks.get_signing_key_from_jwt(token).key
            algorithms = ["RS256"]
        elif settings.jwt_public_key:
            key, algorithms = settings.jwt_public_key, ["RS256"]
        else:
            key, algorithms = settings.jwt_secret, ["HS256"]
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "sub"], "verify_aud": settings.jwt_audience is not None},
        )
        return claims


def authenticate(verifier: TokenVerifier) -> None:
    """Before each request: set `g.actor` and `g.groups`, or raise Unauthenticated."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.method == "OPTIONS":
        return
    if request.blueprint == PAGES_BLUEPRINT or _unknown_page():
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send an Authorization: Bearer <token> header.")
    try:
        claims = verifier.verify(token.strip())
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("The token has expired.") from None
    except (jwt.PyJWTError, ValueError) as error:
        raise Unauthenticated(f"The token is not valid: {error}") from None
    g.actor = {"id": str(claims["sub"]), "name": claims.get("name"), "email": claims.get("email")}
    g.groups = token_groups(claims.get("groups"))


def check_claims(claims: dict[str, Any]) -> None:
    """Refuse a token whose claims the service cannot use as they are: a well-signed token
    with a number for `groups`, say, is as unusable as a forged one."""
    read = {name: claims[name] for name in EXPECTED if name in claims}
    for error in CLAIMS.iter_errors(read):
        name = str(error.absolute_path[0]) if error.absolute_path else "sub"
        raise Unauthenticated(f"The token's {name} claim must be {EXPECTED[name]}.")
    for path in lone_surrogates(read):
        name = path.split("[", 1)[0]
        raise Unauthenticated(f"The token's {name} claim holds a lone UTF-16 surrogate.")


def _unknown_page() -> bool:
    """An address outside the API that nothing serves: a 404 page, with nothing to protect."""
    return request.url_rule is None and not request.path.startswith("/api/")


def mint(
    settings: Settings,
    subject: str,
    name: str,
    email: str,
    groups: list[str],
    lifetime: timedelta = timedelta(hours=12),
) -> str:
    """A token signed with the shared secret (HS256), for development and tests."""
    issued = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "name": name,
        "email": email,
        "groups": groups,
        "iat": issued,
        "exp": issued + lifetime,
    }
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
