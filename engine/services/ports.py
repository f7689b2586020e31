"""What the services need from persistence, as Protocols (implemented in engine.persistence).

**How a service receives its transaction (one convention).** A use case that commits takes a
*factory* as its first argument, ``uow_factory: UnitOfWorkFactory`` (a callable returning a fresh,
not yet entered ``UnitOfWork``; ``Container.uow`` in engine/bootstrap.py is one), and opens one unit
of work per transaction with ``with uow_factory() as uow: ... uow.commit()``. A use case needs more
than one transaction (a refusal is audited in a transaction of its own after the refused one rolled
back; the worker settles each job apart), so it is never handed an open one. Helpers that run
inside their caller's transaction take the open ``uow: UnitOfWork`` (or only the repository they
use: ``ledger.reserve_in(ledger: LedgerRepository, ...)``) and never commit. The master-data import
follows the same rule with ``MasterDataStoreFactory``.

Records the repositories hand out (``InstanceRecord``, ``TaskRecord``, ``JobRecord``) are declared
read-only: services read them, and change what they describe only through a repository.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any, Protocol, Self

from engine.domain.audit import StoredEntry
from engine.domain.budget import LineState, Posting, ReservationState
from engine.domain.budget_line import BudgetLineKey
from engine.domain.inbox import InboxEntry
from engine.domain.lanes import Directory
from engine.domain.ledger_check import LineTotals, ReservationTotals
from engine.domain.masterdata.records import ImportSummary, MasterData
from engine.domain.summary import DocumentSummary
from engine.services.designer_ports import Journal, Lanes, StepQueries
from engine.services.integration_ports import ErpVoucherRecords, OaForms, OrgSync, PostingRules
from engine.services.web_ports import (
    AccountRepository,
    AttachmentRepository,
    BudgetViews,
    DocumentNumbers,
    DocumentQueries,
    InboxQueries,
)

# ---------------------------------------------------------------- records


class InstanceRecord(Protocol):
    """A process instance as stored (``lock`` returns it, locked until the transaction ends)."""

    @property
    def id(self) -> int: ...
    @property
    def model_sha(self) -> str: ...
    @property
    def process_id(self) -> str: ...
    @property
    def business_key(self) -> str: ...
    @property
    def applicant(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def revision(self) -> int: ...
    @property
    def linked_document(self) -> str | None:
        """The application a claim draws on."""
    @property
    def org_unit(self) -> str | None:
        """The applicant's unit when the document was made: whose budget it uses."""


class TaskRecord(Protocol):
    """An inbox row: a user task with who may take it."""

    @property
    def instance_id(self) -> int: ...
    @property
    def task_guid(self) -> str: ...
    @property
    def bpmn_id(self) -> str: ...
    @property
    def lane(self) -> str | None: ...
    @property
    def candidates(self) -> list[str]: ...
    @property
    def assignee(self) -> str | None: ...
    @property
    def status(self) -> str: ...


class JobRecord(Protocol):
    """A leased outbox job: one connector call under its idempotency key."""

    @property
    def id(self) -> int: ...
    @property
    def instance_id(self) -> int: ...
    @property
    def task_guid(self) -> str: ...
    @property
    def operator(self) -> str: ...
    @property
    def params(self) -> dict[str, Any]: ...
    @property
    def key(self) -> str: ...
    @property
    def attempts(self) -> int:
        """Attempts so far, this one included."""


# ---------------------------------------------------------------- repositories


class LedgerRepository(Protocol):
    def lock_line(self, line_id: int) -> LineState:
        """The line's state, locked against other writers until the transaction ends."""

    def lock_line_for(self, line_id: int, key: str, fingerprint: str) -> tuple[LineState, dict[str, object] | None]:
        """Lock the line and return what ``key`` recorded before (None if new); one round trip."""

    def line_of_reservation(self, reservation_id: int) -> int: ...

    def reservation(self, reservation_id: int) -> ReservationState:
        """Read a reservation; call only after locking its line."""

    def stored_result(self, key: str, fingerprint: str) -> dict[str, object] | None:
        """The result recorded under ``key``; raises IdempotencyConflict on another fingerprint."""

    def store_result(self, key: str, kind: str, fingerprint: str, result: dict[str, object]) -> None: ...

    def add_reservation(self, line: LineState, amount: Decimal, *, document: str) -> int: ...

    def append(
        self, line: LineState, postings: Sequence[Posting], *, key: str, document: str | None,
        reservation_id: int | None = None, memo: str | None = None,
    ) -> None:
        """Append entries and apply their deltas to the line's cached balance."""

    def resolve_reservation(
        self, reservation_id: int, *, consumed: Decimal, released: Decimal, close: bool
    ) -> None: ...


