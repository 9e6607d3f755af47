"""Who is signed in: a session cookie carrying the officer's token, verified on every request.

The cookie is Flask's signed session (HttpOnly, SameSite=Lax, Secure outside development
mode) and expires with the token inside it. The token is checked again on each request by
the API's own verifier, so an expired or revoked signing key signs the officer out. Every
form posted to a page carries a CSRF token; the JSON API never reads this cookie.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt
from flask import (
    Flask,
    Request,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from werkzeug.wrappers import Response
from wtforms import ValidationError

from api.auth import TokenVerifier, Unauthenticated, mint
from services.authorisation import token_groups
from settings import Settings
from ui import oidc
from ui.blueprint import NAME, bp

COOKIE_NAME = "officer_session"
API_PREFIX = "/api/"
"""Paths of the JSON API, which takes bearer tokens only and has no session."""
DEV_TOKEN_LIFETIME = timedelta(hours=12)
OPEN_ENDPOINTS = {
    f"{NAME}.login",
    f"{NAME}.dev_login",
    f"{NAME}.oidc_start",
    f"{NAME}.oidc_callback",
    f"{NAME}.static",
    f"{NAME}.accessibility",
}
"""Pages anyone may see, signed in or not."""
_VERIFIER = "ui.verifier"


class TokenSession(SecureCookieSessionInterface):
    """Flask's signed cookie session, which expires when the token it carries does."""

    def open_session(self, app: Flask, incoming: Request) -> SecureCookieSession | None:
        """No session for the JSON API, which is bearer-only: its requests neither read nor
        set the cookie (and spare the work of opening it)."""
        if incoming.path.startswith(API_PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, incoming)

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> datetime | None:
        """When the token in the session expires."""
        expires = session.get("exp")
        return datetime.fromtimestamp(expires, UTC) if isinstance(expires, int) else None


def configure(app: Flask, settings: Settings) -> None:
    """Set up the session cookie and, in development mode, the development sign-in."""
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.secret_key or None
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Plain HTTP on 127.0.0.1 in development; everywhere else only over HTTPS.
        SESSION_COOKIE_SECURE=not settings.development_mode,
        WTF_CSRF_FIELD_NAME="csrf_token",
        WTF_CSRF_TIME_LIMIT=None,  # the session's own expiry bounds it
    )
    app.session_interface = TokenSession()
    app.extensions[_VERIFIER] = TokenVerifier(settings)
    app.extensions["ui.oidc"] = oidc.Provider.from_settings(settings)
    if settings.development_mode:
        # Added to the app, not the blueprint, so that outside development mode the route
        # does not exist at all. The endpoint's prefix still makes it one of the pages.
        app.add_url_rule("/login/dev", f"{NAME}.dev_login", dev_login, methods=["GET", "POST"])

    @app.context_processor
    def officer_context() -> dict[str, Any]:
        """What every page's layout reads: the officer, the CSRF token, the mode."""
        return {
            "officer": g.get("officer") if request.blueprint == NAME else None,
            "csrf_token": generate_csrf if current_app.secret_key else lambda: "",
            "development_mode": settings.development_mode,
        }


@bp.before_request
def identify() -> Response | None:
    """Before each page: know the officer from their cookie, check CSRF, else ask to sign in."""
    if not current_app.secret_key:
        abort(503, "The pages need SECRET_KEY to be set.")
    claims = _session_claims()
    if claims is not None:
        g.actor = {
            "id": str(claims["sub"]),
            "name": claims.get("name"),
            "email": claims.get("email"),
        }
        g.groups = token_groups(claims.get("groups"))
        g.officer = {**g.actor, "groups": sorted(g.groups - {"*"})}
    if request.method == "POST":
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError as error:
            raise CSRFError(str(error)) from None
    if claims is None and request.endpoint not in OPEN_ENDPOINTS:
        return redirect(url_for(f"{NAME}.login", next=_here()))
    return None


