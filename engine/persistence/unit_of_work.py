"""Unit of work: one connection, one transaction; rollback unless the service commits.

The ledger's hot path speaks Core on a plain Connection (no ORM session) to keep
per-operation overhead small; repositories accept either.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Connection, Engine, event

from engine.persistence import audit_repository
from engine.persistence.account_repository import SqlAccountRepository
from engine.persistence.attachment_repository import SqlAttachmentRepository
from engine.persistence.audit_repository import NewEntry
from engine.persistence.budget_queries import SqlBudgetViews
from engine.persistence.claim_repository import SqlClaimRepository
from engine.persistence.db import read_only
from engine.persistence.deferred import DEFERRED, DeferredWrites
from engine.persistence.directory import SqlDirectory
from engine.persistence.document_numbers import SqlDocumentNumbers
from engine.persistence.document_queries import SqlDocumentQueries
from engine.persistence.erp_repository import SqlErpVoucherRecords
from engine.persistence.inbox_queries import SqlInboxQueries
from engine.persistence.instance_repository import SqlInstanceRepository
from engine.persistence.journal_repository import SqlJournal
from engine.persistence.lane_repository import SqlLanes
from engine.persistence.ledger_repository import SqlLedgerRepository
from engine.persistence.oa_form_repository import SqlOaForms
from engine.persistence.org_sync_repository import SqlOrgSync
from engine.persistence.outbox_repository import SqlOutboxRepository
from engine.persistence.posting_rule_repository import SqlPostingRules
from engine.persistence.prepared import BEFORE_STATEMENT
from engine.persistence.reports import SqlReports
from engine.persistence.step_queries import SqlStepQueries


class SqlUnitOfWork:
    def __init__(self, engine: Engine, audit_key: Callable[[], bytes] | None = None, *, reads_only: bool = False
                 ) -> None:
        self._engine = engine
        self._audit_key = audit_key
        self._reads_only = reads_only  # a snapshot for reading: on SQLite, no write lock is taken

    def __enter__(self) -> Self:
        self.conn: Connection = self._engine.connect()
        if self._reads_only:
            read_only(self.conn)
        self.conn.begin()
        self.ledger = SqlLedgerRepository(self.conn, pipeline=True)
        # On PostgreSQL, writes that return nothing wait in a queue (the ledger's, and deferred.py's for the
        # other repositories) and go out before any other statement of this transaction, so every read
        # (ours or another repository's) sees them, or with the commit.
        self._deferred: DeferredWrites | None = None
        if self.ledger.pipelined:
            self._deferred = DeferredWrites(self.conn)
            if not self._reads_only:
                self.conn.info[DEFERRED] = self._deferred
            event.listen(self.conn, "before_cursor_execute", self._flush_queued)
            self.conn.info[BEFORE_STATEMENT] = self._flush_queued
        self.instances = SqlInstanceRepository(self.conn)
        self.directory = SqlDirectory(self.conn)
        self.claims = SqlClaimRepository(self.conn)
        self.outbox = SqlOutboxRepository(self.conn)
        self.reports = SqlReports(self.conn)  # read side: balances, totals, listings
        self.accounts = SqlAccountRepository(self.conn)  # sign-in: people, passwords, SSO links, API tokens
        self.inbox = SqlInboxQueries(self.conn)  # the web inbox's views
        self.documents = SqlDocumentQueries(self.conn)  # one document as people see it
        self.budget_views = SqlBudgetViews(self.conn)  # budget lines as people read them
        self.numbers = SqlDocumentNumbers(self.conn)  # document number counters
        self.attachments = SqlAttachmentRepository(self.conn)  # receipts and e-invoices of documents
        self.oa_forms = SqlOaForms(self.conn)  # the data dictionary's OA form mappings
        self.org_sync = SqlOrgSync(self.conn)  # people from the OA suites' directories
        self.posting_rules = SqlPostingRules(self.conn)  # the data dictionary's ERP posting rules
        self.erp_vouchers = SqlErpVoucherRecords(self.conn)  # the vouchers posting jobs posted
        self.steps = SqlStepQueries(self.conn)  # step statistics: stored states and user task times
        self.journal = SqlJournal(self.conn)  # each instance's inputs, for bpmn replay
        self.lanes = SqlLanes(self.conn)  # the data dictionary's lane rules, an instance's approvals
        self._audit: list[NewEntry] = []
        self._after_commit: list[Callable[[], None]] = []
        return self

    def _flush_queued(self, *_args: Any) -> None:
        self.ledger.flush()
        if self._deferred is not None:
            self._deferred.flush()

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` once this transaction has committed (never if it rolls back)."""
        self._after_commit.append(hook)

    def record(self, *, actor: str, action: str, subject_type: str, subject_id: str,
               payload: dict[str, Any] | None = None) -> None:
        """Queue an audit entry; it is chained and written with this transaction's commit."""
        self._audit.append(NewEntry(actor, action, subject_type, subject_id, payload or {}))

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.conn.info.pop(BEFORE_STATEMENT, None)  # info outlives this checkout of the pooled connection
        self.conn.info.pop(DEFERRED, None)
        self.conn.close()  # rolls back whatever was not committed

    def commit(self) -> None:
        if self._reads_only:  # its writes, if a bug made any, roll back on exit
            raise RuntimeError("a read-only unit of work cannot commit")
        self.ledger.flush()
        if self._audit:
            if self._audit_key is None:
                raise RuntimeError("audit entries were recorded but no audit key is configured")
            # Last write before COMMIT: the audit lock is then held for the shortest time. On PostgreSQL the
            # queued writes, the lock and the head read share one round trip, the rows and COMMIT another.
            audit_repository.append_and_commit(self.conn, self._audit_key(), self._audit, queued=self._deferred)
            self._audit = []
        elif self._deferred is not None:
            self._deferred.commit()
        self.conn.commit()  # a no-op for the driver when COMMIT went out already; SQLAlchemy's bookkeeping
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            hook()

    def rollback(self) -> None:
        self.ledger.discard()  # the ledger's own queue (PostgreSQL) belongs to the same transaction
        if self._deferred is not None:
            self._deferred.discard()  # held-back writes belong to the transaction that is rolled back
        self.conn.rollback()
