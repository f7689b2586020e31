"""What a request handler reaches: the engine's container and the signed-in person."""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app, g
from flask_login import current_user

from engine.bootstrap import Container
from engine.domain.identity import Principal
from engine.oa_settings import OaConnection

EXTENSION = "budgetflow"
OA_CONNECTIONS = "budgetflow.oa_connections"  # the OA settings, read once when the app is made


def container() -> Container:
    """The engine wiring this app was made with (one per process; it holds no per-user state)."""
    found: Container = current_app.extensions[EXTENSION]
    return found


def oa_connections() -> Mapping[str, OaConnection]:
    """The OA suites configured here, by vendor (empty when none is)."""
    found: Mapping[str, OaConnection] = current_app.extensions.get(OA_CONNECTIONS, {})
    return found


def principal() -> Principal | None:
    """Who is acting: the API's bearer token holder, else the signed-in browser user, else None."""
    api_principal: Principal | None = g.get("api_principal")
    if api_principal is not None:
        return api_principal
    if current_user.is_authenticated:
        found: Principal = current_user.principal
        return found
    return None
