"""Did every claim post exactly once? The check after a run of workers and drivers, read from the database.

It counts the local ERP's vouchers per claim (a voucher's document number is its claim's number; its
idempotency key is unique by constraint, so a second voucher for one claim shows only in this count), and
names every claim that has none, more than one, or has not ended ``posted``; every outbox job that is not
done; every instance in incident; and every voucher for a document nobody asked for.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.persistence.workflow_tables import OutboxJob, ProcessInstance, Voucher

POSTED = ("complete", "posted")  # a claim's status and outcome once its voucher is in the book


@dataclass
class PostingCheck:
    claims: int
    vouchers: int = 0
    duplicated: dict[str, int] = field(default_factory=dict)  # claim: its vouchers, when more than one
    not_posted: list[str] = field(default_factory=list)  # claims without a voucher
    unfinished: dict[str, str] = field(default_factory=dict)  # claim: "status/outcome", when not complete/posted
    stray: dict[str, int] = field(default_factory=dict)  # vouchers for documents that are not among the claims
    jobs: dict[str, int] = field(default_factory=dict)  # outbox jobs by status
    max_attempts: int = 0  # of any outbox job: above 1, some job failed once (retried, not a problem by itself)
    incidents: list[str] = field(default_factory=list)  # instances (business keys) in incident

    @property
    def ok(self) -> bool:
        return not self.problems()

    def problems(self) -> list[str]:
        found = [f"{claim}: {n} vouchers" for claim, n in sorted(self.duplicated.items())]
        found += [f"{claim}: no voucher" for claim in self.not_posted]
        found += [f"{claim}: {state}, not complete/posted" for claim, state in sorted(self.unfinished.items())]
        found += [f"{doc}: {n} voucher(s) for a document that is not a claim of this run"
                  for doc, n in sorted(self.stray.items())]
        found += [f"{n} outbox job(s) {status}" for status, n in sorted(self.jobs.items()) if status != "done"]
        found += [f"{key}: in incident" for key in self.incidents]
        return found

    def to_json(self) -> dict[str, object]:
        return {"claims": self.claims, "vouchers": self.vouchers, "exactly_once": self.ok,
                "problems": self.problems(), "jobs": self.jobs, "max_attempts": self.max_attempts}


def check(session_factory: sessionmaker[Session], claims: Collection[str]) -> PostingCheck:
    """The vouchers, instances and outbox jobs in the database against the claims a run made."""
    with session_factory() as s:
        per_document = dict(s.execute(select(Voucher.document_no, func.count()).group_by(Voucher.document_no))
                            .tuples().all())
        states = {key: f"{status}/{outcome}" for key, status, outcome in s.execute(
            select(ProcessInstance.business_key, ProcessInstance.status, ProcessInstance.outcome)
            .where(ProcessInstance.process_id == "expense_claim")).tuples()}
        jobs = dict(s.execute(select(OutboxJob.status, func.count()).group_by(OutboxJob.status)).tuples().all())
        max_attempts = s.scalar(select(func.max(OutboxJob.attempts))) or 0
        incidents = sorted(s.scalars(select(ProcessInstance.business_key)
                                     .where(ProcessInstance.status == "incident")).all())
    wanted = set(claims)
    return PostingCheck(
        claims=len(wanted), vouchers=sum(per_document.get(c, 0) for c in wanted),
        duplicated={c: per_document[c] for c in wanted if per_document.get(c, 0) > 1},
        not_posted=sorted(c for c in wanted if c not in per_document),
        unfinished={c: states.get(c, "missing/None") for c in wanted if states.get(c) != "/".join(POSTED)},
        stray={doc: n for doc, n in per_document.items() if doc not in wanted},
        jobs=jobs, max_attempts=max_attempts, incidents=incidents)
