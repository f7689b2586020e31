"""Process use cases: deploy, start, complete a task, deliver a message, fire timers.

Every write follows one shape (spiffworkflow.md §16): lock the instance row, load
its state, let the engine run to the next wait state, rebuild the inbox rows,
save, commit: one transaction, one writer per instance. Budget operators book
in the same transaction; calls to other systems become outbox jobs in it.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.domain.errors import BudgetflowError
from engine.domain.inbox import InboxEntry
from engine.domain.lanes import candidates
from engine.services.operators import InstanceOperators
from engine.workflow import bundle as bundles
from engine.workflow.runtime import ReadyTask, WorkflowRun
from engine.workflow.scripting import new_script_engine


class _LiveWorkflows:
    """Workflows this process committed, by instance: skips deserialising on the next step.

    Taken out on load (so a failed transaction can never leave a mutated object behind)
    and put back only after a commit; an entry counts only at the exact revision it saved.
    """

    def __init__(self, capacity: int = 1000) -> None:
        self._items: OrderedDict[int, tuple[int, WorkflowRun]] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def take(self, instance_id: int, revision: int) -> WorkflowRun | None:
        with self._lock:
            found = self._items.pop(instance_id, None)
        return found[1] if found and found[0] == revision else None

    def put(self, instance_id: int, revision: int, run: WorkflowRun) -> None:
        with self._lock:
            self._items[instance_id] = (revision, run)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)


_LIVE = _LiveWorkflows()


class NotAllowed(BudgetflowError):
    code = "NOT_ALLOWED"


@dataclass(frozen=True)
class Outcome:
    instance_id: int
    status: str
    outcome: str | None
    open_tasks: list[dict[str, Any]]


UowFactory = Callable[[], Any]


def deploy(uow_factory: UowFactory, files: dict[str, str], *, by: str, label: str | None = None) -> tuple[int, str]:
    """Publish a bundle of diagrams as a model version (parse first: nothing invalid is stored)."""
    parsed = bundles.parse(files)
    with uow_factory() as uow:
        version_id = uow.instances.add_version(sha=parsed.sha256, files=dict(files),
                                               process_ids=list(parsed.processes), by=by, label=label)
        uow.commit()
    bundles.remember(parsed)
    return version_id, parsed.sha256


def start(uow_factory: UowFactory, *, process_id: str, applicant: str, business_key: str,
          data: dict[str, Any]) -> Outcome:
    """Start ``process_id`` on its latest model version; the instance stays pinned to that version."""
    with uow_factory() as uow:
        if not uow.directory.exists(applicant):
            raise NotAllowed(f"unknown applicant {applicant!r}")
        found = uow.instances.latest_version(process_id)
        if found is None:
            raise BudgetflowError(f"process {process_id!r} is not deployed; run `budgetflow bpmn deploy`")
        version_id, sha = found
        linked = data.get("application_no")  # a claim made from an application draws on its reservation
        row = uow.instances.create(version_id=version_id, sha=sha, process_id=process_id, business_key=business_key,
                                   applicant=applicant, linked_document=str(linked) if linked else None)
        bundle = _bundle(uow, sha)
        start_data = {"countersigners": _default_countersigners(uow.directory, applicant), **data,
                      "applicant": applicant, "document_no": business_key}
        run = WorkflowRun.start(bundle, process_id, start_data, new_script_engine())
        uow.record(actor=applicant, action="process.started", subject_type="process_instance",
                   subject_id=business_key, payload={"process": process_id, "model": sha[:12], "id": row.id})
        outcome = advance_and_save(uow, row, run)
        uow.commit()
    return outcome


def complete_task(uow_factory: UowFactory, *, task_guid: str, user: str, form: dict[str, Any]) -> Outcome:
    """Complete a user task as ``user``, checked at completion time (candidate or assignee; no self-approval)."""
    try:
        with uow_factory() as uow:
            task = uow.instances.task(task_guid)
            if task is None or task.status != "open":
                raise NotAllowed(f"task {task_guid} is not open")
            row, run = load_run(uow, task.instance_id)
            _authorize(task, user=user, applicant=row.applicant)
            run.complete(task_guid, form)
            uow.instances.complete_task(task_guid, user)
            uow.record(actor=user, action="task.completed", subject_type="process_instance",
                       subject_id=row.business_key, payload={"task": task.bpmn_id, "guid": task_guid,
                                                             **_decision(form)})
            outcome = advance_and_save(uow, row, run)
            uow.commit()
    except NotAllowed as refused:
        record_refusal(uow_factory, user=user, subject=task_guid, reason=str(refused))
        raise
    return outcome


def _decision(form: dict[str, Any]) -> dict[str, Any]:
    """What the audit keeps of a form: the decision and the comment, not every field."""
    return {k: str(form[k])[:500] for k in ("decision", "comment") if k in form}


def record_refusal(uow_factory: UowFactory, *, user: str, subject: str, reason: str) -> None:
    """Every refused action is an audit event of its own (ASVS 16.3.2), committed apart from the refusal."""
    with uow_factory() as uow:
        uow.record(actor=user, action="access.refused", subject_type="task", subject_id=subject,
                   payload={"reason": reason[:500]})
        uow.commit()


def send_message(uow_factory: UowFactory, *, instance_id: int, name: str, payload: dict[str, Any],
                 user: str) -> Outcome:
    """Deliver a message (``withdraw`` by the applicant, OA callbacks): refused if nothing waits for it."""
    with uow_factory() as uow:
        row, run = load_run(uow, instance_id)
        if name == "withdraw" and user != row.applicant:
            raise NotAllowed(f"only the applicant {row.applicant} may withdraw {row.business_key}")
        if not run.send_message(name, {**payload, "by": user}):
            raise NotAllowed(f"{row.business_key} is not waiting for {name!r} (already decided?)")
        uow.record(actor=user, action=f"message.{name}", subject_type="process_instance",
                   subject_id=row.business_key, payload={k: str(v)[:200] for k, v in payload.items()})
        outcome = advance_and_save(uow, row, run)
        uow.commit()
    return outcome


def delegate(uow_factory: UowFactory, *, task_guid: str, user: str, to: str, reason: str = "") -> None:
    """Hand a task to someone else (转交); the new assignee alone may then act, never the applicant."""
    try:
        with uow_factory() as uow:
            task = uow.instances.task(task_guid)
            if task is None or task.status != "open":
                raise NotAllowed(f"task {task_guid} is not open")
            row = uow.instances.lock(task.instance_id)
            _authorize(task, user=user, applicant=row.applicant)
            if to == row.applicant or not uow.directory.exists(to):
                raise NotAllowed(f"{to} cannot take over task {task.bpmn_id}: unknown, or the applicant")
            uow.instances.reassign(task_guid, to)
            uow.record(actor=user, action="task.delegated", subject_type="process_instance",
                       subject_id=row.business_key, payload={"task": task.bpmn_id, "to": to, "reason": reason[:500]})
            uow.commit()
    except NotAllowed as refused:
        record_refusal(uow_factory, user=user, subject=task_guid, reason=str(refused))
        raise


def comment(uow_factory: UowFactory, *, instance_id: int, user: str, text: str) -> None:
    """Add a comment to a request; anyone involved (applicant or a candidate of an open task) may."""
    with uow_factory() as uow:
        row = uow.instances.lock(instance_id)
        involved = user == row.applicant or uow.instances.involved(instance_id, user)
        if not involved:
            raise NotAllowed(f"{user} is not involved in {row.business_key}")
        uow.record(actor=user, action="comment", subject_type="process_instance", subject_id=row.business_key,
                   payload={"text": text[:2000]})
        uow.commit()


def fire_due_timers(uow_factory: UowFactory, *, now: datetime) -> int:
    """Run every instance whose next timer is due; each in its own transaction under its row lock."""
    with uow_factory() as uow:
        due = uow.instances.due_timer_instances(now)
    fired = 0
    for instance_id in due:
        with uow_factory() as uow:
            row, run = load_run(uow, instance_id)
            before = run.next_timer_at()
            advance_and_save(uow, row, run)
            uow.commit()
            fired += int(before is not None and before <= now)
    return fired


def _default_countersigners(directory: Any, applicant: str) -> list[str]:
    """Who co-signs (会签) when the DMN asks for it and the request names nobody: budget admins and finance."""
    people = directory.with_roles("budget_admin") + directory.with_roles("finance")
    return [p for p in dict.fromkeys(people) if p != applicant]


def _authorize(task: Any, *, user: str, applicant: str) -> None:
    allowed = task.assignee == user if task.assignee else user in task.candidates
    if not allowed:
        raise NotAllowed(f"{user} is not a candidate for task {task.bpmn_id} ({task.task_guid})")
    if user == applicant and task.lane not in (None, "applicant"):
        raise NotAllowed(f"{user} applied for this and may not approve it (segregation of duties)")


def _bundle(uow: Any, sha: str) -> bundles.Bundle:
    return bundles.cached(sha, lambda: uow.instances.version_files(sha))


def load_run(uow: Any, instance_id: int) -> tuple[Any, WorkflowRun]:
    """Lock an instance and load its workflow (its bundle first, from the cache or the database).

    The live object a previous transaction of this process committed is reused when the
    locked row still has the revision it saved: the row proves nobody changed it since.
    """
    row = uow.instances.lock(instance_id)
    _bundle(uow, row.model_sha)
    cached = _LIVE.take(instance_id, row.revision)
    return row, cached or WorkflowRun.load(row.state, new_script_engine())


def advance_and_save(uow: Any, row: Any, run: WorkflowRun) -> Outcome:
    """Run the engine to its next wait state, then rebuild the inbox rows and save: the locked ``row``'s step."""
    instance_id, document = row.id, row.business_key

    steps: list[dict[str, str]] = []
    run.advance(InstanceOperators(uow, instance_id),
                on_step=lambda s: steps.append({"task": s.bpmn_id, "kind": s.kind, "state": s.state}))
    if steps:  # one audit row per engine pass, listing every decision the engine took in it
        uow.record(actor="engine", action="engine.steps", subject_type="process_instance", subject_id=document,
                   payload={"steps": steps})
    applicant = row.applicant
    status, ready = run.settle()
    entries = [_inbox_entry(t, applicant=applicant, directory=uow.directory) for t in ready]
    uow.instances.sync_inbox(instance_id, entries)
    data = run.data
    outcome = data.get("outcome") if isinstance(data.get("outcome"), str) else None
    if status == "complete" and outcome != "posted":
        uow.claims.release_invoices(document)  # unpaid: its invoices may be claimed again
    uow.instances.save(row, state=run.dump(), status=status, outcome=outcome, next_timer_at=run.next_timer_at())
    uow.after_commit(lambda: _LIVE.put(instance_id, row.revision + 1, run))
    return Outcome(instance_id, status, outcome, [json.loads(json.dumps(e.__dict__, default=str)) for e in entries])


def _inbox_entry(task: ReadyTask, *, applicant: str, directory: Any) -> InboxEntry:
    people = candidates(task.lane, applicant=applicant, directory=directory, approver=task.approver,
                        owners=task.lane_owners)
    return InboxEntry(task.task_guid, task.bpmn_id, task.name, task.lane, people, task.form_key, task.due_at)
