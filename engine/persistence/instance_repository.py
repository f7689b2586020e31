"""Process instances, their inbox rows, deployed bundles and outbox jobs.

Every engine step runs the statements marked ``Prepared`` below (lock, inbox sync,
save, enqueue): they are compiled once and run on the DB-API cursor, because
SQLAlchemy's per-call work cost more than the statements themselves
(docs/performance.md). The rest is Core, built per call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Select,
    String,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.domain.errors import DocumentExists, UnknownInstance
from engine.domain.inbox import InboxEntry
from engine.domain.summary import DocumentSummary
from engine.persistence.deferred import write
from engine.persistence.prepared import Prepared
from engine.persistence.tables import Employee
from engine.persistence.types import utcnow
from engine.persistence.workflow_tables import (
    HumanTask,
    HumanTaskCandidate,
    ModelActivation,
    ModelVersion,
    OutboxJob,
    ProcessInstance,
)
from engine.services.ports import InstanceRecord

_inst = ProcessInstance.__table__
_task = HumanTask.__table__
_ver = ModelVersion.__table__
_job = OutboxJob.__table__
_cand = HumanTaskCandidate.__table__
_act = ModelActivation.__table__

# Newest activation first: per process, the first row whose version holds it is what new instances start on.
_ACTIVATIONS = Prepared(select(_ver.c.id, _ver.c.sha256, _ver.c.process_ids)
                        .join(_act, _act.c.model_version_id == _ver.c.id).order_by(_act.c.id.desc()))
_CREATE = Prepared(insert(_inst).returning(_inst.c.id), column_keys=[
    "model_version_id", "process_id", "business_key", "applicant", "linked_document", "org_unit", "status", "state",
    "revision", "created_at", "updated_at"])
# FOR UPDATE OF the instance row on PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the write lock.
_LOCK = Prepared(
    select(_inst.c.id, _ver.c.sha256, _inst.c.process_id, _inst.c.business_key, _inst.c.applicant,
           _inst.c.status, _inst.c.state, _inst.c.revision, _inst.c.linked_document, _inst.c.org_unit)
    .join(_ver, _ver.c.id == _inst.c.model_version_id)
    .where(_inst.c.id == bindparam("instance_id")).with_for_update(of=_inst))
_SAVE_COLUMNS = ("state", "status", "outcome", "next_timer_at", "revision", "updated_at", "last_error")
_SUMMARY_COLUMNS = ("subject", "amount", "currency", "purpose", "withdrawable")
# One statement per shape of save: (completes the instance, carries a summary).
_SAVES = {
    (complete, summary): Prepared(
        update(_inst).where(_inst.c.id == bindparam("instance_id"), _inst.c.revision == bindparam("seen"))
        .values({c: bindparam(f"new_{c}", type_=_inst.c[c].type) for c in (
            *_SAVE_COLUMNS, *(("completed_at",) if complete else ()), *(_SUMMARY_COLUMNS if summary else ()))}))
    for complete in (False, True) for summary in (False, True)}
_TASK = Prepared(select(_task.c.instance_id, _task.c.task_guid, _task.c.bpmn_id, _task.c.lane, _task.c.candidates,
                        _task.c.assignee, _task.c.status).where(_task.c.task_guid == bindparam("guid")))
_OPEN_TASK_GUIDS = Prepared(select(_task.c.task_guid).where(
    _task.c.instance_id == bindparam("instance_id"), _task.c.status == "open"))
_CANCEL_TASK = Prepared(update(_task).where(_task.c.task_guid == bindparam("guid")).values(status="cancelled"))
_ADD_TASKS = Prepared(insert(_task), column_keys=[
    "instance_id", "task_guid", "bpmn_id", "title", "lane", "candidates", "assignee", "form_key", "status", "due_at",
    "created_at", "candidate_count"])
_TASK_ID = select(_task.c.id).where(_task.c.task_guid == bindparam("guid")).scalar_subquery()
_ADD_CANDIDATE = Prepared(insert(_cand).from_select(
    ["task_id", "employee", "pool", "taken", "created_at"],
    select(_task.c.id, bindparam("employee", type_=String(64)), _task.c.candidate_count >= 2,
           _task.c.assignee.is_not(None), _task.c.created_at).where(_task.c.task_guid == bindparam("guid"))))
_TAKEN = Prepared(update(_cand).where(_cand.c.task_id == _TASK_ID).values(taken=bindparam("taken", type_=Boolean())))
_DROP_CANDIDATES = Prepared(delete(_cand).where(_cand.c.task_id == _TASK_ID))
_COMPLETE_TASK = Prepared(update(_task).where(_task.c.task_guid == bindparam("guid")).values(
    status="completed", completed_by=bindparam("by"), completed_at=bindparam("at", type_=_task.c.completed_at.type)))
# One statement, no read first: a key stored already (the step ran before a crash) adds nothing.
_ADD_JOB = {dialect: Prepared(dialect_insert(_job).on_conflict_do_nothing(index_elements=[_job.c.idempotency_key]),
                              column_keys=["instance_id", "task_guid", "operator", "params", "idempotency_key",
                                           "status", "attempts", "next_attempt_at", "created_at", "updated_at"])
            for dialect, dialect_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))}
_APPLICANT_OF = Prepared(select(_inst.c.applicant).where(_inst.c.business_key == bindparam("key")))
# What every start asks (processes.start): is the number taken, and for a claim, its application and any claim
# already running on it.
_ID_OF = Prepared(select(_inst.c.id).where(_inst.c.business_key == bindparam("key")))
_DOCUMENT = Prepared(select(_inst.c.id, _inst.c.applicant, _inst.c.process_id, _inst.c.status, _inst.c.outcome)
                     .where(_inst.c.business_key == bindparam("key")))


@dataclass(frozen=True)
class InstanceRow:
    id: int
    model_sha: str
    process_id: str
    business_key: str
    applicant: str
    status: str
    state: str
    revision: int
    linked_document: str | None = None  # the application a claim draws on
    org_unit: str | None = None  # the applicant's unit when the document was made: whose budget it uses


@dataclass(frozen=True)
class TaskRow:
    instance_id: int
    task_guid: str
    bpmn_id: str
    lane: str | None
    candidates: list[str]
    assignee: str | None
    status: str


class SqlInstanceRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- bundles
    def version_files(self, sha: str) -> dict[str, str]:
        files = self.conn.execute(select(_ver.c.files).where(_ver.c.sha256 == sha)).scalar()
        if files is None:
            raise LookupError(f"no deployed model version {sha[:12]}")
        return dict(json.loads(files))

    def add_version(
        self, *, sha: str, files: dict[str, str], process_ids: list[str], by: str, label: str | None
    ) -> int:
        existing = self.conn.execute(select(_ver.c.id).where(_ver.c.sha256 == sha)).scalar()
        if existing is not None:
            return int(existing)
        return int(self.conn.execute(insert(_ver).values(
            sha256=sha, files=json.dumps(files, ensure_ascii=False), process_ids=",".join(sorted(process_ids)),
            label=label, deployed_by=by, deployed_at=utcnow()).returning(_ver.c.id)).scalar_one())

    def version_id_of(self, sha: str) -> int | None:
        """The id of the version stored with content hash ``sha``, if any."""
        found = self.conn.execute(select(_ver.c.id).where(_ver.c.sha256 == sha)).scalar()
        return None if found is None else int(found)

    def active_version(self, process_id: str) -> tuple[int, str] | None:
        """(id, sha) of the version new instances of ``process_id`` start on: its newest activation."""
        for version_id, sha, ids in _ACTIVATIONS.all(self.conn, {}):
            if process_id in ids.split(","):
                return int(version_id), str(sha)
        return None

    def active_versions(self) -> dict[str, int]:
        """Process id -> the id of its active version (processes never activated are absent)."""
        active: dict[str, int] = {}
        for version_id, _sha, ids in _ACTIVATIONS.all(self.conn, {}):
            for process_id in ids.split(","):
                if process_id:
                    active.setdefault(process_id, int(version_id))
        return active

    def activate(self, version_id: int, *, by: str) -> None:
        """Make ``version_id`` what new instances of each of its processes start on (one more activation)."""
        self.conn.execute(insert(_act).values(model_version_id=version_id, activated_by=by, activated_at=utcnow()))

    def versions(self, *, instance_counts: bool = True) -> list[dict[str, Any]]:
        """Every version, oldest first: ``instances`` (total) and ``running`` (not complete) when counted,
        ``active_for`` (the processes it is active for) and ``activated_at`` (its newest activation)."""
        columns = (_ver.c.id, _ver.c.sha256, _ver.c.process_ids, _ver.c.label, _ver.c.deployed_by,
                   _ver.c.deployed_at)
        activated = (select(_act.c.model_version_id, func.max(_act.c.activated_at).label("at"))
                     .group_by(_act.c.model_version_id).subquery())
        if instance_counts:
            running = func.sum(case((_inst.c.status != "complete", 1), else_=0))
            counts = (select(_inst.c.model_version_id, func.count().label("n"), running.label("running"))
                      .group_by(_inst.c.model_version_id).subquery())
            stmt = (select(*columns, func.coalesce(counts.c.n, 0), func.coalesce(counts.c.running, 0), activated.c.at)
                    .outerjoin(counts, counts.c.model_version_id == _ver.c.id))
        else:
            stmt = select(*columns, literal(0), literal(0), activated.c.at)
        stmt = stmt.outerjoin(activated, activated.c.model_version_id == _ver.c.id).order_by(_ver.c.id)
        keys = ("id", "sha256", "process_ids", "label", "deployed_by", "deployed_at", "instances", "running",
                "activated_at")
        active = self.active_versions()
        found = [dict(zip(keys, row, strict=True)) for row in self.conn.execute(stmt)]
        for v in found:
            v["instances"], v["running"] = int(v["instances"]), int(v["running"])
            v["active_for"] = sorted(p for p, version_id in active.items() if version_id == v["id"])
        return found

    # -- instances
    def create(self, *, version_id: int, sha: str, process_id: str, business_key: str, applicant: str,
               linked_document: str | None = None, org_unit: str | None = None) -> InstanceRow:
        """Insert a new instance (revision 0, no state yet); the caller's transaction holds its row."""
        now = utcnow()
        try:
            instance_id = int(_CREATE.scalar(self.conn, dict(
                model_version_id=version_id, process_id=process_id, business_key=business_key, applicant=applicant,
                linked_document=linked_document, org_unit=org_unit, status="new", state="", revision=0,
                created_at=now, updated_at=now)))
        except self.conn.dialect.loaded_dbapi.IntegrityError:  # raced another start (raw DB-API cursor: its error)
            raise DocumentExists(f"document {business_key} already exists; every document number is used once") \
                from None
        return InstanceRow(instance_id, sha, process_id, business_key, applicant, "new", "", 0, linked_document,
                           org_unit)

    def id_of(self, business_key: str) -> int | None:
        found = _ID_OF.scalar(self.conn, {"key": business_key})
        return None if found is None else int(found)

    def document(self, business_key: str) -> dict[str, Any] | None:
        """Who made document ``business_key``, with which process, and where its flow stands."""
        row = _DOCUMENT.first(self.conn, {"key": business_key})
        return None if row is None else dict(zip(("id", "applicant", "process_id", "status", "outcome"), row,
                                                  strict=True))

    def mark_incident(self, instance_id: int, *, error: str, stop_timers: bool) -> None:
        """The instance's last step failed: status ``incident`` with the error; its state stays as saved."""
        values: dict[str, Any] = dict(status="incident", last_error=error[:2000], updated_at=utcnow(),
                                      revision=_inst.c.revision + 1)
        if stop_timers:
            values["next_timer_at"] = None
        self.conn.execute(update(_inst).where(_inst.c.id == instance_id, _inst.c.status != "complete")
                          .values(values))

    def incidents(self) -> list[dict[str, Any]]:
        """Instances whose last step failed, oldest first."""
        stmt = (select(_inst.c.id, _inst.c.business_key, _inst.c.process_id, _inst.c.applicant, _inst.c.last_error,
                       _inst.c.updated_at).where(_inst.c.status == "incident").order_by(_inst.c.updated_at))
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    def lock(self, instance_id: int) -> InstanceRow:
        """The instance, locked until the transaction ends: one writer per instance."""
        row = _LOCK.first(self.conn, {"instance_id": instance_id})
        if row is None:
            raise UnknownInstance(f"process instance {instance_id} does not exist")
        return InstanceRow(*row)

    def save(self, row: InstanceRecord, *, state: str, status: str, outcome: str | None,
             next_timer_at: datetime | None, error: str | None = None, summary: DocumentSummary | None = None,
             withdrawable: bool = False) -> None:
        """``summary`` (what the document is about) and ``withdrawable`` replace the stored ones; with no
        summary both are kept."""
        now = utcnow()
        values: dict[str, Any] = dict(state=state, status=status, outcome=outcome, next_timer_at=next_timer_at,
                                      revision=row.revision + 1, updated_at=now, last_error=error, completed_at=now)
        if summary is not None:
            values.update(subject=summary.subject, amount=summary.amount, currency=summary.currency,
                          purpose=summary.purpose, withdrawable=withdrawable)
        params: dict[str, Any] = {f"new_{k}": v for k, v in values.items()}
        params.update(instance_id=row.id, seen=row.revision)
        def saved_once(count: int) -> None:  # the row lock makes a miss unreachable; the check proves it
            if count != 1:
                raise RuntimeError(f"instance {row.id} was saved by another writer (revision {row.revision})")

        write(self.conn, _SAVES[status == "complete", summary is not None], params, check=saved_once)

    def due_timer_instances(self, now: datetime, limit: int = 100) -> list[int]:
        stmt = (select(_inst.c.id).where(_inst.c.next_timer_at <= now, _inst.c.status != "complete")
                .order_by(_inst.c.next_timer_at).limit(limit))
        return [int(i) for i in self.conn.execute(stmt).scalars()]

    # -- inbox
    def task(self, task_guid: str) -> TaskRow | None:
        row = _TASK.first(self.conn, {"guid": task_guid})
        if row is None:
            return None
        return TaskRow(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6])

    def sync_inbox(self, instance_id: int, ready: list[InboxEntry], *, at: datetime | None = None) -> list[str]:
        """Open rows for newly READY tasks; cancel open rows whose task is no longer READY. Returns the guids of
        the rows it opened: the tasks that opened in this step (each opens once: a row's guid is unique).
        ``at``: the engine's time of the step (a simulation's virtual clock), else now."""
        open_rows = {guid for (guid,) in _OPEN_TASK_GUIDS.all(self.conn, {"instance_id": instance_id})}
        ready_guids = {t.task_guid for t in ready}
        gone = open_rows - ready_guids
        if gone:
            write(self.conn, _CANCEL_TASK, [{"guid": guid} for guid in sorted(gone)], many=True)
            write(self.conn, _DROP_CANDIDATES, [{"guid": guid} for guid in sorted(gone)], many=True)
        new = [t for t in ready if t.task_guid not in open_rows]
        if new:
            now = at or utcnow()
            write(self.conn, _ADD_TASKS, [
                dict(instance_id=instance_id, task_guid=t.task_guid, bpmn_id=t.bpmn_id, title=t.title, lane=t.lane,
                     candidates=json.dumps(t.candidates), assignee=None, form_key=t.form_key, status="open",
                     due_at=t.due_at, created_at=now, candidate_count=len(set(t.candidates))) for t in new], many=True)
            write(self.conn, _ADD_CANDIDATE, [{"guid": t.task_guid, "employee": e}
                                               for t in new for e in dict.fromkeys(t.candidates)], many=True)
        return [t.task_guid for t in new]

    def complete_task(self, task_guid: str, by: str, *, at: datetime | None = None) -> None:
        write(self.conn, _COMPLETE_TASK, {"guid": task_guid, "by": by, "at": at or utcnow()})
        write(self.conn, _DROP_CANDIDATES, {"guid": task_guid})

    def reassign(self, task_guid: str, to: str, *, delegated_by: str | None = None) -> None:
        """Give the task to ``to``; ``delegated_by``: who handed it on (a delegation, shown in their inbox)."""
        values: dict[str, Any] = {"assignee": to}
        if delegated_by is not None:
            values["delegated_by"] = delegated_by
        self.conn.execute(update(_task).where(_task.c.task_guid == task_guid).values(values))
        _TAKEN.execute(self.conn, {"guid": task_guid, "taken": True})

    def claim(self, task_guid: str, user: str) -> bool:
        """Assign an open, unassigned task to ``user``; False if someone holds it already."""
        taken = self.conn.execute(update(_task).where(
            _task.c.task_guid == task_guid, _task.c.status == "open", _task.c.assignee.is_(None))
            .values(assignee=user)).rowcount
        if taken:
            _TAKEN.execute(self.conn, {"guid": task_guid, "taken": True})
        return bool(taken)

    def release(self, task_guid: str, user: str) -> bool:
        """Give an open task ``user`` holds back to its candidates; False if ``user`` does not hold it."""
        given = self.conn.execute(update(_task).where(
            _task.c.task_guid == task_guid, _task.c.status == "open", _task.c.assignee == user)
            .values(assignee=None, delegated_by=None)).rowcount
        if given:
            _TAKEN.execute(self.conn, {"guid": task_guid, "taken": False})
        return bool(given)

    def open_tasks_for(self, employee: str, *, limit: int = 200) -> list[dict[str, Any]]:
        """The open tasks ``employee`` may act on, oldest first: assigned to them, or unassigned with them
        among the candidates (read through the candidate index, never a scan of all open tasks)."""
        rows = self.conn.execute(_mine(employee).limit(limit))
        return [dict(task_guid=guid, bpmn_id=bpmn_id, title=title, lane=lane, document_no=key, instance_id=inst)
                for _, guid, bpmn_id, title, lane, key, inst in rows]

    def involved(self, instance_id: int, employee: str) -> bool:
        """Whether ``employee`` may act on one of the instance's open tasks."""
        mine = _mine(employee).subquery()
        return bool(self.conn.execute(select(exists().where(mine.c.instance_id == instance_id))).scalar())

    def open_tasks_of_instance(self, instance_id: int) -> list[dict[str, Any]]:
        stmt = (select(_task.c.task_guid, _task.c.bpmn_id, _task.c.title, _task.c.lane, _task.c.candidates,
                       _task.c.form_key)
                .where(_task.c.instance_id == instance_id, _task.c.status == "open").order_by(_task.c.id))
        return [dict(task_guid=g, bpmn_id=b, title=t, lane=lane, candidates=json.loads(c), form_key=f)
                for g, b, t, lane, c, f in self.conn.execute(stmt)]

    def orphaned_tasks(self) -> list[dict[str, Any]]:
        """Open tasks no active employee can take: the assignee left, or no candidate is active any more."""
        active = select(Employee.id).where(Employee.active.is_(True))
        assignee_gone = and_(_task.c.assignee.is_not(None), ~exists(active.where(Employee.code == _task.c.assignee)))
        nobody_offered = and_(_task.c.assignee.is_(None), ~exists(
            active.join(_cand, _cand.c.employee == Employee.code).where(_cand.c.task_id == _task.c.id)))
        stmt = (select(_task.c.task_guid, _task.c.bpmn_id, _task.c.title, _task.c.lane, _task.c.assignee,
                       _task.c.candidates, _inst.c.business_key, _inst.c.id)
                .join(_inst, _inst.c.id == _task.c.instance_id)
                .where(_task.c.status == "open", or_(assignee_gone, nobody_offered)).order_by(_task.c.id))
        return [dict(task_guid=g, bpmn_id=b, title=t, lane=lane, assignee=a, candidates=json.loads(c),
                     document_no=key, instance_id=i) for g, b, t, lane, a, c, key, i in self.conn.execute(stmt)]

    def applicant_of(self, business_key: str) -> str | None:
        return _APPLICANT_OF.scalar(self.conn, {"key": business_key})

    def running_on(self, document: str) -> str | None:
        """A flow still running that draws on ``document`` (a claim on its application), if any."""
        return _RUNNING_ON.scalar(self.conn, {"document": document})

    def status_of(self, business_key: str) -> str | None:
        """The status of the flow that owns document ``business_key``, if one does."""
        return self.conn.execute(select(_inst.c.status).where(_inst.c.business_key == business_key)).scalar()

    def outcome_of(self, instance_id: int) -> str | None:
        return self.conn.execute(select(_inst.c.outcome).where(_inst.c.id == instance_id)).scalar()

    # -- outbox
    def enqueue(self, *, instance_id: int, task_guid: str, operator: str, params: dict[str, Any], key: str) -> None:
        """Queue a job once per key: a step run again after a crash finds its job there and adds none."""
        now = utcnow()
        write(self.conn, _ADD_JOB[self.conn.dialect.name], dict(
            instance_id=instance_id, task_guid=task_guid, operator=operator,
            params=json.dumps(params, default=str, ensure_ascii=False), idempotency_key=key, status="pending",
            attempts=0, next_attempt_at=now, created_at=now, updated_at=now))


