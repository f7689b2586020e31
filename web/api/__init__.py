"""The REST API under /api/v1 (flask-smorest: marshmallow schemas, an OpenAPI 3 description)."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from web.security import csrf

API_TITLE = "budgetflow"
API_VERSION = "v1"


def register(app: Flask) -> None:
    app.config.update(
        API_TITLE=API_TITLE, API_VERSION=API_VERSION, OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1", OPENAPI_JSON_PATH="openapi.json",
    )
    api = Api(app)
    for blueprint in _blueprints():
        csrf.exempt(blueprint)  # bearer tokens, no cookies: a forged cross-site request carries no credential
        api.register_blueprint(blueprint)


def _blueprints() -> list:  # type: ignore[type-arg]
    return []
