"""Who holds a task: delegation (转交), comments, and tasks nobody active can take any more.

An employee who leaves (``active`` false in the data dictionary) can no longer act: the
candidate check at completion refuses them and lane resolution skips them. Their open
tasks are listed by ``orphaned_tasks`` for an admin to ``reassign``; every change of hands
is audited.
"""

from __future__ import annotations

from typing import Any

from engine.services.ports import TaskRecord, UnitOfWork, UnitOfWorkFactory
from engine.services.processes import authorize
from engine.services.steps import NotAllowed, audited, is_admin


def delegate(uow_factory: UnitOfWorkFactory, *, task_guid: str, user: str, to: str, reason: str = "") -> None:
    """Hand a task to someone else (转交); the new assignee alone may then act, never the applicant."""
    with audited(uow_factory, actor=user, subject=task_guid), uow_factory() as uow:
        task = _open_task(uow, task_guid)
        row = uow.instances.lock(task.instance_id)
        allowed = task.assignee == user if task.assignee else user in task.candidates
        if not allowed or not uow.directory.is_active(user):
            raise NotAllowed(f"{user} is not a candidate for task {task.bpmn_id} ({task.task_guid})")
        _check_new_holder(uow, task, to=to, by=user, applicant=row.applicant)
        uow.instances.reassign(task_guid, to, delegated_by=user)
        uow.record(actor=user, action="task.delegated", subject_type="process_instance",
                   subject_id=row.business_key, payload={"task": task.bpmn_id, "to": to, "reason": reason[:500]})
        uow.commit()


def reassign(uow_factory: UnitOfWorkFactory, *, task_guid: str, to: str, by: str, reason: str) -> None:
    """An admin gives a task to ``to`` (an orphaned task, typically); the reason is required and audited."""
    with audited(uow_factory, actor=by, subject=task_guid), uow_factory() as uow:
        if not reason.strip():
            raise NotAllowed("say why the task is reassigned (--reason)")
        if not is_admin(uow, by):
            raise NotAllowed(f"{by} is not an admin; only admins reassign tasks")
        task = _open_task(uow, task_guid)
        row = uow.instances.lock(task.instance_id)
        _check_new_holder(uow, task, to=to, by=by, applicant=row.applicant)
        uow.instances.reassign(task_guid, to)
        uow.record(actor=by, action="task.reassigned", subject_type="process_instance", subject_id=row.business_key,
                   payload={"task": task.bpmn_id, "from": task.assignee or task.candidates, "to": to,
                            "reason": reason.strip()[:500]})
        uow.commit()


def claim_task(uow_factory: UnitOfWorkFactory, *, task_guid: str, user: str) -> None:
    """A candidate of a pool task (offered to two or more) takes it: it becomes theirs alone until done or
    released. Refused (and audited) for anyone else, a task someone holds, or a task offered to one person."""
    with audited(uow_factory, actor=user, subject=task_guid), uow_factory() as uow:
        task = _open_task(uow, task_guid)
        row = uow.instances.lock(task.instance_id)
        if len(set(task.candidates)) < 2:
            raise NotAllowed(f"task {task.bpmn_id} ({task_guid}) is offered to one person; there is nothing to claim")
        if task.assignee is not None:
            raise NotAllowed(f"task {task.bpmn_id} ({task_guid}) is already taken by {task.assignee}")
        authorize(uow, task, user=user, applicant=row.applicant)
        if not uow.instances.claim(task_guid, user):
            raise NotAllowed(f"task {task.bpmn_id} ({task_guid}) was taken meanwhile")
        uow.record(actor=user, action="task.claimed", subject_type="process_instance", subject_id=row.business_key,
                   payload={"task": task.bpmn_id, "guid": task_guid})
        uow.commit()


def release_task(uow_factory: UnitOfWorkFactory, *, task_guid: str, user: str) -> None:
    """The holder of a pool task gives it back: every candidate sees it as claimable again."""
    with audited(uow_factory, actor=user, subject=task_guid), uow_factory() as uow:
        task = _open_task(uow, task_guid)
        row = uow.instances.lock(task.instance_id)
        if task.assignee != user:
            raise NotAllowed(f"{user} does not hold task {task.bpmn_id} ({task_guid}); only its holder releases it")
        if len(set(task.candidates)) < 2 or user not in task.candidates:
            raise NotAllowed(f"task {task.bpmn_id} ({task_guid}) is not a pool task of {user}'s to give back")
        uow.instances.release(task_guid, user)
        uow.record(actor=user, action="task.released", subject_type="process_instance", subject_id=row.business_key,
                   payload={"task": task.bpmn_id, "guid": task_guid})
        uow.commit()


def orphaned_tasks(uow_factory: UnitOfWorkFactory) -> list[dict[str, Any]]:
    """Open tasks no active employee can take: an inactive assignee, or no active candidate left."""
    with uow_factory() as uow:
        return list(uow.instances.orphaned_tasks())


def comment(uow_factory: UnitOfWorkFactory, *, instance_id: int, user: str, text: str) -> None:
    """Add a comment to a request; anyone involved (applicant or a candidate of an open task) may."""
    with audited(uow_factory, actor=user, subject=f"instance {instance_id}"), uow_factory() as uow:
        row = uow.instances.lock(instance_id)
        involved = user == row.applicant or uow.instances.involved(instance_id, user)
        if not involved or not uow.directory.is_active(user):
            raise NotAllowed(f"{user} is not involved in {row.business_key}")
        if not text.strip():
            raise NotAllowed("a comment needs some text")
        uow.record(actor=user, action="comment", subject_type="process_instance", subject_id=row.business_key,
                   payload={"text": text[:2000]})
        uow.commit()


def _open_task(uow: UnitOfWork, task_guid: str) -> TaskRecord:
    task = uow.instances.task(task_guid)
    if task is None or task.status != "open":
        raise NotAllowed(f"task {task_guid} is not open")
    return task


def _check_new_holder(uow: UnitOfWork, task: TaskRecord, *, to: str, by: str, applicant: str) -> None:
    if to == by:
        raise NotAllowed(f"{by} cannot delegate task {task.bpmn_id} to themselves")
    if to == applicant:
        raise NotAllowed(f"{to} is the applicant and cannot take over task {task.bpmn_id} (segregation of duties)")
    if not uow.directory.is_active(to):
        raise NotAllowed(f"{to} cannot take over task {task.bpmn_id}: not an active employee")
