"""What the web app's use cases need from persistence, as Protocols (beside ports.py, which holds the engine's).

Implemented in engine.persistence (account_repository.py, inbox_queries.py, ...); reached through the
unit of work as ``uow.accounts``, ``uow.inbox``, ...
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol


class AccountRepository(Protocol):
    """Who an employee is, their password hash, SSO links and API tokens."""

    def identity(self, code: str) -> dict[str, Any] | None:
        """``code``, ``name``, ``email``, ``org_unit``, ``active`` and ``roles`` of employee ``code``."""

    def find_login(self, login: str) -> str | None:
        """The employee whose code (any case) or email is ``login``."""

    def active_employees(self) -> list[str]: ...

    def password_hash(self, code: str) -> str | None: ...

    def with_password(self) -> set[str]:
        """Employees that have a local password."""

    def store_password_hash(self, code: str, password_hash: str) -> None: ...

    def rehash_password(self, code: str, old_hash: str, new_hash: str) -> None: ...

    def external_employee(self, provider: str, subject: str) -> str | None: ...

    def add_external(self, provider: str, subject: str, employee: str) -> None: ...

    def add_token(self, *, token_hash: str, employee: str, label: str, scopes: list[str], by: str,
                  expires_at: datetime | None) -> int: ...

    def token_by_hash(self, token_hash: str) -> dict[str, Any] | None: ...

    def token(self, token_id: int) -> dict[str, Any] | None: ...

    def revoke_token(self, token_id: int) -> bool:
        """Revoke a token not revoked yet; False if there is none such."""

    def touch_token(self, token_id: int, at: datetime) -> None: ...

    def tokens(self, employee: str | None) -> list[dict[str, Any]]: ...


SortKey = datetime | Decimal | None


class InboxQueries(Protocol):
    """A person's inbox views (rows are dicts with InboxRow's fields plus ``id``, ``status``, ``form_key``
    and ``sort_key``)."""

    def page(self, employee: str, *, view: str, sort: str, descending: bool, process: str | None,
             text: str | None, after: tuple[SortKey, int] | None, limit: int) -> list[dict[str, Any]]: ...

    def counts(self, employee: str) -> dict[str, int]: ...

    def task_row(self, task_guid: str) -> dict[str, Any] | None: ...


class DocumentQueries(Protocol):
    """One document as people see it (rows are dicts; engine/persistence/document_queries.py says which keys)."""

    def document(self, document_no: str) -> dict[str, Any] | None: ...

    def state(self, instance_id: int) -> str:
        """The saved workflow state, read without a lock."""

    def tasks(self, instance_id: int) -> list[dict[str, Any]]: ...

    def history(self, document_no: str, instance_id: int) -> list[dict[str, Any]]: ...

    def drawing_on(self, document_no: str) -> list[str]: ...

    def voucher_no(self, document_no: str, instance_id: int) -> str | None: ...

    def mine(self, applicant: str, *, statuses: list[str] | None, complete: bool | None, before: int | None,
             limit: int) -> list[dict[str, Any]]: ...

    def open_tasks_of(self, instance_ids: list[int]) -> list[dict[str, Any]]: ...

    def names(self, codes: list[str]) -> dict[str, str]: ...

    def approved_applications(self, applicant: str) -> list[dict[str, Any]]: ...


class DocumentNumbers(Protocol):
    def next(self, prefix: str, year: int) -> int:
        """The next number of ``prefix`` in ``year``, under the counter's row lock."""


class BudgetViews(Protocol):
    """Budget lines with balances and names (engine/persistence/budget_queries.py says which keys)."""

    def lines(self, *, ids: list[int] | None = None, keys: list[str] | None = None, period: str | None = None,
              units: list[str] | None = None, subject: str | None = None, after: str | None = None,
              limit: int = 100) -> list[dict[str, Any]]: ...

    def reservations_of(self, documents: list[str]) -> list[dict[str, Any]]: ...

    def units(self) -> list[tuple[str, str | None, str | None]]:
        """(code, parent code, manager code) of every org unit."""

    def entries(self, line_id: int, *, before: int | None, limit: int) -> list[dict[str, Any]]: ...


class AttachmentRepository(Protocol):
    def add(self, *, attachment_id: str, document_no: str, uploaded_by: str, filename: str, content_type: str,
            data: bytes, sha256: str) -> None: ...

    def get(self, attachment_id: str) -> tuple[dict[str, Any], bytes] | None:
        """(metadata, content) of an attachment."""

    def of_document(self, document_no: str) -> list[dict[str, Any]]: ...

    def ids_of(self, document_no: str) -> set[str]: ...
