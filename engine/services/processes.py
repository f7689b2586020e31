"""Process use cases: deploy, start, complete a task, deliver a message, fire timers.

What comes in is never trusted: forms are checked against their task's schema
(engine/domain/forms.py) before anything reaches the workflow; start data and message
payloads must be plain JSON without engine-set variables; who applies, which org unit's
budget and which application a claim draws on come from stored records, not from the
caller. Refusals and failures are audited by ``steps.audited`` (see steps.py).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.domain.errors import DocumentExists
from engine.domain.forms import FormInvalid, attachment_ids, check_plain_json
from engine.domain.lanes import Directory
from engine.services.lanes import known_lanes
from engine.services.ports import InstanceRecord, TaskRecord, UnitOfWork, UnitOfWorkFactory
from engine.services.steps import (
    NotAllowed,
    Outcome,
    advance_and_save,
    audited,
    bundle_of,
    load_run,
    record_failure,
)
from engine.workflow import bundle as bundles
from engine.workflow.check import check
from engine.workflow.entry_points import starts_on_message
from engine.workflow.errors import BundleInvalid, StepFailed
from engine.workflow.runtime import WorkflowRun
from engine.workflow.service_tasks import new_script_engine

MAX_MESSAGE_BYTES = 16 * 1024


@dataclass(frozen=True)
class Deployment:
    """What ``deploy_version`` did. ``new`` is False when the same files were deployed before (as ``version_id``,
    at ``deployed_at``); ``activated`` when this call made it what new instances start on (asked to, or the
    first version of a database with nothing active: ``first``); ``active`` whether it is active now."""

    version_id: int
    sha256: str
    new: bool
    activated: bool
    active: bool
    first: bool
    deployed_at: datetime


def deploy(uow_factory: UnitOfWorkFactory, files: dict[str, str], *, by: str, label: str | None = None,
           activate: bool = True) -> tuple[int, str]:
    """``deploy_version``'s (version id, sha256): for callers that only need which version holds the files."""
    done = deploy_version(uow_factory, files, by=by, label=label, activate=activate)
    return done.version_id, done.sha256


def deploy_version(uow_factory: UnitOfWorkFactory, files: dict[str, str], *, by: str, label: str | None = None,
                   activate: bool = True) -> Deployment:
    """Store a bundle of diagrams as a model version; with ``activate``, new instances start on it from now.

    Every ``bpmn check`` rule runs first and a bundle without a single .bpmn or .dmn file is refused: nothing
    invalid or empty is stored (BundleInvalid). Files deployed before are not stored again: their version is
    returned (``new`` False). Without ``activate`` the version waits for ``activate``, unless nothing at all is
    active yet (a fresh database): then it is activated at once, since there is nothing else to start on.
    The default (activate) is what setup, the demo and tests want; ``bpmn deploy`` asks for it explicitly.
    """
    if not any(name.endswith((".bpmn", ".dmn")) for name in files):
        raise BundleInvalid(["-:-: no .bpmn or .dmn file: nothing to deploy"])
    with uow_factory() as uow:
        lanes = known_lanes(uow)  # the data dictionary's lanes: a diagram may use those and the built-ins
    problems = check(files, lanes=lanes)  # every caller (the CLI, simulate, the web, the API) gets the same rules
    if problems:
        raise BundleInvalid(problems)
    parsed = bundles.parse(files)
    with uow_factory() as uow:
        existing = uow.instances.version_id_of(parsed.sha256)
        version_id = existing if existing is not None else uow.instances.add_version(
            sha=parsed.sha256, files=dict(files), process_ids=list(parsed.processes), by=by, label=label)
        first = not activate and not uow.instances.active_versions()
        activated = (activate or first) and _activate(uow, version_id, list(parsed.processes), by=by)
        active = _is_active(uow, version_id, list(parsed.processes))
        stored = next(v for v in uow.instances.versions(instance_counts=False) if v["id"] == version_id)
        uow.commit()
    bundles.remember(parsed)
    return Deployment(version_id, parsed.sha256, existing is None, activated, active, first and activated,
                      stored["deployed_at"])


