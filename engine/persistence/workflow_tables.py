"""Tables of the process engine: deployed bundles, instances, the inbox, the outbox, vouchers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.tables import Base, BigId
from engine.persistence.types import ExactDecimal, UtcDateTime, utcnow


class ModelVersion(Base):
    """A deployed bundle of diagrams, identified by the hash of its files; stored once."""

    __tablename__ = "model_version"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    files: Mapped[str] = mapped_column(Text)  # JSON: relative path -> text
    process_ids: Mapped[str] = mapped_column(String(500))
    label: Mapped[str | None] = mapped_column(String(200))
    deployed_by: Mapped[str] = mapped_column(String(64))
    deployed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ModelActivation(Base):
    """A designer's choice of what new instances start on: one row per ``bpmn activate``, never changed.

    For each process the newest activation (highest id) of a version holding it is the active version;
    a rollback is one more row naming an older version, so the history of what was live stays readable.
    """

    __tablename__ = "model_activation"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_version.id"), index=True)
    activated_by: Mapped[str] = mapped_column(String(64))
    activated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_version.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(100))
    business_key: Mapped[str] = mapped_column(String(100), unique=True)  # the document number
    applicant: Mapped[str] = mapped_column(String(64), index=True)
    # The document this one draws on: a claim's application (start data ``application_no``).
    linked_document: Mapped[str | None] = mapped_column(String(100), index=True)
    # The applicant's org unit when the document was made: whose budget it reserves (set by the engine).
    org_unit: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24), index=True)  # new, running, waiting, user_input_required,
    # incident (its last step failed; last_error says where and why), complete (outcome says how, cancelled too)
    outcome: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(Text)  # SpiffWorkflow JSON without the spec
    next_timer_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)  # bumped by every save
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # What the document is about, copied from the run's data at every save (the inbox shows and sorts by it).
    subject: Mapped[str | None] = mapped_column(String(32))
    amount: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    currency: Mapped[str | None] = mapped_column(String(3))
    purpose: Mapped[str | None] = mapped_column(String(200))
    # The run waits for the applicant's ``withdraw`` message (set at every save: the web offers "withdraw").
    # A server default, not a Python one: the prepared INSERT of a new instance leaves the column out.
    withdrawable: Mapped[bool] = mapped_column(Boolean, server_default=false())


class HumanTask(Base):
    """The inbox: one row per READY user task, rebuilt from the workflow at every save."""

    __tablename__ = "human_task"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_guid: Mapped[str] = mapped_column(String(36), unique=True)
    bpmn_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(64))
    candidates: Mapped[str] = mapped_column(Text)  # JSON list of employee codes resolved at creation
    assignee: Mapped[str | None] = mapped_column(String(64), index=True)
    form_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, completed, cancelled
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    completed_by: Mapped[str | None] = mapped_column(String(64))
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # How many people were offered the task: one is "mine", two or more a pool a candidate claims from.
    candidate_count: Mapped[int] = mapped_column(Integer, server_default="0")
    delegated_by: Mapped[str | None] = mapped_column(String(64), index=True)  # who handed it on (转交)

    __table_args__ = (Index("ix_human_task_open", "status", "lane"),
                      Index("ix_human_task_done", "completed_by", "completed_at"))


class HumanTaskCandidate(Base):
    """Who may act on an open task, one row per person: what the "my tasks" query reads through its index.

    Derived from ``human_task.candidates`` (which keeps the list for history) and kept for open tasks only:
    rows are written when a task opens and deleted when it is completed or cancelled, in the same transaction.
    """

    __tablename__ = "human_task_candidate"
    task_id: Mapped[int] = mapped_column(BigId, ForeignKey("human_task.id"), primary_key=True)
    employee: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Copies of the task's, so the inbox reads a person's rows and counts them from this index alone:
    # offered to two or more (a pool to claim from), taken by someone (claimed or delegated), opened when.
    pool: Mapped[bool] = mapped_column(Boolean, server_default=false())
    taken: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_human_task_candidate_inbox", "employee", "pool", "taken", "created_at", "task_id"),)


class OutboxJob(Base):
    """A connector call written in the same transaction that reached its service task."""

    __tablename__ = "outbox_job"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_guid: Mapped[str] = mapped_column(String(36))
    operator: Mapped[str] = mapped_column(String(100))
    params: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)  # instance id + task guid
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, done, failed, incident
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)


class Voucher(Base):
    """Vouchers of the ``local`` ERP connector: one per idempotency key, balanced by construction."""

    __tablename__ = "voucher"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    voucher_no: Mapped[str] = mapped_column(String(40), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    document_no: Mapped[str] = mapped_column(String(100), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(ExactDecimal)
    lines: Mapped[str] = mapped_column(Text)  # JSON: [{account, debit, credit, memo}]
    posted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ClaimedInvoice(Base):
    """Each invoice (code + number) may be claimed once across all claims."""

    __tablename__ = "claimed_invoice"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    invoice_code: Mapped[str] = mapped_column(String(40))
    invoice_number: Mapped[str] = mapped_column(String(40))
    document_no: Mapped[str] = mapped_column(String(100))
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("invoice_code", "invoice_number", name="uq_claimed_invoice"),)
