"""Sign-in: local passwords (argon2), who a signed-in person is, SSO links; API tokens live in api_tokens.py.

A person is a ``Principal`` only while they are an active employee: ``principal`` is read on every web
request, so someone disabled in the data dictionary is out at once. Passwords are hashed with argon2id
(argon2-cffi's defaults, RFC 9106's second recommended profile); a hash made with weaker parameters is
replaced at the next successful sign-in. No password or hash ever reaches the audit log.
"""

from __future__ import annotations

import re
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engine.domain.errors import PasswordRejected
from engine.domain.identity import Principal
from engine.services.api_tokens import issue_token, list_tokens, note_token_use, principal_for_token, revoke_token
from engine.services.people import active_person, as_principal
from engine.services.ports import UnitOfWorkFactory
from engine.services.steps import NotAllowed, audited

__all__ = [
    "MIN_PASSWORD_LENGTH", "authenticate", "issue_token", "link_external", "list_tokens", "note_token_use",
    "principal", "principal_for_external", "principal_for_token", "revoke_token", "seed_demo_accounts",
    "set_password",
]

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256  # hashing work is bounded whatever is pasted into the form
MAX_LOGIN_LENGTH = 200
PROVIDER = re.compile(r"[a-z][a-z0-9_]{0,31}")  # local, dingtalk, wecom, feishu, ...

_HASHER = PasswordHasher()
_DUMMY: list[str] = []  # a hash of nothing anyone knows: unknown logins cost the same work as known ones
_DUMMY_LOCK = threading.Lock()


def _dummy_hash() -> str:
    with _DUMMY_LOCK:
        if not _DUMMY:
            _DUMMY.append(_HASHER.hash("no account has this password: " + "x" * 32))
        return _DUMMY[0]


def password_problem(password: object, *, employee: str) -> str | None:
    """Why ``password`` may not be used, or None."""
    if not isinstance(password, str):
        return "a password is text"
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters (this one has {len(password)})"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"a password has at most {MAX_PASSWORD_LENGTH} characters"
    if not password.strip() or len(set(password)) < 3:
        return "a password needs more than one or two different characters"
    if employee.lower() in password.lower():
        return "a password may not contain the employee code it signs in"
    return None


def set_password(uow_factory: UnitOfWorkFactory, *, employee: str, password: str, by: str) -> None:
    """Give active employee ``employee`` a local password (new or changed); audited, without the secret.

    Who may do it (the person, an admin) is the caller's check; the engine audits ``by``.
    """
    problem = password_problem(password, employee=employee)
    if problem:
        raise PasswordRejected(problem, field="password")
    new_hash = _HASHER.hash(password)  # before the transaction: hashing is slow on purpose
    with uow_factory() as uow:
        active_person(uow, employee)
        uow.accounts.store_password_hash(employee, new_hash)
        uow.record(actor=by, action="account.password_set", subject_type="employee", subject_id=employee)
        uow.commit()


def authenticate(uow_factory: UnitOfWorkFactory, *, login: str, password: str) -> Principal | None:
    """The active employee whose code (any case) or email is ``login`` and whose password this is; else None.

    Every call verifies one argon2 hash (a dummy one when the login is unknown, inactive or has no password),
    so the time taken does not tell which logins exist. Both outcomes are audited (never the password).
    """
    login = login.strip() if isinstance(login, str) else ""
    plausible = 0 < len(login) <= MAX_LOGIN_LENGTH and isinstance(password, str) \
        and len(password) <= MAX_PASSWORD_LENGTH
    with uow_factory() as uow:
        code = uow.accounts.find_login(login) if plausible else None
        person = uow.accounts.identity(code) if code else None
        stored = uow.accounts.password_hash(code) if code and person and person["active"] else None
        ok = _verify(stored, password if plausible else "")
        if ok and stored and code and _HASHER.check_needs_rehash(stored):
            uow.accounts.rehash_password(code, stored, _HASHER.hash(password))
        uow.record(actor=code or "anonymous", action="auth.signed_in" if ok else "auth.refused",
                   subject_type="employee", subject_id=code or "-", payload={"method": "password"})
        uow.commit()
    return as_principal(person) if ok and person else None


def _verify(stored: str | None, password: str) -> bool:
    try:
        return bool(_HASHER.verify(stored or _dummy_hash(), password)) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def principal(reader: UnitOfWorkFactory, code: str) -> Principal | None:
    """Employee ``code`` as a signed-in principal with all their roles; None if unknown or inactive."""
    with reader() as uow:
        person = uow.accounts.identity(code)
    return as_principal(person) if person and person["active"] else None


def principal_for_external(reader: UnitOfWorkFactory, *, provider: str, subject: str) -> Principal | None:
    """The active employee an identity provider's user (``provider``, ``subject``) is linked to, if any."""
    with reader() as uow:
        code = uow.accounts.external_employee(provider, subject)
        person = uow.accounts.identity(code) if code else None
    return as_principal(person) if person and person["active"] else None


def link_external(uow_factory: UnitOfWorkFactory, *, provider: str, subject: str, employee: str, by: str) -> None:
    """Map an identity provider's user onto an active employee (once; a link to someone else is refused)."""
    if not isinstance(provider, str) or not PROVIDER.fullmatch(provider):
        raise NotAllowed(f"provider {provider!r}: a lowercase name such as dingtalk, wecom or feishu")
    if not isinstance(subject, str) or not 0 < len(subject) <= 200:
        raise NotAllowed("subject: the provider's user id, 1 to 200 characters")
    with audited(uow_factory, actor=by, subject=f"{provider}:{subject[:100]}"), uow_factory() as uow:
        active_person(uow, employee)
        linked = uow.accounts.external_employee(provider, subject)
        if linked == employee:
            return
        if linked is not None:
            raise NotAllowed(f"{provider} user {subject} is already linked to {linked}")
        uow.accounts.add_external(provider, subject, employee)
        uow.record(actor=by, action="account.linked", subject_type="employee", subject_id=employee,
                   payload={"provider": provider, "subject": subject})
        uow.commit()


def seed_demo_accounts(uow_factory: UnitOfWorkFactory, *, password: str, by: str) -> list[str]:
    """A local login for every active employee who has none yet, all with ``password``; returns who got one.

    Idempotent: existing passwords are kept. The demo's one shared password is hashed once and the hash
    reused (a per-account salt protects nothing when everyone's password is printed on the screen, and it
    keeps ``budgetflow demo`` quick).
    """
    problem = password_problem(password, employee="\0")
    if problem:
        raise PasswordRejected(problem, field="password")
    shared = _HASHER.hash(password)
    with uow_factory() as uow:
        have = uow.accounts.with_password()
        new = [code for code in uow.accounts.active_employees() if code not in have]
        for code in new:
            uow.accounts.store_password_hash(code, shared)
        if new:
            uow.record(actor=by, action="account.demo_logins", subject_type="employee", subject_id="*",
                       payload={"employees": new})
        uow.commit()
    return new

