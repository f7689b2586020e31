"""Local passwords, who a signed-in person is, and SSO links (engine/services/accounts.py)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from engine.domain.errors import PasswordRejected, UnknownEmployee
from engine.persistence.audit_table import AuditLog
from engine.persistence.web_tables import LoginAccount
from engine.services import accounts
from engine.services.steps import NotAllowed
from tests.web_engine.conftest import deactivate

SECRET = "correct horse battery"


def audit_text(app) -> str:
    with app.engine.connect() as conn:
        return "\n".join(f"{a} {s} {p}" for a, s, p in conn.execute(
            select(AuditLog.action, AuditLog.subject_id, AuditLog.payload)))


def stored_hash(app, code):
    with app.engine.connect() as conn:
        return conn.execute(select(LoginAccount.password_hash).where(LoginAccount.employee_code == code)).scalar()


def test_a_password_signs_in_by_code_in_any_case_or_by_email(company):
    accounts.set_password(company.uow, employee="E0017", password=SECRET, by="E0015")
    for login in ("E0017", "e0017", " hepeng@qinghe.example ", "HePeng@Qinghe.Example"):
        who = accounts.authenticate(company.uow, login=login, password=SECRET)
        assert who is not None and who.code == "E0017", login
    assert who.name == "何鹏" and who.org_unit == "SALES-N" and who.roles == frozenset({"employee"})
    assert accounts.authenticate(company.uow, login="E0017", password=SECRET + "!") is None
    assert accounts.authenticate(company.uow, login="E0099", password=SECRET) is None
    assert accounts.authenticate(company.uow, login="", password=SECRET) is None
    text = audit_text(company)
    assert "account.password_set E0017" in text and "auth.signed_in E0017" in text and "auth.refused" in text
    assert SECRET not in text and stored_hash(company, "E0017") not in text


def test_weak_passwords_are_refused_and_nothing_is_stored(company):
    for bad, why in (("short1234", "at least 10"), ("aaaaaaaaaaaa", "different characters"),
                     ("my-E0017-password", "employee code"), ("x" * 300, "at most 256")):
        with pytest.raises(PasswordRejected, match=why):
            accounts.set_password(company.uow, employee="E0017", password=bad, by="E0017")
    assert stored_hash(company, "E0017") is None


def test_only_active_employees_get_a_password(company):
    for who in ("E0025", "E9999"):  # inactive, unknown
        with pytest.raises(UnknownEmployee, match=who):
            accounts.set_password(company.uow, employee=who, password=SECRET, by="E0015")
    assert stored_hash(company, "E0025") is None


def test_a_disabled_employee_is_out_at_once(company):
    accounts.set_password(company.uow, employee="E0019", password=SECRET, by="E0015")
    assert accounts.principal(company.reader, "E0019") is not None
    deactivate(company, "E0019")
    assert accounts.principal(company.reader, "E0019") is None
    assert accounts.authenticate(company.uow, login="E0019", password=SECRET) is None


def test_unknown_logins_cost_one_hash_verification_like_known_ones(company, monkeypatch):
    accounts.set_password(company.uow, employee="E0017", password=SECRET, by="E0017")
    calls = []

    class Counting(PasswordHasher):
        def verify(self, hash, password):
            calls.append(hash)
            return super().verify(hash, password)

    monkeypatch.setattr(accounts, "_HASHER", Counting())
    for login in ("E0017", "E0018", "nobody@nowhere", "E0025"):  # password, no account, unknown, inactive
        accounts.authenticate(company.uow, login=login, password="wrong password 1")
    assert len(calls) == 4
    assert calls[1] == calls[2] == calls[3] != calls[0]


def test_a_hash_made_with_weaker_parameters_is_replaced_at_sign_in(company):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(SECRET)
    accounts.set_password(company.uow, employee="E0017", password="placeholder password", by="E0017")
    with company.engine.begin() as conn:
        conn.execute(update(LoginAccount).where(LoginAccount.employee_code == "E0017").values(password_hash=weak))
    assert accounts.authenticate(company.uow, login="E0017", password=SECRET) is not None
    renewed = stored_hash(company, "E0017")
    assert renewed != weak and not PasswordHasher().check_needs_rehash(renewed)
    assert accounts.authenticate(company.uow, login="E0017", password=SECRET) is not None


def test_principal_carries_every_role(company):
    who = accounts.principal(company.reader, "E0009")
    assert who.roles == frozenset({"employee", "manager", "finance"})
    assert who.has("finance", "admin") and not who.has("admin", "auditor")
    assert accounts.principal(company.reader, "E9999") is None
    assert accounts.principal(company.reader, "E0025") is None


def test_an_sso_user_maps_onto_one_employee(company):
    accounts.link_external(company.uow, provider="dingtalk", subject="dt_hepeng", employee="E0017", by="system")
    accounts.link_external(company.uow, provider="dingtalk", subject="dt_hepeng", employee="E0017", by="system")
    assert accounts.principal_for_external(company.reader, provider="dingtalk", subject="dt_hepeng").code == "E0017"
    assert accounts.principal_for_external(company.reader, provider="wecom", subject="dt_hepeng") is None
    with pytest.raises(NotAllowed, match="already linked to E0017"):
        accounts.link_external(company.uow, provider="dingtalk", subject="dt_hepeng", employee="E0018", by="system")
    with pytest.raises(NotAllowed, match="provider"):
        accounts.link_external(company.uow, provider="Ding Talk", subject="x", employee="E0018", by="system")
    deactivate(company, "E0017")
    assert accounts.principal_for_external(company.reader, provider="dingtalk", subject="dt_hepeng") is None


def test_an_oa_user_signs_in_as_the_employee_whose_oa_id_master_data_gives(company):
    assert accounts.principal_for_external(company.reader, provider="wecom", subject="Hepeng").code == "E0017"
    assert accounts.principal_for_external(company.reader, provider="feishu",
                                           subject="ou_4cd0efb6ba3520b2642bbf4f141c7b71").code == "E0017"
    assert accounts.principal_for_external(company.reader, provider="feishu", subject="Hepeng") is None
    assert accounts.principal_for_external(company.reader, provider="wecom", subject="hepeng") is None  # exact ids
    assert accounts.principal_for_external(company.reader, provider="github", subject="Hepeng") is None
    deactivate(company, "E0017")
    assert accounts.principal_for_external(company.reader, provider="wecom", subject="Hepeng") is None


def test_demo_logins_are_seeded_once_for_active_employees(company):
    first = accounts.seed_demo_accounts(company.uow, password="demo-password-2026", by="demo")
    assert "E0017" in first and "E0025" not in first and len(first) == 24
    assert accounts.seed_demo_accounts(company.uow, password="other-password-2026", by="demo") == []
    assert accounts.authenticate(company.uow, login="E0013", password="demo-password-2026").has("budget_admin")
    with pytest.raises(PasswordRejected):
        accounts.seed_demo_accounts(company.uow, password="short", by="demo")
