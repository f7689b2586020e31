"""Every error becomes a clear answer with the right status: JSON ``{code, message, details}`` under
/api, a page elsewhere. Nothing reaches the person as a bare 500 with a traceback; an unexpected
exception is logged with its traceback and answered with a reference to that log line."""

from __future__ import annotations

import logging
import uuid

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from engine.persistence.db_errors import classify

log = logging.getLogger("budgetflow.web")
API_PREFIX = "/api/"


def wants_json() -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(status: int, code: str, message: str, details: object = None) -> ResponseReturnValue:
    if wants_json():
        return jsonify(code=code, message=message, details=details if details is not None else {}), status
    return render_template("error.html", status=status, code=code, message=message, details=details), status


def _http(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    code = (exc.name or "error").upper().replace(" ", "_").replace("'", "")
    details = getattr(exc, "data", None)  # flask-smorest puts field errors here
    message = exc.description or exc.name
    response = error_response(status, code, message, details.get("messages") if isinstance(details, dict) else None)
    if status == 405 and exc.get_response().headers.get("Allow"):
        body, status_ = response  # type: ignore[misc]
        return body, status_, {"Allow": exc.get_response().headers["Allow"]}
    return response


def _csrf(exc: CSRFError) -> ResponseReturnValue:
    return error_response(400, "CSRF_FAILED", _("The form expired or did not come from this site (%(why)s). "
                                                "Go back, reload the page and send it again.", why=exc.description))


def _unexpected(exc: Exception) -> ResponseReturnValue:
    if isinstance(exc, HTTPException) and not isinstance(exc, InternalServerError):
        return _http(exc)
    reference = uuid.uuid4().hex[:12]
    problem = classify(exc)
    if problem is not None and problem.transient:  # locked, restarting, unreachable: the transaction rolled back
        log.warning("database unavailable %s on %s %s: %s", reference, request.method, request.path, problem.message)
        body, status = error_response(503, "DATABASE_BUSY", _(
            "The database is busy or unreachable (reference %(ref)s); nothing was saved. Try again in a moment.",
            ref=reference))  # type: ignore[misc]
        return body, status, {"Retry-After": "5"}
    log.exception("unexpected error %s on %s %s", reference, request.method, request.path)
    return error_response(500, "INTERNAL", _("Something went wrong on our side (reference %(ref)s). Tell your "
                                             "administrator the reference.", ref=reference))


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(Exception, _unexpected)
