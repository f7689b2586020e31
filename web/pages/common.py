"""What every page needs: who is acting, a role check, and the engine's refusals as answers.

The engine decides who may see and do what (its read models return None for what the viewer may
not see; its services raise ``NotAllowed``). A page never decides that on its own; it only turns
those answers into statuses: not visible or not allowed → 403, a refused form → 422 (the page shows
the problems), another refusal → 409 or 422 with the engine's message. Nothing is changed by a
refused request: the engine rolled its transaction back.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from engine.domain.errors import BudgetflowError, DocumentExists
from engine.domain.forms import FormInvalid
from engine.domain.identity import Principal
from engine.services.ports import UnitOfWorkFactory
from engine.services.steps import NotAllowed
from engine.workflow.errors import StepFailed, TaskNotReady
from web.context import container, principal
from web.errors import error_response

F = TypeVar("F", bound=Callable[..., Any])
CONFLICTS = (DocumentExists, TaskNotReady)  # the state moved on under the person: reload and look again


def me() -> Principal:
    """The signed-in person (pages are behind ``login_required``; a lost session is a 401)."""
    found = principal()
    if found is None:
        abort(401)
    return found


def reader() -> UnitOfWorkFactory:
    return container().reader


def writer() -> UnitOfWorkFactory:
    return container().uow


def page(*roles: str) -> Callable[[F], F]:
    """A signed-in page for people holding any of ``roles`` (no roles: every signed-in employee)."""
    def decorate(view: F) -> F:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if roles and not me().has(*roles):
                return forbidden()
            return view(*args, **kwargs)
        return login_required(checked)  # type: ignore[return-value]
    return decorate


def forbidden(message: str | None = None) -> ResponseReturnValue:
    return error_response(403, "FORBIDDEN", message or _(
        "You may not see this or do this now. If you think you should, ask the person who sent you the link "
        "or your administrator."))


def not_visible() -> ResponseReturnValue:
    return forbidden(_("There is no such item, or it is not yours to see."))


def refused(exc: BudgetflowError) -> ResponseReturnValue:
    """The engine's refusal as an answer; the message is the engine's (it names what and where)."""
    if isinstance(exc, NotAllowed):
        return error_response(403, exc.code, str(exc))
    if isinstance(exc, FormInvalid):
        return error_response(422, exc.code, _("The form was refused."), exc.problems)
    if isinstance(exc, StepFailed):
        return error_response(409, exc.code, _("The process stopped on an error (%(what)s); it is listed for an "
                                                "administrator to fix. Nothing you sent was kept.", what=str(exc)))
    status = 409 if isinstance(exc, CONFLICTS) else 422
    return error_response(status, exc.code, str(exc))


def bad_request(message: str) -> ResponseReturnValue:
    return error_response(400, "BAD_REQUEST", message)
