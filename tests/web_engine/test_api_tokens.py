"""Bearer API tokens: hashed, scoped by the roles the employee still holds, revocable (api_tokens.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from engine.domain.errors import TokenRejected
from engine.persistence.audit_table import AuditLog
from engine.persistence.tables import Employee, EmployeeRole
from engine.persistence.types import utcnow
from engine.persistence.web_tables import ApiToken
from engine.services import accounts
from engine.services.steps import NotAllowed
from tests.web_engine.conftest import deactivate


def test_a_token_acts_with_its_scopes_only(company):
    token_id, secret = accounts.issue_token(company.uow, employee="E0009", label="ERP sync", scopes=["finance"],
                                            by="E0009")
    assert secret.startswith("bft_") and len(secret) >= 40
    who = accounts.principal_for_token(company.reader, secret)
    assert who.code == "E0009" and who.roles == frozenset({"finance"}) and who.token_id == token_id
    with company.engine.connect() as conn:
        stored = conn.execute(select(ApiToken.token_hash)).scalar()
        audit = " ".join(conn.execute(select(AuditLog.payload)).scalars())
    assert secret not in stored and secret not in audit and len(stored) == 64


def test_scopes_must_be_roles_the_employee_holds_and_the_refusal_is_audited(company):
    with pytest.raises(NotAllowed, match="does not hold role.* admin"):
        accounts.issue_token(company.uow, employee="E0009", label="x", scopes=["finance", "admin"], by="E0009")
    with company.engine.connect() as conn:
        assert conn.execute(select(ApiToken.id)).first() is None
        assert "access.refused" in conn.execute(select(AuditLog.action)).scalars().all()


@pytest.mark.parametrize(("label", "scopes", "field"), [
    ("", ["finance"], "label"), ("x" * 101, ["finance"], "label"), ("ok", [], "scopes"), ("ok", "finance", "scopes")])
def test_malformed_requests_name_the_field(company, label, scopes, field):
    with pytest.raises(TokenRejected, match=field):
        accounts.issue_token(company.uow, employee="E0009", label=label, scopes=scopes, by="E0009")


def test_only_the_employee_or_an_admin_issues_and_revokes(company):
    with pytest.raises(NotAllowed, match="only they or an admin"):
        accounts.issue_token(company.uow, employee="E0009", label="x", scopes=["finance"], by="E0011")
    token_id, secret = accounts.issue_token(company.uow, employee="E0009", label="x", scopes=["finance"],
                                            by="E0015")  # E0015 is an admin
    with pytest.raises(NotAllowed, match="may not revoke"):
        accounts.revoke_token(company.uow, token_id=token_id, by="E0011")
    accounts.revoke_token(company.uow, token_id=token_id, by="E0009")
    assert accounts.principal_for_token(company.reader, secret) is None
    with pytest.raises(NotAllowed, match="already revoked"):
        accounts.revoke_token(company.uow, token_id=token_id, by="E0015")
    with pytest.raises(NotAllowed, match="no API token"):
        accounts.revoke_token(company.uow, token_id=999, by="E0015")


def test_expired_tokens_disabled_people_and_lost_roles_count_at_once(company):
    _, secret = accounts.issue_token(company.uow, employee="E0009", label="x", scopes=["finance", "manager"],
                                     by="E0009", expires_at=utcnow() + timedelta(days=1))
    with company.engine.begin() as conn:  # finance is taken away from E0009
        conn.execute(delete(EmployeeRole).where(
            EmployeeRole.role_code == "finance",
            EmployeeRole.employee_id == select(Employee.id).where(Employee.code == "E0009").scalar_subquery()))
    assert accounts.principal_for_token(company.reader, secret).roles == frozenset({"manager"})
    with company.engine.begin() as conn:
        conn.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert accounts.principal_for_token(company.reader, secret) is None
    with company.engine.begin() as conn:
        conn.execute(update(ApiToken).values(expires_at=None))
    assert accounts.principal_for_token(company.reader, secret) is not None
    deactivate(company, "E0009")
    assert accounts.principal_for_token(company.reader, secret) is None


def test_a_past_expiry_is_refused(company):
    with pytest.raises(TokenRejected, match="expires_at"):
        accounts.issue_token(company.uow, employee="E0009", label="x", scopes=["finance"], by="E0009",
                             expires_at=utcnow() - timedelta(minutes=1))


@pytest.mark.parametrize("secret", ["", "bft_", "bft_nosuchtoken", "Bearer bft_x", "x" * 500, None, 42])
def test_anything_but_a_live_secret_is_nobody(company, secret):
    assert accounts.principal_for_token(company.reader, secret) is None


def test_listing_shows_tokens_without_their_secret_or_hash(company):
    first, _ = accounts.issue_token(company.uow, employee="E0009", label="one", scopes=["finance"], by="E0009")
    accounts.issue_token(company.uow, employee="E0013", label="two", scopes=["budget_admin"], by="E0013")
    accounts.note_token_use(company.uow, token_id=first)
    mine = accounts.list_tokens(company.reader, "E0009")
    assert [t["label"] for t in mine] == ["one"] and mine[0]["last_used_at"] is not None
    assert "token_hash" not in mine[0] and mine[0]["scopes"] == ["finance"]
    assert [t["label"] for t in accounts.list_tokens(company.reader, None)] == ["one", "two"]
