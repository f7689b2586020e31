"""Who is acting: a person as the web app and the API see them, with the roles they act under."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = frozenset({"employee", "manager", "finance", "budget_admin", "auditor", "admin", "process_designer"})


@dataclass(frozen=True)
class Principal:
    """An active employee signed in (by password, SSO or an API token).

    ``roles`` are the roles this sign-in may use: all of the employee's roles for a person, only a
    token's scopes (still held by the employee) for an API token. ``token_id`` names that token.
    """

    code: str
    name: str
    roles: frozenset[str]
    org_unit: str | None
    email: str | None
    token_id: int | None = None

    def has(self, *roles: str) -> bool:
        """Whether this principal holds any one of ``roles``."""
        return any(role in self.roles for role in roles)
