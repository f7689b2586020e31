"""An employee's record as a signed-in ``Principal``: shared by passwords, SSO links and API tokens."""

from __future__ import annotations

from typing import Any

from engine.domain.errors import UnknownEmployee
from engine.domain.identity import Principal
from engine.services.ports import UnitOfWork


def active_person(uow: UnitOfWork, employee: object) -> dict[str, Any]:
    """The record of active employee ``employee``; UnknownEmployee otherwise."""
    person = uow.accounts.identity(employee) if isinstance(employee, str) else None
    if person is None or not person["active"]:
        raise UnknownEmployee(f"employee {employee!r}: no active employee has this code", field="employee")
    return person


def as_principal(person: dict[str, Any], roles: frozenset[str] | None = None, token_id: int | None = None
                 ) -> Principal:
    """``person`` signed in with all their roles, or only ``roles`` (a token's scopes they still hold)."""
    return Principal(code=person["code"], name=person["name"], org_unit=person["org_unit"], email=person["email"],
                     roles=frozenset(person["roles"]) if roles is None else roles, token_id=token_id)
