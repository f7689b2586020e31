"""Sign-in records: who an employee is (name, unit, roles), password hashes, SSO links and API tokens."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update

from engine.persistence.tables import Employee, EmployeeRole, OrgUnit
from engine.persistence.types import utcnow
from engine.persistence.web_tables import ApiToken, ExternalIdentity, LoginAccount

_emp = Employee.__table__
_role = EmployeeRole.__table__
_unit = OrgUnit.__table__
_acct = LoginAccount.__table__
_ext = ExternalIdentity.__table__
_tok = ApiToken.__table__
# An OA suite's user id in master data (the data dictionary's employee columns) signs its user in.
_OA_ID_COLUMNS = {"dingtalk": _emp.c.dingtalk_userid, "wecom": _emp.c.wecom_userid, "feishu": _emp.c.feishu_open_id}


class SqlAccountRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- people
    def identity(self, code: str) -> dict[str, Any] | None:
        """``code``, ``name``, ``email``, ``org_unit``, ``active`` and ``roles`` of employee ``code``."""
        row = self.conn.execute(select(_emp.c.id, _emp.c.code, _emp.c.name, _emp.c.email, _unit.c.code, _emp.c.active)
                                .outerjoin(_unit, _unit.c.id == _emp.c.org_unit_id)
                                .where(_emp.c.code == code)).first()
        if row is None:
            return None
        roles = self.conn.execute(select(_role.c.role_code).where(_role.c.employee_id == row[0])).scalars()
        return dict(code=row[1], name=row[2], email=row[3], org_unit=row[4], active=bool(row[5]),
                    roles=sorted(roles))

    def find_login(self, login: str) -> str | None:
        """The employee whose code (any case) or email is ``login``; None if none or the email is ambiguous."""
        code = self.conn.execute(select(_emp.c.code).where(
            or_(_emp.c.code == login, _emp.c.code == login.upper()))).scalar()
        if code is None:
            code = self.conn.execute(select(_emp.c.code).where(func.lower(_emp.c.code) == login.lower())).scalar()
        if code is not None:
            return str(code)
        found = self.conn.execute(select(_emp.c.code).where(func.lower(_emp.c.email) == login.lower())
                                  .limit(2)).scalars().all()
        return str(found[0]) if len(found) == 1 else None

    def active_employees(self) -> list[str]:
        return [str(c) for c in self.conn.execute(
            select(_emp.c.code).where(_emp.c.active.is_(True)).order_by(_emp.c.code)).scalars()]

    # -- passwords
    def password_hash(self, code: str) -> str | None:
        return self.conn.execute(select(_acct.c.password_hash).where(_acct.c.employee_code == code)).scalar()

    def with_password(self) -> set[str]:
        return {str(c) for c in self.conn.execute(select(_acct.c.employee_code)).scalars()}

    def store_password_hash(self, code: str, password_hash: str) -> None:
        now = utcnow()
        changed = self.conn.execute(update(_acct).where(_acct.c.employee_code == code).values(
            password_hash=password_hash, password_changed_at=now)).rowcount
        if not changed:
            self.conn.execute(insert(_acct).values(employee_code=code, password_hash=password_hash,
                                                   password_changed_at=now, created_at=now))

    def rehash_password(self, code: str, old_hash: str, new_hash: str) -> None:
        """Replace the hash only if it is still ``old_hash`` (a password set meanwhile wins)."""
        self.conn.execute(update(_acct).where(_acct.c.employee_code == code, _acct.c.password_hash == old_hash)
                          .values(password_hash=new_hash))

    # -- single sign-on
    def external_employee(self, provider: str, subject: str) -> str | None:
        """A link made for this identity, else (for an OA suite) the employee whose OA id in master data it is."""
        linked = self.conn.execute(select(_ext.c.employee_code).where(
            _ext.c.provider == provider, _ext.c.subject == subject)).scalar()
        column = _OA_ID_COLUMNS.get(provider)
        if linked is not None or column is None:
            return None if linked is None else str(linked)
        found = self.conn.execute(select(_emp.c.code).where(column == subject)).scalar()
        return None if found is None else str(found)

    def add_external(self, provider: str, subject: str, employee: str) -> None:
        self.conn.execute(insert(_ext).values(provider=provider, subject=subject, employee_code=employee,
                                              created_at=utcnow()))

    # -- API tokens
    def add_token(self, *, token_hash: str, employee: str, label: str, scopes: list[str], by: str,
                  expires_at: datetime | None) -> int:
        return int(self.conn.execute(insert(_tok).values(
            token_hash=token_hash, employee_code=employee, label=label, scopes=json.dumps(scopes),
            created_at=utcnow(), created_by=by, expires_at=expires_at).returning(_tok.c.id)).scalar_one())

    def token_by_hash(self, token_hash: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(_tok).where(_tok.c.token_hash == token_hash)).first()
        return None if row is None else _token(row._mapping)

    def token(self, token_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(select(_tok).where(_tok.c.id == token_id)).first()
        return None if row is None else _token(row._mapping)

    def revoke_token(self, token_id: int) -> bool:
        return bool(self.conn.execute(update(_tok).where(_tok.c.id == token_id, _tok.c.revoked_at.is_(None))
                                      .values(revoked_at=utcnow())).rowcount)

    def touch_token(self, token_id: int, at: datetime) -> None:
        self.conn.execute(update(_tok).where(_tok.c.id == token_id).values(last_used_at=at))

    def tokens(self, employee: str | None) -> list[dict[str, Any]]:
        stmt = select(_tok).order_by(_tok.c.id)
        if employee is not None:
            stmt = stmt.where(_tok.c.employee_code == employee)
        return [_token(r._mapping) for r in self.conn.execute(stmt)]


def _token(row: Any) -> dict[str, Any]:
    """A token's record; the stored hash stays in as ``token_hash`` for the caller's constant-time check."""
    return dict(id=row["id"], token_hash=row["token_hash"], employee=row["employee_code"], label=row["label"],
                scopes=list(json.loads(row["scopes"])), created_at=row["created_at"], created_by=row["created_by"],
                expires_at=row["expires_at"], revoked_at=row["revoked_at"], last_used_at=row["last_used_at"])
