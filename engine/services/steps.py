"""One engine step of one instance, and what happens when it is refused or fails.

Every write follows one shape (docs/engine.md, "One writer per instance"): lock the instance row, load its
state, let the engine run to the next wait state, rebuild the inbox rows, save, commit:
one transaction, one writer per instance. Budget operators book in the same transaction;
calls to other systems become outbox jobs in it, and so do the work notifications of the user tasks
that opened (``task_opened.py``).

Two things can stop a step, and both are audited in a transaction of their own once the
step's transaction has rolled back (so nothing of the step is kept):

- a **refusal** (``NotAllowed``, an invalid form, a duplicate document): the caller asked
  for something they may not do. The instance is untouched; ``access.refused`` is audited.
- a **failure** (``StepFailed``): the engine could not run the instance (a script error, a
  state that cannot be loaded or saved, an operator error no boundary event catches). The
  instance goes into ``incident`` with the element and the error, for an admin to see
  (``budgetflow incidents list``); ``engine.step_failed`` is audited. A failure never stops
  the worker, the scheduler or any other instance.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from engine.domain.errors import BudgetflowError, DocumentExists
from engine.domain.forms import FormInvalid
from engine.domain.inbox import InboxEntry
from engine.domain.lanes import UnknownLane
from engine.domain.summary import summarize
from engine.persistence.db_errors import classify, short_text
from engine.services.lanes import task_candidates
from engine.services.operators import InstanceOperators
from engine.services.ports import InstanceRecord, UnitOfWork, UnitOfWorkFactory
from engine.services.task_opened import queue_notifications
from engine.workflow import bundle as bundles
from engine.workflow.errors import StepFailed, TaskNotReady
from engine.workflow.runtime import ReadyTask, WorkflowRun
from engine.workflow.service_tasks import new_script_engine

log = logging.getLogger(__name__)


class NotAllowed(BudgetflowError):
    code = "NOT_ALLOWED"


REFUSALS = (NotAllowed, FormInvalid, DocumentExists, TaskNotReady)
ADMIN_ROLE = "admin"


def is_admin(uow: UnitOfWork, employee: str) -> bool:
    """Whether ``employee`` is an active admin (reassigns tasks, retries and cancels instances)."""
    return employee in uow.directory.with_roles(ADMIN_ROLE)


# The live-workflow cache's bounds (see _LiveWorkflows): an instance of the shipped diagrams is 300-700 tracked
# objects and 10-40 KB of state; 50 of them keep what a full collection scans near 35k objects (measured: with
# 100, full collections paused 65 ms of CPU; with 1,000, 0.4-0.5 s). A miss costs one state load (1-5 ms).
LIVE_CAPACITY = 50
LIVE_MAX_BYTES = 2 * 2**20


@dataclass(frozen=True)
class Outcome:
    instance_id: int
    status: str
    outcome: str | None
    open_tasks: list[dict[str, Any]]


class _LiveWorkflows:
    """Workflows this process committed, by instance: skips deserialising on the next step.

    Taken out on load (so a failed transaction can never leave a mutated object behind)
    and put back only after a commit; an entry counts only at the exact revision it saved.

    Bounded by count and by the size of the states they were saved as (a workflow's object count grows with
    its state): every cached task tree is scanned by each full garbage collection, so the bound is what keeps
    those pauses short (docs/engine.md, "Garbage collection and memory"). The least recently saved go first.
    """

    def __init__(self, capacity: int = LIVE_CAPACITY, max_bytes: int = LIVE_MAX_BYTES) -> None:
        self._items: OrderedDict[int, tuple[int, WorkflowRun, int]] = OrderedDict()
        self._capacity, self._max_bytes, self._bytes = capacity, max_bytes, 0
        self.releases = True  # False only for ``bench memory --untuned``: dropped runs left to the collector
        self._lock = threading.Lock()

    def take(self, instance_id: int, revision: int) -> WorkflowRun | None:
        with self._lock:
            found = self._items.pop(instance_id, None)
            if found is not None:
                self._bytes -= found[2]
        if found is None:
            return None
        if found[0] != revision:  # another process moved the instance on: this copy is dead
            self._release([found[1]])
            return None
        return found[1]

    def put(self, instance_id: int, revision: int, run: WorkflowRun, *, size: int = 0) -> None:
        """Keep ``run`` at ``revision``; ``size``: the length of the state it was saved as."""
        with self._lock:
            old = self._items.pop(instance_id, None)
            self._bytes += size - (old[2] if old else 0)
            self._items[instance_id] = (revision, run, size)
            dropped = [old[1]] if old and old[1] is not run else []
            dropped += self._shrink()
        self._release(dropped)

    def resize(self, capacity: int, max_bytes: int) -> None:
        """New bounds (``bench memory --untuned`` measures the old ones); drops what no longer fits."""
        with self._lock:
            self._capacity, self._max_bytes = capacity, max_bytes
            dropped = self._shrink()
        self._release(dropped)

    def _shrink(self) -> list[WorkflowRun]:
        """Drop the least recently saved until the bounds hold (the caller holds the lock)."""
        dropped = []
        while self._items and (len(self._items) > self._capacity or self._bytes > self._max_bytes):
            _instance, (_revision, run, size) = self._items.popitem(last=False)
            self._bytes -= size
            dropped.append(run)
        return dropped

    def _release(self, dropped: list[WorkflowRun]) -> None:
        """Nobody uses a run once it is in the cache (``take`` hands it out and forgets it), so what the cache
        drops is garbage: freed now, in small pieces, rather than by a full collection (WorkflowRun.release)."""
        for run in dropped if self.releases else ():
            run.release()

    def __len__(self) -> int:
        return len(self._items)


_LIVE = _LiveWorkflows()


def resize_live_cache(capacity: int = LIVE_CAPACITY, max_bytes: int = LIVE_MAX_BYTES, *, releases: bool = True
                      ) -> None:
    """Bound this process's cache of live workflows (default: the bounds above); ``releases=False`` leaves the
    runs it drops to the garbage collector, as before issue 13 (``bench memory --untuned``)."""
    _LIVE.releases = releases
    _LIVE.resize(capacity, max_bytes)


def live_cache_size() -> int:
    """How many live workflows this process holds now."""
    return len(_LIVE)


# ---------------------------------------------------------------- the step

def bundle_of(uow: UnitOfWork, sha: str) -> bundles.Bundle:
    return bundles.cached(sha, lambda: uow.instances.version_files(sha))


def load_run(uow: UnitOfWork, instance_id: int) -> tuple[InstanceRecord, WorkflowRun]:
    """Lock an instance and load its workflow (its bundle first, from the cache or the database).

    The live object a previous transaction of this process committed is reused when the
    locked row still has the revision it saved: the row proves nobody changed it since.
    Raises StepFailed (carrying the instance) if the saved state cannot be loaded.
    """
    row = uow.instances.lock(instance_id)
    try:
        bundle_of(uow, row.model_sha)
        run = _LIVE.take(instance_id, row.revision) or WorkflowRun.load(row.state, new_script_engine())
    except StepFailed as failed:  # the saved state itself is poisoned: the incident is still this instance's
        failed.details.update(_owner(row))
        raise
    run.details = _owner(row)  # every later StepFailed of this run names its instance
    return row, run


def _owner(row: InstanceRecord) -> dict[str, Any]:
    return {"instance_id": row.id, "document": row.business_key}


def advance_and_save(uow: UnitOfWork, row: InstanceRecord, run: WorkflowRun) -> Outcome:
    """Run the engine to its next wait state, then rebuild the inbox rows and save: the locked ``row``'s step."""
    instance_id, document = row.id, row.business_key
    run.details = _owner(row)  # a run that was just started has none yet
    steps: list[dict[str, str]] = []
    run.advance(InstanceOperators(uow, row),
                on_step=lambda s: steps.append({"task": s.bpmn_id, "kind": s.kind, "state": s.state}))
    if steps:  # one audit row per engine pass, listing every decision the engine took in it
        uow.record(actor="engine", action="engine.steps", subject_type="process_instance", subject_id=document,
                   payload={"steps": steps})
    status, ready = run.settle()
    entries = [_inbox_entry(t, run, row=row, uow=uow) for t in ready]
    state = run.dump()
    opened = uow.instances.sync_inbox(instance_id, entries, at=run.now)  # a simulation's inbox keeps its clock
    if opened:
        queue_notifications(uow, row, ready, opened)  # in this transaction: a rolled-back step queues nothing
    data = run.data
    outcome = data.get("outcome") if isinstance(data.get("outcome"), str) else None
    if status == "complete" and outcome != "posted":
        uow.claims.release_invoices(document)  # unpaid: its invoices may be claimed again
    uow.instances.save(row, state=state, status=status, outcome=outcome, next_timer_at=run.next_timer_at(),
                       summary=summarize(data), withdrawable=status != "complete" and run.waits_for("withdraw"))
    uow.after_commit(lambda: _LIVE.put(instance_id, row.revision + 1, run, size=len(state)))
    return Outcome(instance_id, status, outcome, [json.loads(json.dumps(e.__dict__, default=str)) for e in entries])