def activate(uow_factory: UnitOfWorkFactory, version_id: int, *, by: str) -> bool:
    """Make model version ``version_id`` what new instances of each of its processes start on; audited.

    A rollback is activating an older version. Running instances keep the version they started on.
    False if it was active for all its processes already (nothing recorded); NotAllowed if there is none.
    """
    with audited(uow_factory, actor=by, subject=f"activate model version {version_id}"), uow_factory() as uow:
        found = next((v for v in uow.instances.versions(instance_counts=False) if v["id"] == version_id), None)
        if found is None:
            raise NotAllowed(f"there is no model version {version_id}; `budgetflow bpmn list` shows them")
        changed = _activate(uow, version_id, [p for p in str(found["process_ids"]).split(",") if p], by=by)
        uow.commit()
    return changed


def _activate(uow: UnitOfWork, version_id: int, process_ids: list[str], *, by: str) -> bool:
    """Record and audit an activation unless the version is active for every one of its processes already."""
    before = uow.instances.active_versions()
    if _is_active(uow, version_id, process_ids):
        return False
    uow.instances.activate(version_id, by=by)
    uow.record(actor=by, action="model.activated", subject_type="model_version", subject_id=str(version_id),
               payload={"processes": sorted(process_ids),
                        "replaces": {p: before[p] for p in sorted(process_ids) if p in before}})
    return True


def _is_active(uow: UnitOfWork, version_id: int, process_ids: list[str]) -> bool:
    active = uow.instances.active_versions()
    return all(active.get(p) == version_id for p in process_ids)


def start(uow_factory: UnitOfWorkFactory, *, process_id: str, applicant: str, business_key: str,
          data: dict[str, Any] | None = None, application_no: str | None = None,
          message: tuple[str, dict[str, Any]] | None = None, actor: str | None = None,
          now: datetime | None = None) -> Outcome:
    """Start ``process_id`` on its active model version (``activate``) for ``applicant`` (an active employee).

    ``data`` is plain JSON the diagram starts with; it may not set engine variables (the
    applicant's org unit, the document number, countersigners, reservations...): the engine
    sets those from the directory and the ledger. ``application_no`` links a claim to the
    applicant's own approved application, whose open reservation it then draws on.

    ``message`` (name, payload) starts a process whose start event waits for that message (an approval
    finished in the OA, mode 1); ``actor`` is who the audit names (default: the applicant). ``now`` is the
    engine's time for this step (a simulation's virtual clock; default the real one), see ``_at``.
    """
    actor = actor or applicant
    with audited(uow_factory, actor=actor, subject=f"start {process_id} {business_key}"), uow_factory() as uow:
        data = dict(data or {})
        check_plain_json(data, what="start data")
        _require_active(uow, applicant, what="applicant")
        found = uow.instances.active_version(process_id)
        if found is None:
            raise NotAllowed(f"process {process_id!r} is not deployed and activated; run "
                             "`budgetflow bpmn deploy --activate`")
        version_id, sha = found
        bundle = bundle_of(uow, sha)
        if message is None and starts_on_message(bundle, process_id):
            raise NotAllowed(f"process {process_id!r} starts when its approval arrives from the OA, not by hand")
        engine_set = sorted(set(data) & bundle.protected)
        if engine_set:
            raise FormInvalid([f"{k}: set by the engine, not by the caller" for k in engine_set], form="start data")
        if uow.instances.id_of(business_key) is not None:
            raise DocumentExists(f"document {business_key} already exists; every document number is used once")
        unit = uow.directory.unit_of(applicant)
        if unit is None:
            raise NotAllowed(f"{applicant} belongs to no org unit, so no budget line can be found for them")
        engine_data: dict[str, Any] = {
            "countersigners": _default_countersigners(uow.directory, applicant), "applicant": applicant,
            "document_no": business_key, "org_unit": unit.code}
        if application_no is not None:
            engine_data.update(application_no=application_no,
                               reservation_id=_linked_reservation(uow, applicant, application_no))
        row = uow.instances.create(version_id=version_id, sha=sha, process_id=process_id, business_key=business_key,
                                   applicant=applicant, linked_document=application_no, org_unit=unit.code)
        uow.journal.append(row.id, kind="start", element=process_id, actor=actor, at=now or datetime.now(UTC),
                           payload={"data": data, "application_no": application_no, "message": message})
        run = WorkflowRun.start(bundle, process_id, {**data, **engine_data}, new_script_engine())
        if message is not None and not run.start_on_message(*message):
            raise NotAllowed(f"process {process_id!r} does not start on message {message[0]!r}")
        uow.record(actor=actor, action="process.started", subject_type="process_instance",
                   subject_id=business_key, payload={"process": process_id, "model": sha[:12], "id": row.id,
                                                     **({"message": message[0]} if message else {})})
        with _at(run, now):
            outcome = advance_and_save(uow, row, run)
        uow.commit()
    return outcome


