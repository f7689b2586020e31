"""The Flask app factory: one app per process, stateless between requests.

Everything a request needs that another process must also see lives in the database (sessions
are signed cookies, sign-in throttling counts are shared through the configured storage), so
several web processes behind one load balancer behave as one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from engine.bootstrap import Container, build
from engine.config import Settings
from web import api, budget_pages, callbacks, errors, finance_pages, i18n, pages, process_pages, security
from web.auth import oa_sso
from web.auth import session as auth_session
from web.auth.views import bp as auth_bp
from web.context import EXTENSION
from web.settings import WebSettings


def create_app(container: Container | None = None, *, web: WebSettings | None = None,
               config: Mapping[str, Any] | None = None) -> Flask:
    """The app on ``container`` (built from the environment when None; the database must exist)."""
    container = container or build(Settings.from_env(), create=False)
    web = web or WebSettings.from_env(container.settings)
    app = Flask(__name__)
    app.extensions[EXTENSION] = container
    security.init_app(app, web)
    app.config.update(config or {})
    i18n.init_app(app)
    auth_session.init_app(app)
    app.register_blueprint(auth_bp)
    security.throttle_sign_in(app, web, container.rate_counters())
    pages.register(app)
    app.register_blueprint(budget_pages.bp)
    app.register_blueprint(process_pages.bp)
    app.register_blueprint(finance_pages.bp)
    api.register(app)
    callbacks.init_app(app, container)  # reads the OA settings, which the OA sign-in also uses
    app.register_blueprint(oa_sso.bp)
    errors.init_app(app)  # last: replaces flask-smorest's handler, so pages and API answer errors one way
    return app
