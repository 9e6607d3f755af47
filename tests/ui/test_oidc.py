"""Single sign-on (OpenID Connect, code flow with PKCE) against a provider served locally."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from api import create_app
from tests.ui.pages import HTML, page, text

CLIENT_ID = "officer-pages"


class Provider:
    """An OpenID provider: discovery, keys, and a token endpoint that checks PKCE."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.codes: dict[str, dict[str, str]] = {}
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                if self.path == "/.well-known/openid-configuration":
                    self._json(provider.discovery())
                elif self.path == "/jwks":
                    public = json.loads(
                        jwt.algorithms.RSAAlgorithm.to_jwk(provider.key.public_key())
                    )
                    self._json({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]})
                else:
                    self.send_error(404)

            def do_POST(self) -> None:  # noqa: N802
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                issued = provider.codes.pop(form["code"][0], None)
                verifier = form.get("code_verifier", [""])[0]
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                if issued is None or challenge.decode().rstrip("=") != issued["challenge"]:
                    self.send_response(400)
                    self.end_headers()
                    return
                self._json(
                    {"id_token": provider.id_token(issued["nonce"]), "token_type": "Bearer"}
                )

            def _json(self, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def discovery(self) -> dict[str, str]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
        }

    def authorize(self, url: str) -> str:
        """What the provider does after the officer signs in: a code for the redirect."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert query["code_challenge_method"] == "S256"
        self.codes["the-code"] = {"challenge": query["code_challenge"], "nonce": query["nonce"]}
        return query["state"]

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": "cognito-123",
            "name": "Sso Officer",
            "email": "sso@example.org",
            "custom:groups": "housing-officers;patch:E3",
            "nonce": nonce,
            "iat": now,
            "exp": now + 600,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture
def provider() -> Iterator[Provider]:
    found = Provider()
    yield found
    found.server.shutdown()
    found.server.server_close()


@pytest.fixture
def sso_app(db, provider, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OIDC_ISSUER", provider.issuer)
    monkeypatch.setenv("OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("OIDC_GROUPS_CLAIM", "custom:groups")
    return create_app({"TESTING": True, "MONGO_DB": db.name}, dispatch=lambda *_: [])


def test_single_sign_on_starts_a_session_with_the_claimed_groups(sso_app, provider):
    """Sign in at the provider, come back with a code: the worktray shows the token's patch."""
    client = sso_app.test_client()
    login = page(client.get("/login", headers=HTML))
    link = login.find("a", string=lambda s: bool(s and "Sign in with your Hackney account" in s))
    assert link is not None
    sent = client.get(str(link["href"]))
    assert sent.headers["Location"].startswith(f"{provider.issuer}/authorize?")
    state = provider.authorize(sent.headers["Location"])
    back = client.get(f"/login/oidc/callback?code=the-code&state={state}", headers=HTML)
    assert back.status_code == 302
    soup = page(client.get("/", headers=HTML))
    assert "Sso Officer" in text(soup.select_one("header"))
    assert [o["value"] for o in soup.select("select#patch option")] == ["", "E3"]


def test_a_callback_that_does_not_match_the_request_is_refused(sso_app, provider):
    """A redirect back with another state (a forged sign-in) signs nobody in."""
    client = sso_app.test_client()
    provider.authorize(client.get("/login/oidc").headers["Location"])
    back = client.get("/login/oidc/callback?code=the-code&state=forged", headers=HTML)
    assert back.status_code == 403
    assert client.get("/", headers=HTML).status_code == 302
