"""The API's one map from engine exceptions to HTTP answers (every blueprint of the API uses it).

An engine error carries a stable ``code`` (engine/domain/errors.py and its subclasses); the status
follows from it here and nowhere else. Details name what was wrong and where: a form's problems, a
diagram's ``file:element: message`` lines, a data dictionary's ``file:row:column: message`` lines.
HTTP errors themselves (404 for an unknown path, 405, 413, webargs' 400/422) are answered by
web/errors.py, which already speaks JSON under /api/.
"""

from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
from flask import Blueprint
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import UnprocessableEntity

from engine.domain.errors import BudgetflowError
from web.errors import error_response

log = logging.getLogger("budgetflow.web.api")

# The status of each engine error code; a code not listed is a request the rules refuse (422).
STATUS_BY_CODE: dict[str, int] = {
    "NOT_ALLOWED": 403,
    "UNKNOWN_INSTANCE": 404,
    "UNKNOWN_BUDGET_LINE": 404,
    "UNKNOWN_RESERVATION": 404,
    "DUPLICATE_DOCUMENT": 409,
    "BUDGET_INSUFFICIENT": 409,
    "IDEMPOTENCY_CONFLICT": 409,
    "RESERVATION_CLOSED": 409,
    "TASK_NOT_READY": 409,
    "OWNERSHIP_MISMATCH": 409,
    # The engine could not run the step (a script or connector error the diagram does not model): the
    # document is now in incident for an administrator, the request itself was in order.
    "STEP_FAILED": 409,
}
REFUSED = 422


class ErrorSchema(ma.Schema):
    """What every error answer of the API looks like (documented once, for every operation)."""

    code = ma.fields.String(required=True, metadata={"description": "stable machine-readable code"})
    message = ma.fields.String(required=True, metadata={"description": "what is wrong and where, for a person"})
    details = ma.fields.Raw(metadata={"description": "per-field problems or other particulars"})


def _details(exc: BudgetflowError) -> dict[str, Any]:
    found: dict[str, Any] = {k: v if isinstance(v, list | int | bool) else str(v) for k, v in exc.details.items()}
    problems = getattr(exc, "problems", None)
    if isinstance(problems, list):
        found["problems"] = [str(p) for p in problems]
    return found


def engine_error(exc: BudgetflowError) -> ResponseReturnValue:
    status = STATUS_BY_CODE.get(exc.code, REFUSED)
    if exc.code == "STEP_FAILED":
        log.warning("API request stopped by a failed step: %s", exc)
    message = str(exc)
    if getattr(exc, "problems", None) and "\n" in message:  # the lines are in details.problems
        message = message.splitlines()[0].rstrip(":") + "; details.problems lists them"
    return error_response(status, exc.code, message, _details(exc))


def bad_query(exc: ValueError) -> ResponseReturnValue:
    """The read models refuse a malformed cursor, an unknown view or sort with ValueError and a clear message."""
    return error_response(400, "BAD_REQUEST", str(exc) or "the request's parameters are not valid")


def invalid_input(exc: ma.ValidationError) -> ResponseReturnValue:
    """A body the view loads itself (an upload that is JSON or a zip) failed its schema."""
    return error_response(422, "UNPROCESSABLE_ENTITY", "the request body is not valid", {"json": exc.messages})


def invalid_fields(exc: UnprocessableEntity) -> ResponseReturnValue:
    """webargs refused the query or the body against its schema: each field's problem, by where it was."""
    data = getattr(exc, "data", None)
    messages = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(messages, dict):  # raised by a view with its own message
        return error_response(422, "UNPROCESSABLE_ENTITY", exc.description or "the request cannot be done")
    return error_response(422, "UNPROCESSABLE_ENTITY", "some fields are missing or not valid; details names each",
                          messages)


def install(blueprint: Blueprint) -> None:
    blueprint.register_error_handler(UnprocessableEntity, invalid_fields)
    blueprint.register_error_handler(BudgetflowError, engine_error)
    blueprint.register_error_handler(ValueError, bad_query)
    blueprint.register_error_handler(ma.ValidationError, invalid_input)