def _linked_reservation(uow: UnitOfWork, applicant: str, application_no: str) -> int:
    """The open reservation of ``applicant``'s own approved application ``application_no``, checked in the records."""
    document = uow.instances.document(application_no)
    if document is None or document["applicant"] != applicant:
        raise NotAllowed(f"{application_no} is not an application of {applicant}")
    if (document["status"], document["outcome"]) != ("complete", "approved"):
        raise NotAllowed(f"{application_no} is not approved ({document['outcome'] or document['status']}); "
                         "claim it once it is, or make a standalone claim")
    claim = uow.instances.running_on(application_no)
    if claim is not None:
        raise NotAllowed(f"claim {claim} is already in progress against {application_no}")
    reservation_id = uow.claims.open_reservation_of(application_no)
    if reservation_id is None:
        raise NotAllowed(f"{application_no} holds no open reservation (already claimed, released or expired); "
                         "make a standalone claim")
    return int(reservation_id)


def complete_task(uow_factory: UnitOfWorkFactory, *, task_guid: str, user: str, form: dict[str, Any],
                  now: datetime | None = None) -> Outcome:
    """Complete a user task as ``user`` with a form checked against the task's schema.

    Checked at completion time: the user is active and a candidate or the assignee, and no
    applicant approves their own request. The form is refused whole, naming each bad field.
    """
    with audited(uow_factory, actor=user, subject=task_guid), uow_factory() as uow:
        task = uow.instances.task(task_guid)
        if task is None or task.status != "open":
            raise NotAllowed(f"task {task_guid} is not open")
        row, run = load_run(uow, task.instance_id)
        authorize(uow, task, user=user, applicant=row.applicant)
        fields = _checked_form(uow, row, run, task_guid, form)
        run.complete(task_guid, fields)
        uow.instances.complete_task(task_guid, user, at=now)
        uow.journal.append(row.id, kind="task", element=task.bpmn_id, actor=user, payload=fields,
                           at=now or datetime.now(UTC))
        uow.record(actor=user, action="task.completed", subject_type="process_instance",
                   subject_id=row.business_key, payload={"task": task.bpmn_id, "guid": task_guid,
                                                         **_decision(fields)})
        with _at(run, now):
            outcome = advance_and_save(uow, row, run)
        uow.commit()
    return outcome


def _checked_form(uow: UnitOfWork, row: InstanceRecord, run: WorkflowRun, task_guid: str, form: Any) -> dict[str, Any]:
    ready = run.ready_task(task_guid)
    bundle = bundle_of(uow, row.model_sha)
    if ready.form_key is None:  # a task without a form takes no fields
        if form:
            raise FormInvalid([f"{k}: unknown field (this task has no form)" for k in form]
                              if isinstance(form, dict) else ["this task has no form"], form=ready.bpmn_id)
        return {}
    schema = bundle.form(ready.diagram_file, ready.form_key)
    fields = schema.clean(form, current=run.task_data(task_guid), protected=bundle.protected,
                          keep_current=ready.lane in (None, "applicant"))
    named = list(attachment_ids(schema.schema, fields))
    if named:  # receipts: only files attached to this very document
        known = uow.attachments.ids_of(row.business_key)
        foreign = [f"{path}: {value} is not an attachment of {row.business_key}" for path, value in named
                   if value not in known]
        if foreign:
            raise FormInvalid(foreign, form=ready.bpmn_id)
    return fields


