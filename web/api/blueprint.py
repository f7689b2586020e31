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
