"""A person's task is stamped by the engine's clock: a simulation's virtual time reaches the inbox (and ``stats``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from engine.persistence.workflow_tables import HumanTask
from engine.services import processes
from tests.engine_support import APPLICANT, CLAIM, only_task, start_claim

VIRTUAL = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # long before the real clock of any test run


def stamps(app, guid: str) -> tuple[datetime | None, datetime | None]:
    with app.reader() as uow:
        row = uow.conn.execute(select(HumanTask.created_at, HumanTask.completed_at)
                               .where(HumanTask.task_guid == guid)).one()
    return row.created_at, row.completed_at


def test_tasks_open_and_complete_at_the_time_the_engine_is_given(app):
    fill = only_task(processes.start(app.uow, process_id="mini_claim", applicant=APPLICANT, business_key="EC-CLOCK-1",
                                     data=dict(CLAIM), now=VIRTUAL))
    assert stamps(app, fill["task_guid"]) == (VIRTUAL, None)
    later = VIRTUAL + timedelta(hours=2)
    approval = only_task(processes.complete_task(app.uow, task_guid=fill["task_guid"], user=APPLICANT, form={},
                                                 now=later))
    assert stamps(app, fill["task_guid"]) == (VIRTUAL, later)
    assert stamps(app, approval["task_guid"])[0] == later


def test_without_a_time_the_real_clock_stamps_them(app):
    before = datetime.now(UTC)
    fill = only_task(start_claim(app, "EC-CLOCK-2"))
    opened, _ = stamps(app, fill["task_guid"])
    assert opened is not None and opened >= before - timedelta(seconds=1)