class InstanceRepository(Protocol):
    """Model versions, process instances and their inbox rows."""

    def version_files(self, sha: str) -> dict[str, str]: ...

    def add_version(self, *, sha: str, files: dict[str, str], process_ids: list[str], by: str,
                    label: str | None) -> int:
        """Store a model version once (deploying the same files again returns the existing id)."""

    def version_id_of(self, sha: str) -> int | None:
        """The id of the version stored with content hash ``sha``, if any."""

    def active_version(self, process_id: str) -> tuple[int, str] | None:
        """(version id, sha) of the version new instances of ``process_id`` start on (its newest activation)."""

    def active_versions(self) -> dict[str, int]:
        """Process id -> the id of its active version."""

    def activate(self, version_id: int, *, by: str) -> None:
        """Record an activation of ``version_id``: new instances of its processes start on it from now."""

    def create(self, *, version_id: int, sha: str, process_id: str, business_key: str, applicant: str,
               linked_document: str | None = None, org_unit: str | None = None) -> InstanceRecord:
        """A new instance, held by this transaction; DocumentExists if ``business_key`` is taken."""

    def lock(self, instance_id: int) -> InstanceRecord:
        """The instance, locked until the transaction ends: one writer per instance."""

    def save(self, row: InstanceRecord, *, state: str, status: str, outcome: str | None,
             next_timer_at: datetime | None, summary: DocumentSummary | None = None,
             withdrawable: bool = False) -> None:
        """Store the locked ``row``'s new state as revision + 1; with a ``summary`` (what the document is
        about), also it and whether the run waits for the applicant's withdraw message."""

    def mark_incident(self, instance_id: int, *, error: str, stop_timers: bool) -> None: ...

    def id_of(self, business_key: str) -> int | None: ...

    def document(self, business_key: str) -> dict[str, Any] | None:
        """``applicant``, ``process_id``, ``status`` and ``outcome`` of document ``business_key``."""

    def applicant_of(self, business_key: str) -> str | None: ...

    def status_of(self, business_key: str) -> str | None: ...

    def running_on(self, document: str) -> str | None:
        """The document number of a flow still running that draws on ``document``, if any."""

    def due_timer_instances(self, now: datetime) -> list[int]: ...

    def task(self, task_guid: str) -> TaskRecord | None: ...

    def open_tasks_of_instance(self, instance_id: int) -> list[dict[str, Any]]:
        """The instance's open user tasks, oldest first: guid, BPMN id, title, lane, candidates, form key."""

    def sync_inbox(self, instance_id: int, ready: list[InboxEntry], *, at: datetime | None = None) -> list[str]:
        """Open rows for newly ready tasks (opened ``at``, default now); cancel open rows whose task is no longer
        ready; the guids opened."""

    def complete_task(self, task_guid: str, by: str, *, at: datetime | None = None) -> None: ...

    def reassign(self, task_guid: str, to: str, *, delegated_by: str | None = None) -> None: ...

    def claim(self, task_guid: str, user: str) -> bool:
        """Assign an open, unassigned task to ``user``; False if someone holds it already."""

    def release(self, task_guid: str, user: str) -> bool:
        """Give an open task ``user`` holds back to its candidates; False if ``user`` does not hold it."""

    def involved(self, instance_id: int, employee: str) -> bool:
        """Whether ``employee`` may act on one of the instance's open tasks."""

    def orphaned_tasks(self) -> list[dict[str, Any]]: ...

    def enqueue(self, *, instance_id: int, task_guid: str, operator: str, params: dict[str, Any], key: str) -> None:
        """Queue an outbox job once per ``key``."""

    def versions(self, *, instance_counts: bool = True) -> list[dict[str, Any]]:
        """Every deployed model version, oldest first, with how many instances run on it (0 for each unless
        ``instance_counts``: the count reads every instance, which a page that only starts documents skips)."""

    def incidents(self) -> list[dict[str, Any]]:
        """Instances whose last step failed, oldest first."""


class ClaimRepository(Protocol):
    """Budget lines by key, reservations by document, and which claim holds which invoice."""

    def line_id(self, key: BudgetLineKey) -> int | None: ...

    def open_reservation_of(self, document_no: str) -> int | None: ...

    def open_reservations_of(self, document_no: str) -> list[int]: ...

    def left_over_reservations(self, *, created_before: datetime) -> list[int]:
        """Open reservations made before ``created_before`` whose document's flow has ended."""

    def reservation_document(self, reservation_id: int) -> str | None: ...

    def release_invoices(self, document_no: str) -> None: ...

    def claimed_by(self, invoice_code: str, invoice_number: str) -> str | None: ...

    def claim_invoices(self, document_no: str, invoices: list[tuple[str, str]]) -> None: ...


class ClaimedJobs(Protocol):
    """What one claim found: jobs leased to run, and jobs abandoned after their last attempt."""

    @property
    def jobs(self) -> Sequence[JobRecord]: ...
    @property
    def abandoned(self) -> Sequence[JobRecord]: ...


