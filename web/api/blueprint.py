"""Every blueprint of the API is made here, with what each of them needs before any view runs: the
bearer-token check, the request body rules (size, type) and the one map from engine errors to answers."""

from __future__ import annotations

from flask_smorest import Blueprint

from web.api import auth, bodies, errors


def api_blueprint(name: str, import_name: str, *, url_prefix: str, description: str) -> Blueprint:
    blueprint = Blueprint(name, import_name, url_prefix=url_prefix, description=description)
    blueprint.before_request(auth.authenticate)
    blueprint.before_request(bodies.check_body)
    errors.install(blueprint)
    return blueprint


MAX_ID = 2**63 - 1  # ids are 64-bit in every database; a larger number names nothing (404), never an overflow


def id_in_path(name: str) -> str:
    """A URL rule part for a numeric id: ``<int(min=1, max=...):name>``."""
    return f"<int(min=1, max={MAX_ID}):{name}>"
