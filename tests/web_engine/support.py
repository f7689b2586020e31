"""Inbox rows written straight into the tables (a realistic spread without running the flows)."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, select

from engine.persistence.types import utcnow
from engine.persistence.workflow_tables import HumanTask, HumanTaskCandidate, ModelVersion, ProcessInstance

BASE = datetime(2026, 3, 1, 9, 0, tzinfo=utcnow().tzinfo)
_numbers = itertools.count(1)


def add_document(conn, *, applicant="E0017", process="travel_application", amount: str | None = "100.00",
                 subject="TRAVEL", purpose="trip", status="user_input_required") -> int:
    version = conn.execute(select(ModelVersion.id).where(ModelVersion.sha256 == "synthetic")).scalar()
    if version is None:
        version = conn.execute(insert(ModelVersion).values(sha256="synthetic", files="{}", process_ids=process,
                                                           deployed_by="test", deployed_at=utcnow())
                               .returning(ModelVersion.id)).scalar_one()
    n = next(_numbers)
    return conn.execute(insert(ProcessInstance).values(
        model_version_id=version, process_id=process, business_key=f"SY-2026-{n:06d}", applicant=applicant,
        status=status, state="", revision=1, created_at=BASE, updated_at=BASE, subject=subject,
        amount=None if amount is None else Decimal(amount), currency="CNY", purpose=purpose)
        .returning(ProcessInstance.id)).scalar_one()


def add_task(conn, instance: int, candidates: list[str], *, minutes: int = 0, due_hours: int | None = None,
             assignee: str | None = None, delegated_by: str | None = None, status: str = "open",
             completed_by: str | None = None, lane: str = "manager") -> str:
    guid = f"task-{next(_numbers)}"
    created = BASE + timedelta(minutes=minutes)
    task_id = conn.execute(insert(HumanTask).values(
        instance_id=instance, task_guid=guid, bpmn_id="approve_by_manager", title="Manager approval", lane=lane,
        candidates=json.dumps(candidates), assignee=assignee, form_key="approve.schema.json", status=status,
        due_at=None if due_hours is None else created + timedelta(hours=due_hours), created_at=created,
        candidate_count=len(candidates), delegated_by=delegated_by, completed_by=completed_by,
        completed_at=created + timedelta(hours=1) if completed_by else None).returning(HumanTask.id)).scalar_one()
    if status == "open":
        conn.execute(insert(HumanTaskCandidate), [
            {"task_id": task_id, "employee": e, "pool": len(candidates) > 1, "taken": assignee is not None,
             "created_at": created} for e in candidates])
    return guid
