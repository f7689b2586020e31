"""What every request passes through: CSRF on state-changing forms, sign-in throttling, safe headers."""

from __future__ import annotations

import uuid

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from web.rate_storage import Counters, use_counters
from web.settings import WebSettings

csrf = CSRFProtect()

# Pages need no script from elsewhere; inline script is refused, styles come from our own files.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                           "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def init_app(app: Flask, web: WebSettings) -> None:
    app.config.update(
        SECRET_KEY=web.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=web.secure_cookies,
        REMEMBER_COOKIE_SECURE=web.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        MAX_CONTENT_LENGTH=web.max_request_bytes,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session: a long form is not lost
    )
    if web.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=web.trusted_proxies, x_proto=web.trusted_proxies)  # type: ignore[method-assign]
    csrf.init_app(app)
    app.after_request(_headers)


def throttle_sign_in(app: Flask, web: WebSettings, counters: Counters) -> None:
    """Limit sign-in attempts per client address and per account name (a limiter per app: each app
    counts in its own storage; by default the database, which every web process shares)."""
    uri = web.rate_limit_storage
    if uri == "budgetflow://":
        uri = f"budgetflow://{uuid.uuid4().hex}"  # this app's counters, found by the storage class
        use_counters(uri, counters)
    limiter = Limiter(get_remote_address, app=app, storage_uri=uri, headers_enabled=True, default_limits=[])
    view = app.view_functions["auth.login"]
    view = limiter.limit(web.login_limit, methods=["POST"])(view)
    view = limiter.limit(web.login_limit, methods=["POST"], key_func=_account_key)(view)
    app.view_functions["auth.login"] = view


def _account_key() -> str:
    return "account:" + (request.form.get("login") or "").strip().lower()[:200]


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