class OutboxRepository(Protocol):
    """Outbox jobs: leased one at a time, settled with their outcome."""

    def claim_due(self, now: datetime, *, lease: timedelta, limit: int = 1, max_attempts: int | None = None
                  ) -> ClaimedJobs:
        """Lease up to ``limit`` due jobs (an expired lease makes a job due again); one whose last allowed
        attempt's lease ran out is not leased but returned as abandoned."""

    def give_back(self, job_id: int, attempts: int, *, keep_attempt: bool = False) -> bool:
        """Undo the lease and (unless ``keep_attempt``) the attempt of a job a database outage interrupted
        (unless it moved on)."""

    def done(self, job_id: int, result: dict[str, Any]) -> None: ...

    def retry_later(self, job_id: int, *, at: datetime, error: str) -> None: ...

    def close(self, job_id: int, *, status: str, error: str) -> None: ...

    def has_job(self, instance_id: int, operator: str) -> bool: ...

    def cancel_pending(self, instance_id: int) -> int: ...

    def results_of(self, instance_id: int) -> list[tuple[str, dict[str, Any]]]:
        """(task guid, result) of the instance's finished jobs."""

    def retry_incident(self, job_id: int) -> bool:
        """Queue an incident's job again, attempts reset; False if ``job_id`` is not an open incident."""

    def incidents(self) -> list[dict[str, Any]]: ...


class Reports(Protocol):
    """Read-side queries for listings and checks (rows are the persistence layer's named tuples)."""

    def schema_revision(self) -> str | None: ...
    def balances(self, prefix: str | None = None) -> list[Any]: ...
    def line_names(self) -> dict[int, tuple[str, str]]: ...
    def line_totals(self) -> Iterator[LineTotals]: ...
    def reservation_totals(self) -> Iterator[ReservationTotals]: ...
    def open_reservations(self, created_before: datetime | None = None) -> list[Any]: ...
    def find_line(self, key: BudgetLineKey) -> int | None: ...
    def master_data_imports(self) -> list[dict[str, Any]]: ...
    def master_data_rows(self) -> int: ...
    def vouchers(self, documents: Iterable[str] | None = None) -> int: ...
    def jobs_done(self, documents: Iterable[str]) -> int: ...
    def audit_row_count(self) -> int: ...
    def audit_rows(self, action: str | None = None) -> Iterator[StoredEntry]: ...
    def colleagues(self, employee: str, *, limit: int = 200) -> list[dict[str, Any]]:
        """Active employees other than ``employee``: their own unit first, then by code."""


# ---------------------------------------------------------------- transactions


class UnitOfWork(Protocol):
    """One transaction: every repository on one connection; rolled back on exit unless committed."""

    @property
    def ledger(self) -> LedgerRepository: ...
    @property
    def instances(self) -> InstanceRepository: ...
    @property
    def directory(self) -> Directory: ...
    @property
    def claims(self) -> ClaimRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def reports(self) -> Reports: ...
    @property
    def accounts(self) -> AccountRepository: ...
    @property
    def inbox(self) -> InboxQueries: ...
    @property
    def documents(self) -> DocumentQueries: ...
    @property
    def budget_views(self) -> BudgetViews: ...
    @property
    def numbers(self) -> DocumentNumbers: ...
    @property
    def attachments(self) -> AttachmentRepository: ...
    @property
    def oa_forms(self) -> OaForms: ...
    @property
    def posting_rules(self) -> PostingRules: ...
    @property
    def erp_vouchers(self) -> ErpVoucherRecords: ...
    @property
    def org_sync(self) -> OrgSync: ...
    @property
    def steps(self) -> StepQueries: ...

    @property
    def journal(self) -> Journal: ...

    @property
    def lanes(self) -> Lanes: ...

    def record(self, *, actor: str, action: str, subject_type: str, subject_id: str,
               payload: dict[str, Any] | None = None) -> None:
        """Queue an audit entry; it is chained and written with this transaction's commit."""

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` once this transaction has committed (never if it rolls back)."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Roll back unless committed."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
"""A fresh unit of work per call (not yet entered): how every service receives its transactions."""


class MasterDataStore(Protocol):
    """One master-data import's transaction (implemented by engine.persistence.masterdata_repository)."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Roll back unless committed."""

    def commit(self) -> None: ...

    def imported_checksum(self, version: str) -> str | None:
        """The checksum ``version`` was last imported with; None if never."""

    def was_imported(self, checksum: str) -> bool: ...

    def apply(self, data: MasterData) -> ImportSummary:
        """Upsert everything and book budget changes; MasterDataInvalid if the database refuses some of it."""

    def record_import(self, summary: ImportSummary, *, source: str) -> None: ...


MasterDataStoreFactory = Callable[[], MasterDataStore]
"""A fresh master-data store per call, as ``UnitOfWorkFactory`` is for the unit of work."""