def _decision(form: dict[str, Any]) -> dict[str, Any]:
    """What the audit keeps of a form: the decision and the comment, not every field."""
    return {k: str(form[k])[:500] for k in ("decision", "comment") if k in form}


def send_message(uow_factory: UnitOfWorkFactory, *, instance_id: int, name: str, payload: dict[str, Any],
                 user: str, now: datetime | None = None) -> Outcome:
    """Deliver a message (``withdraw`` by the applicant, OA callbacks): refused if nothing waits for it."""
    with audited(uow_factory, actor=user, subject=f"message {name} to instance {instance_id}"), \
            uow_factory() as uow:
        check_plain_json(payload, what=f"the {name} message", max_bytes=MAX_MESSAGE_BYTES)
        row, run = load_run(uow, instance_id)
        if name == "withdraw" and user != row.applicant:
            raise NotAllowed(f"only the applicant {row.applicant} may withdraw {row.business_key}")
        if not run.send_message(name, {**payload, "by": user}):
            raise NotAllowed(f"{row.business_key} is not waiting for {name!r} (already decided?)")
        uow.journal.append(row.id, kind="message", element=name, actor=user, payload=payload,
                           at=now or datetime.now(UTC))
        uow.record(actor=user, action=f"message.{name}", subject_type="process_instance",
                   subject_id=row.business_key, payload={k: str(v)[:200] for k, v in payload.items()})
        with _at(run, now):
            outcome = advance_and_save(uow, row, run)
        uow.commit()
    return outcome


def fire_due_timers(uow_factory: UnitOfWorkFactory, *, now: datetime) -> int:
    """Run every instance whose next timer is due, each in its own transaction under its row lock.

    ``now`` is the time for the engine too: timers fire, start and coalesce by it (engine/workflow/timers.py).
    An instance whose step fails goes into ``incident`` (its timers stop until an admin retries
    it); the others go on.
    """
    with uow_factory() as uow:
        due = uow.instances.due_timer_instances(now)
    fired = 0
    for instance_id in due:
        try:
            with uow_factory() as uow:
                row, run = load_run(uow, instance_id)
                before = run.next_timer_at()
                with run.at(now):  # timers fire by ``now``; cycle occurrences missed meanwhile coalesce
                    advance_and_save(uow, row, run)
                if before is not None and before <= now:  # the journal keeps when a timer fired, for replay
                    uow.journal.append(row.id, kind="timer", element="timer", actor="scheduler", payload={}, at=now)
                uow.commit()
        except StepFailed as failed:
            record_failure(uow_factory, failed, actor="scheduler", stop_timers=True)
            continue
        fired += int(before is not None and before <= now)
    return fired


def _at(run: WorkflowRun, now: datetime | None) -> AbstractContextManager[None]:
    """The engine pass runs at ``now`` when given: timers a task starts are due from then, and due ones fire by it.
    A simulation or a scenario drives its virtual clock through this; callers serving people leave it unset."""
    return run.at(now) if now is not None else nullcontext()


def _default_countersigners(directory: Directory, applicant: str) -> list[str]:
    """Who co-signs (会签) when the DMN asks for it and the request names nobody: budget admins and finance."""
    people = directory.with_roles("budget_admin") + directory.with_roles("finance")
    return [p for p in dict.fromkeys(people) if p != applicant]


def _require_active(uow: UnitOfWork, employee: str, *, what: str) -> None:
    if not uow.directory.is_active(employee):
        raise NotAllowed(f"{what} {employee} is not an active employee")


def authorize(uow: UnitOfWork, task: TaskRecord, *, user: str, applicant: str) -> None:
    """NotAllowed unless ``user`` may complete ``task`` now: the assignee (or, unassigned, a candidate), active,
    and not the applicant outside the applicant lane. The read models ask the same question (``may_act``)."""
    allowed = task.assignee == user if task.assignee else user in task.candidates
    if not allowed:
        raise NotAllowed(f"{user} is not a candidate for task {task.bpmn_id} ({task.task_guid})")
    if user == applicant and task.lane not in (None, "applicant"):
        raise NotAllowed(f"{user} applied for this and may not approve it (segregation of duties)")
    _require_active(uow, user, what="user")