def _inbox_entry(task: ReadyTask, run: WorkflowRun, *, row: InstanceRecord, uow: UnitOfWork) -> InboxEntry:
    """The inbox row of a task that is ready: its candidates by its lane's rules (engine/services/lanes.py)."""
    try:
        people = task_candidates(uow, row, task, run.task_data(task.task_guid))
    except UnknownLane as exc:
        failed = StepFailed.of(task.bpmn_id, exc)
        failed.details.update(run.details)
        raise failed from exc
    return InboxEntry(task.task_guid, task.bpmn_id, task.name, task.lane, people, task.form_key, task.due_at)


# ---------------------------------------------------------------- refusals and failures

@contextmanager
def audited(uow_factory: UnitOfWorkFactory, *, actor: str, subject: str, stop_timers: bool = False) -> Iterator[None]:
    """Audit what stops the enclosed step, after its transaction has rolled back; then re-raise it."""
    try:
        yield
    except REFUSALS as refused:
        record_refusal(uow_factory, user=actor, subject=subject, reason=str(refused))
        raise
    except StepFailed as failed:
        record_failure(uow_factory, failed, actor=actor, stop_timers=stop_timers)
        raise


def record_refusal(uow_factory: UnitOfWorkFactory, *, user: str, subject: str, reason: str) -> None:
    """Every refused action is an audit event of its own (ASVS 16.3.2), committed apart from the refusal."""
    with uow_factory() as uow:
        uow.record(actor=user, action="access.refused", subject_type="task", subject_id=subject,
                   payload={"reason": reason[:500]})
        uow.commit()


