"""The REST API under /api/v1 (flask-smorest: marshmallow schemas, an OpenAPI 3 description).

Every blueprint of the API is made by web/api/blueprint.py, which gives each the bearer-token check,
the request body rules and the map from engine errors to HTTP answers. The description is served at
/api/v1/openapi.json and an interactive page at /api/v1/docs (web/api/docs.py).
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api, Blueprint

from web.api import docs, errors
from web.security import csrf

API_TITLE = "budgetflow"
API_VERSION = "v1"
PREFIX = "/api/v1"
SECURITY_SCHEME = "bearerToken"


class BudgetflowApi(Api):  # type: ignore[misc]
    """flask-smorest's Api, documenting our error shape and leaving error answers to web/errors.py.

    flask-smorest would register its own handler for every HTTPException of the whole app (pages
    included) with a body of another shape; web/errors.py already answers JSON ``{code, message,
    details}`` under /api/ and a page elsewhere.
    """

    ERROR_SCHEMA = errors.ErrorSchema

    def _register_error_handlers(self) -> None:
        pass


def register(app: Flask) -> None:
    app.config.update(
        API_TITLE=API_TITLE, API_VERSION=API_VERSION, OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=PREFIX, OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {"description": "budgetflow's REST API: documents, tasks, budgets, processes and master data. "
                                    "Authenticate with 'Authorization: Bearer bft_...' (budgetflow tokens issue)."},
            "security": [{SECURITY_SCHEME: []}],
        },
    )
    api = BudgetflowApi(app)
    api.spec.components.security_scheme(SECURITY_SCHEME, {"type": "http", "scheme": "bearer",
                                                          "description": "an API token, bft_..."})
    for blueprint in _blueprints():
        csrf.exempt(blueprint)  # bearer tokens, no cookies: a forged cross-site request carries no credential
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.bp)


def _blueprints() -> list[Blueprint]:
    from web.api import attachments, budgets, documents, masterdata, processes, reconciliations, tasks

    return [documents.blp, attachments.blp, tasks.blp, budgets.blp, processes.blp, masterdata.blp,
            reconciliations.blp]
