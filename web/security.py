"""What every request passes through: CSRF on state-changing forms, sign-in throttling, safe headers."""

from __future__ import annotations

from flask import Flask, Response, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from web.settings import WebSettings

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)

# Pages need no script from elsewhere; inline script is refused, styles come from our own files.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                           "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def login_limit() -> str:
    limit: str = current_app.config["BUDGETFLOW_LOGIN_LIMIT"]
    return limit


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
        BUDGETFLOW_LOGIN_LIMIT=web.login_limit,
        RATELIMIT_STORAGE_URI=web.rate_limit_storage,
    )
    if web.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=web.trusted_proxies, x_proto=web.trusted_proxies)  # type: ignore[method-assign]
    csrf.init_app(app)
    limiter.init_app(app)
    app.after_request(_headers)


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
