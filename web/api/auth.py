"""Bearer tokens: who calls the API, with which roles, and the checks every call passes first.

Only ``Authorization: Bearer bft_...`` counts: a session cookie is never read here, so a page in the
browser cannot be tricked into calling the API for someone (which is why the API needs no CSRF token).
A token acts with its scopes that the employee still holds (engine.services.accounts); every endpoint
names the roles it needs, and on tasks and documents the engine's rule then decides by the person.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, after_this_request, g, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import Forbidden

from engine.domain.identity import Principal
from engine.services import accounts
from web.context import container
from web.errors import error_response

log = logging.getLogger("budgetflow.web.api")
REALM = 'Bearer realm="budgetflow"'
TOUCH_EVERY_SECONDS = 60.0  # a token's last use is written at most once a minute per process

F = TypeVar("F", bound=Callable[..., Any])


class _LastUse:
    """When this process last recorded each token's use: one write a minute, not one per call. Keyed by a
    digest of the secret (not the id, which another database of the same process may give another token)."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def due(self, secret: str) -> bool:
        key, now = hashlib.sha256(secret.encode()).hexdigest(), time.monotonic()
        with self._lock:
            if now - self._seen.get(key, -TOUCH_EVERY_SECONDS) < TOUCH_EVERY_SECONDS:
                return False
            if len(self._seen) > 10_000:  # forget old entries rather than grow without bound
                self._seen = {k: t for k, t in self._seen.items() if now - t < TOUCH_EVERY_SECONDS}
            self._seen[key] = now
            return True


_LAST_USE = _LastUse()


def _unauthorized(message: str, *, invalid: bool) -> ResponseReturnValue:
    body, status = error_response(401, "UNAUTHORIZED", message)  # type: ignore[misc]
    challenge = f'{REALM}, error="invalid_token"' if invalid else REALM
    return body, status, {"WWW-Authenticate": challenge}


def authenticate() -> ResponseReturnValue | None:
    """Run before every API view: a valid bearer token, else 401; sets ``g.api_principal``."""
    scheme, _sep, secret = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return _unauthorized("send an API token: 'Authorization: Bearer bft_...' (budgetflow tokens issue)",
                             invalid=False)
    secret = secret.strip()
    found = accounts.principal_for_token(container().reader, secret)
    if found is None:
        return _unauthorized("the API token is unknown, revoked or expired, or its employee is no longer active",
                             invalid=True)
    g.api_principal = found
    if found.token_id is not None and _LAST_USE.due(secret):
        _touch_after_response(found.token_id)
    return None


def _touch_after_response(token_id: int) -> None:
    """Record the token's use once the answer is sent: a write the caller never waits for."""
    engine = container()

    def touch() -> None:  # bookkeeping only: a failure is logged, never the call's
        try:
            accounts.note_token_use(engine.uow, token_id=token_id)
        except Exception:  # noqa: BLE001
            log.warning("could not record the use of API token %s", token_id, exc_info=True)

    @after_this_request
    def later(response: Response) -> Response:
        response.call_on_close(touch)
        return response


def current() -> Principal:
    """The token's principal (set by ``authenticate``, which every API view runs after)."""
    found: Principal = g.api_principal
    return found


def require(*roles: str) -> Principal:
    """The caller, if their token acts with one of ``roles``; else 403 (nothing is done)."""
    who = current()
    if not who.has(*roles):
        raise Forbidden(f"this needs a token with one of the roles {', '.join(roles)}; "
                        f"this token acts with {', '.join(sorted(who.roles)) or 'no role'}")
    return who


def roles(*allowed: str) -> Callable[[F], F]:
    """A view decorator: ``require(*allowed)`` before the view runs (and its body is parsed)."""
    def wrap(view: F) -> F:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            require(*allowed)
            return view(*args, **kwargs)
        checked.__doc__ = f"{inspect.cleandoc(view.__doc__ or '')}\n\nRoles: {', '.join(allowed)}."
        return checked  # type: ignore[return-value]
    return wrap