def record_failure(uow_factory: UnitOfWorkFactory, failed: StepFailed, *, actor: str, stop_timers: bool) -> None:
    """Put the failed instance into ``incident`` (element and error kept) and audit it; the state is untouched.

    ``stop_timers``: the failure came from a timer or a job, which would run into it again at every
    poll; the instance's timers wait until an admin retries it.
    """
    instance_id = failed.details.get("instance_id")
    reason = step_text(failed)
    log.warning("step failed on instance %s at %s: %s", instance_id, failed.where, reason)
    if not isinstance(instance_id, int):
        return
    with uow_factory() as uow:  # "file:element: what failed": where a designer looks, never a traceback
        uow.instances.mark_incident(instance_id, error=f"{failed.where}: {reason}", stop_timers=stop_timers)
        uow.record(actor=actor, action="engine.step_failed", subject_type="process_instance",
                   subject_id=str(failed.details.get("document", instance_id)),
                   payload={"element": failed.element, "error": reason, "id": instance_id,
                            **({"file": failed.file} if failed.file else {})})
        uow.commit()


def step_text(failed: StepFailed) -> str:
    """The failure's reason as one short line; a database error's SQL and values never reach it."""
    cause = failed.__cause__
    return short_text(cause) if cause is not None and classify(cause) is not None else failed.reason[:500]