def _session_claims() -> dict[str, Any] | None:
    """The verified claims of the session's token; a token no longer valid ends the session."""
    token = session.get("token")
    if not token:
        return None
    kind = session.get("kind", "token")
    try:
        if kind == "oidc":
            claims = current_app.extensions["ui.oidc"].verify(token)
        else:
            claims = current_app.extensions[_VERIFIER].verify(token)
    except (jwt.PyJWTError, ValueError, oidc.OidcError, Unauthenticated):
        session.clear()
        return None
    return claims


def sign_in(token: str, claims: dict[str, Any], kind: str = "token") -> None:
    """Start a session for the holder of `token` (already verified)."""
    session.clear()
    session["token"] = token
    session["kind"] = kind
    session["exp"] = int(claims["exp"])


@bp.get("/login")
def login() -> str:
    """The sign-in page: single sign-on when configured, the development form in development."""
    return render_template(
        "ui/login.html",
        next=_safe_next(request.args.get("next")),
        oidc_enabled=current_app.extensions["ui.oidc"] is not None,
        dev_login=f"{NAME}.dev_login" in current_app.view_functions,
    )


def dev_login() -> Response | str:
    """Sign in with a development token for the name, email and groups entered."""
    values = {
        "name": request.form.get("name", "Development Officer").strip(),
        "email": request.form.get("email", "officer@example.org").strip(),
        "groups": request.form.get("groups", "housing-officers\npatch:E1"),
    }
    next_page = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("ui/dev_login.html", values=values, errors={}, next=next_page)
    errors = {}
    if not values["name"]:
        errors["name"] = "Enter your name"
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", values["email"]):
        errors["email"] = "Enter an email address in the correct format, like name@example.org"
    groups = parse_groups(values["groups"])
    if errors:
        return render_template("ui/dev_login.html", values=values, errors=errors, next=next_page)
    settings: Settings = current_app.extensions["settings"]
    token = mint(
        settings,
        f"dev:{values['email']}",
        values["name"],
        values["email"],
        groups,
        lifetime=DEV_TOKEN_LIFETIME,
    )
    sign_in(token, current_app.extensions[_VERIFIER].verify(token))
    return redirect(next_page or url_for(f"{NAME}.worktray"))


def parse_groups(text: str) -> list[str]:
    """Groups entered one a line or separated by commas, each once, in the order given."""
    found = [part.strip() for part in re.split(r"[,\n]", text)]
    return list(dict.fromkeys(group for group in found if group))


@bp.get("/login/oidc")
def oidc_start() -> Response:
    """Send the officer to the council's sign-in (authorization code with PKCE)."""
    provider: oidc.Provider | None = current_app.extensions["ui.oidc"]
    if provider is None:
        abort(404)
    request_ = provider.authorization_request(url_for(f"{NAME}.oidc_callback", _external=True))
    session["oidc"] = {**request_.remember, "next": _safe_next(request.args.get("next"))}
    return redirect(request_.url)


@bp.get("/login/oidc/callback")
def oidc_callback() -> Response:
    """Finish single sign-on: exchange the code, verify the ID token, start the session."""
    provider: oidc.Provider | None = current_app.extensions["ui.oidc"]
    pending = session.pop("oidc", None)
    if provider is None or not pending:
        abort(404)
    try:
        token, claims = provider.finish(
            pending,
            request.args,
            url_for(f"{NAME}.oidc_callback", _external=True),
        )
    except oidc.OidcError:
        current_app.logger.warning("single sign-on failed", exc_info=True)
        abort(403, "Signing in did not work. Try again.")
    sign_in(token, claims, kind="oidc")
    return redirect(pending.get("next") or url_for(f"{NAME}.worktray"))


@bp.post("/logout")
def logout() -> Response:
    """End the session."""
    session.clear()
    flash("You have signed out.")
    return redirect(url_for(f"{NAME}.login"))


def _here() -> str:
    return request.full_path.rstrip("?") if request.query_string else request.path


def _safe_next(value: str | None) -> str | None:
    """A page of this service to go on to after signing in; never another site."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return None
    return value
