"""A work notification when a user task opens, for the tasks whose diagram asks for one (mode 3, docs/oa.md).

The designer turns it on per user task (``spiffworkflow:property name="notify" value="on_open"``). The step
that opens the task queues a ``notify/Send`` outbox job in its own transaction, so a step that rolls back
queues nothing, and the job is keyed by instance and task: one notification per task, however often a step
is retried or the task's instance is saved again while it stays open.

The job names its people as ``task:<guid>``, resolved when the worker sends (engine/persistence/people_lookups.py):
whoever the task waits for then (its assignee, else its candidates), and nobody if it closed in between.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.services.ports import InstanceRecord, UnitOfWork
from engine.workflow.runtime import ReadyTask

OPERATOR = "notify/Send"
TEMPLATE = "task_opened"


def job_key(instance_id: int, task_guid: str) -> str:
    """The outbox idempotency key of a task's opening notification (a service task's key has no suffix)."""
    return f"{instance_id}:{task_guid}:opened"


def queue_notifications(uow: UnitOfWork, row: InstanceRecord, ready: Iterable[ReadyTask], opened: list[str]) -> int:
    """Queue a notification for each task in ``opened`` (the guids this step opened) that asks for one."""
    just_opened = set(opened)
    queued = 0
    for task in ready:
        if task.notify_on_open and task.task_guid in just_opened:
            params = {"to": f"task:{task.task_guid}", "template": TEMPLATE, "document_no": row.business_key,
                      "task": task.name}
            uow.instances.enqueue(instance_id=row.id, task_guid=task.task_guid, operator=OPERATOR, params=params,
                                  key=job_key(row.id, task.task_guid))
            queued += 1
    return queued
