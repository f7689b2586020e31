"""Who may open an admin page, and how an engine refusal reads: checked before anything is read or changed.

The budget and process pages share these two helpers; the engine's own rules still run inside
every service, so a page that forgets a check is refused there too (403, nothing changed).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.exceptions import Forbidden, Unauthorized

from engine.domain.errors import BudgetflowError
from engine.domain.identity import Principal
from engine.services.steps import NotAllowed
from web.context import principal
from web.errors import error_response

View = TypeVar("View", bound=Callable[..., ResponseReturnValue])


def current() -> Principal:
    """The signed-in person (``login_required`` has run; a person disabled meanwhile is signed out)."""
    found = principal()
    if found is None:
        raise Unauthorized()
    return found


def roles_required(*roles: str) -> Callable[[View], View]:
    """Signed in and holding one of ``roles``, else 403 before the view runs."""

    def decorate(view: View) -> View:
        @wraps(view)
        @login_required
        def guarded(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            if not current().has(*roles):
                raise Forbidden(_("This page is for these roles only: %(roles)s.", roles=", ".join(roles)))
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate


def refusal(exc: BudgetflowError) -> ResponseReturnValue:
    """An engine refusal as a page: who-may-do-what is 403, an unknown thing 404, anything else 422."""
    status = 403 if isinstance(exc, NotAllowed) else 404 if isinstance(exc, LookupError) else 422
    return error_response(status, exc.code, str(exc))