def running_on_statement(document: Any, instances: Any = _inst) -> Select[tuple[str]]:
    """The key of a running flow that draws on ``document`` (a value or a correlated column); ``instances``
    is an alias of process_instance when the outer query reads that table too."""
    return (select(instances.c.business_key)
            .where(instances.c.linked_document == document, instances.c.status != "complete").limit(1))


_RUNNING_ON = Prepared(running_on_statement(bindparam("document", type_=String(100))))


def _mine(employee: str) -> Any:
    """Open tasks assigned to ``employee``, then unassigned ones listing them as a candidate, by task id."""
    columns = (_task.c.id, _task.c.task_guid, _task.c.bpmn_id, _task.c.title, _task.c.lane, _inst.c.business_key,
               _inst.c.id.label("instance_id"))
    assigned = (select(*columns).join(_inst, _inst.c.id == _task.c.instance_id)
                .where(_task.c.assignee == employee, _task.c.status == "open"))
    offered = (select(*columns).select_from(_cand).join(_task, _task.c.id == _cand.c.task_id)
               .join(_inst, _inst.c.id == _task.c.instance_id)
               .where(_cand.c.employee == employee, _task.c.assignee.is_(None), _task.c.status == "open"))
    both = union_all(assigned, offered).subquery()
    return select(both).order_by(both.c.id)

