"""Single sign-on for the officer pages: OpenID Connect, authorization code flow with PKCE.

Off unless OIDC_ISSUER is set. The provider's endpoints come from its discovery document;
the ID token is verified against its published keys, and the officer's groups are read from
a configurable claim (a list, or a string separated by `;` or `,`, as Cognito's
`custom:groups`). The pages do not know which sign-in was used: both end in `sign_in`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from settings import Settings

TIMEOUT_SECONDS = 10


class OidcError(Exception):
    """Signing in through the provider failed; the officer is asked to try again."""


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, and what to remember in the session until it comes back."""

    url: str
    remember: dict[str, str]


@dataclass
class Provider:
    """One OpenID Connect provider and this service's client registration with it."""

    issuer: str
    client_id: str
    client_secret: str = ""
    groups_claim: str = "groups"
    _metadata: dict[str, Any] | None = field(default=None, repr=False)
    _keys: jwt.PyJWKClient | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Provider | None:
        """The configured provider, or None when single sign-on is off."""
        if not settings.oidc_issuer:
            return None
        return cls(
            settings.oidc_issuer.rstrip("/"),
            settings.oidc_client_id,
            settings.oidc_client_secret,
            settings.oidc_groups_claim,
        )

    def authorization_request(self, redirect_uri: str) -> AuthorizationRequest:
        """A fresh request with its own state, nonce and PKCE verifier."""
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        challenge = _b64(hashlib.sha256(verifier.encode()).digest())
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid email profile",
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        url = f"{self.metadata()['authorization_endpoint']}?{query}"
        return AuthorizationRequest(url, {"state": state, "nonce": nonce, "verifier": verifier})

    def finish(
        self, pending: Mapping[str, str], args: Mapping[str, str], redirect_uri: str
    ) -> tuple[str, dict[str, Any]]:
        """The verified ID token and its claims, from the provider's redirect back to us."""
        if args.get("error"):
            raise OidcError(f"The provider refused: {args.get('error')}")
        if not args.get("state") or not secrets.compare_digest(
            args["state"], pending.get("state", "")
        ):
            raise OidcError("The sign-in response does not match the request.")
        form = {
            "grant_type": "authorization_code",
            "code": args.get("code", ""),
            "redirect_uri": redirect_uri,
            "client_id": self.client_id,
            "code_verifier": pending.get("verifier", ""),
        }
        if self.client_secret:
            form["client_secret"] = self.client_secret
        answer = _post(self.metadata()["token_endpoint"], form)
        token = answer.get("id_token")
        if not isinstance(token, str):
            raise OidcError("The provider sent no ID token.")
        claims = self.verify(token)
        if claims.get("nonce") != pending.get("nonce"):
            raise OidcError("The ID token was not issued for this sign-in.")
        return token, claims

    def verify(self, token: str) -> dict[str, Any]:
        """The ID token's claims, with `groups` read from the configured claim."""
        try:
            key = self.keys().get_signing_key_from_jwt(token).key
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self.client_id,
                issuer=self.metadata().get("issuer", self.issuer),
                leeway=30,
                options={"require": ["exp", "sub"]},
            )
        except jwt.PyJWTError as error:
            raise OidcError(f"The ID token is not valid: {error}") from error
        claims["groups"] = groups(claims.get(self.groups_claim))
        return claims

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, read once."""
        if self._metadata is None:
            self._metadata = _get(f"{self.issuer}/.well-known/openid-configuration")
        return self._metadata

    def keys(self) -> jwt.PyJWKClient:
        """The provider's signing keys, fetched when first needed."""
        if self._keys is None:
            self._keys = jwt.PyJWKClient(self.metadata()["jwks_uri"])
        return self._keys


def groups(claim: Any) -> list[str]:
    """A groups claim as a list: a list as given, a string split on `;` or `,`."""
    if isinstance(claim, str):
        return [part.strip() for part in re.split(r"[;,]", claim) if part.strip()]
    if isinstance(claim, list):
        return [str(part) for part in claim]
    return []


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _get(url: str) -> dict[str, Any]:
    return _read(urllib.request.Request(url, headers={"Accept": "application/json"}))


def _post(url: str, form: dict[str, str]) -> dict[str, Any]:
    body = urllib.parse.urlencode(form).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    return _read(urllib.request.Request(url, data=body, headers=headers, method="POST"))


def _read(request: urllib.request.Request) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - the configured provider
            found = json.loads(response.read())
    except (OSError, ValueError) as error:
        raise OidcError(f"The sign-in provider did not answer: {error}") from error
    if not isinstance(found, dict):
        raise OidcError("The sign-in provider sent something unexpected.")
    return found
