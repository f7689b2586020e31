"""Bearer API tokens for system-to-system calls, scoped by role.

The secret (``bft_`` + 43 URL-safe characters, 256 bits) is shown once, when issued; only its SHA-256 is
stored, so a database dump holds no usable token. A token acts with its scopes that the employee still
holds: a role taken away, an employee disabled, a revoked or expired token counts at the next call.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

from engine.domain.errors import TokenRejected
from engine.domain.identity import Principal
from engine.persistence.types import utcnow
from engine.services.people import active_person, as_principal
from engine.services.ports import UnitOfWorkFactory
from engine.services.steps import NotAllowed, audited, is_admin

PREFIX = "bft_"
MAX_LABEL = 100
MAX_SECRET = 200


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _checked_request(label: object, scopes: object, expires_at: datetime | None) -> tuple[str, list[str]]:
    if not isinstance(label, str) or not 0 < len(label.strip()) <= MAX_LABEL:
        raise TokenRejected(f"label: say what the token is for, 1 to {MAX_LABEL} characters", field="label")
    if not isinstance(scopes, list | tuple) or not scopes or not all(isinstance(s, str) for s in scopes):
        raise TokenRejected("scopes: a non-empty list of role codes the token may act with", field="scopes")
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= utcnow()):
        raise TokenRejected("expires_at: a UTC time in the future (or none)", field="expires_at")
    return label.strip(), sorted(set(scopes))


def issue_token(uow_factory: UnitOfWorkFactory, *, employee: str, label: str, scopes: list[str], by: str,
                expires_at: datetime | None = None) -> tuple[int, str]:
    """A new token for ``employee`` acting with ``scopes`` (roles they hold); returns (id, secret).

    ``by`` is the employee themselves or an admin. The secret is returned here only.
    """
    label, wanted = _checked_request(label, scopes, expires_at)
    with audited(uow_factory, actor=by, subject=f"api token for {employee}"), uow_factory() as uow:
        person = active_person(uow, employee)
        if by != employee and not is_admin(uow, by):
            raise NotAllowed(f"{by} may not issue tokens for {employee}: only they or an admin may")
        missing = [s for s in wanted if s not in person["roles"]]
        if missing:
            raise NotAllowed(f"scopes: {employee} does not hold role(s) {', '.join(missing)}")
        secret = PREFIX + secrets.token_urlsafe(32)
        token_id = uow.accounts.add_token(token_hash=_digest(secret), employee=employee, label=label,
                                          scopes=wanted, by=by, expires_at=expires_at)
        uow.record(actor=by, action="token.issued", subject_type="employee", subject_id=employee,
                   payload={"token": token_id, "label": label, "scopes": wanted,
                            "expires_at": expires_at.isoformat() if expires_at else None})
        uow.commit()
    return token_id, secret


def principal_for_token(reader: UnitOfWorkFactory, secret: str) -> Principal | None:
    """Who a bearer secret acts as: roles = its scopes the employee still holds; None if it is not valid now."""
    if not isinstance(secret, str) or not secret.startswith(PREFIX) or len(secret) > MAX_SECRET:
        return None
    digest = _digest(secret)
    with reader() as uow:
        token = uow.accounts.token_by_hash(digest)
        # Found by its hash; the constant-time comparison keeps the final check free of timing differences.
        if token is None or not hmac.compare_digest(str(token["token_hash"]), digest):
            return None
        if token["revoked_at"] is not None or (token["expires_at"] is not None and token["expires_at"] <= utcnow()):
            return None
        person = uow.accounts.identity(token["employee"])
    if person is None or not person["active"]:
        return None
    return as_principal(person, roles=frozenset(token["scopes"]) & frozenset(person["roles"]), token_id=token["id"])


def note_token_use(uow_factory: UnitOfWorkFactory, *, token_id: int, at: datetime | None = None) -> None:
    """Record when a token was last used (the web may call it at most once a minute per token)."""
    with uow_factory() as uow:
        uow.accounts.touch_token(token_id, at or utcnow())
        uow.commit()


def revoke_token(uow_factory: UnitOfWorkFactory, *, token_id: int, by: str) -> None:
    """Revoke a token at once; ``by`` is its employee or an admin. Revoking it again is refused."""
    with audited(uow_factory, actor=by, subject=f"api token {token_id}"), uow_factory() as uow:
        token = uow.accounts.token(token_id)
        if token is None:
            raise NotAllowed(f"there is no API token {token_id}")
        if by != token["employee"] and not is_admin(uow, by):
            raise NotAllowed(f"{by} may not revoke token {token_id}: only {token['employee']} or an admin may")
        if not uow.accounts.revoke_token(token_id):
            raise NotAllowed(f"API token {token_id} is already revoked")
        uow.record(actor=by, action="token.revoked", subject_type="employee", subject_id=token["employee"],
                   payload={"token": token_id})
        uow.commit()


def list_tokens(reader: UnitOfWorkFactory, employee: str | None) -> list[dict[str, Any]]:
    """Tokens (of ``employee``, or everyone's), oldest first: id, employee, label, scopes, times; never a secret."""
    with reader() as uow:
        tokens = uow.accounts.tokens(employee)
    return [{k: v for k, v in t.items() if k != "token_hash"} for t in tokens]
