"""Acceptance 3 for the API: every endpoint that acts (complete, delegate, claim, release, withdraw, transfers,
deploy, activate, retry, import) x every role, each role a demo person with a token for all their roles. Only the
allowed people succeed; for everyone else the answer is 403 (or 404 for what they may not see) and NOTHING changed:
ledger, reservations, audit rows of things done, tasks, instance revisions, jobs, versions, activations, imports.

The last tests are the negative controls: with a check taken out, the same matrix reports the hole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from engine.persistence.types import utcnow
from engine.persistence.workflow_tables import HumanTask, OutboxJob, ProcessInstance
from engine.seed import demo_folder
from engine.workflow.bundle import read_folder
from tests.flows.support import BPMN, Flow
from tests.web.api.state import snapshot
from web.demo import ROLES

EVERYONE = dict(ROLES)  # role -> the demo person holding it
APPLICANT, MANAGER, DEPARTMENT_HEAD = ROLES["applicant"], ROLES["manager"], ROLES["department head"]
OTHER_MANAGER, OTHER_EMPLOYEE = "E0006", "E0019"  # SALES-E: E0019's manager is E0006, not E0005


@dataclass
class Action:
    """One endpoint that changes something: how to set up a case for it and how to call it as someone."""

    name: str
    allowed: tuple[str, ...]
    prepare: Callable[[Any], Any]
    call: Callable[[Any, Any, str], Any]


def check(api, action: Action) -> list[str]:
    """Every refused person on one prepared case (nothing may change), then each allowed person on a fresh
    case (it must happen). Returns the problems found; empty when the matrix holds."""
    problems: list[str] = []
    case = action.prepare(api)
    for role, code in EVERYONE.items():
        if code in action.allowed:
            continue
        before = snapshot(api.container)
        answer = action.call(api, case, code)
        if answer.status_code not in (403, 404):
            shown = answer.get_data(as_text=True)[:200]
            problems.append(f"{action.name} by {role} {code}: {answer.status_code} {shown}")
        elif answer.get_json()["code"] in ("", None):
            problems.append(f"{action.name} by {role} {code}: no error code")
        if snapshot(api.container) != before:
            problems.append(f"{action.name} by {role} {code}: refused but something changed")
    for code in action.allowed:
        case = action.prepare(api)
        before = snapshot(api.container)
        answer = action.call(api, case, code)
        if answer.status_code >= 300:
            problems.append(f"{action.name} by {code} (allowed): {answer.status_code} {answer.get_json()}")
        elif snapshot(api.container) == before:
            problems.append(f"{action.name} by {code} (allowed): answered {answer.status_code} but nothing changed")
    return problems


# ------------------------------------------------------------------------------------------------ cases

def trip_at_manager(api, applicant: str = APPLICANT, amount: str = "1200.00") -> str:
    """A travel application submitted by ``applicant`` whose manager approval is open: its task guid."""
    [task] = flow_of(api).open_tasks(_submitted(flow_of(api), applicant, amount))
    return str(task["task_guid"])


def _submitted(flow: Flow, applicant: str, amount: str) -> int:
    instance = flow.start("travel_application", applicant=applicant)
    flow.act(instance, {"subject": "TRAVEL", "purpose": "Customer visit", "amount": amount, "currency": "CNY",
                        "period": "2026"}, user=applicant)
    return instance


def flow_of(api) -> Flow:
    """One flow driver per test database (it numbers the documents it starts)."""
    if not hasattr(api, "flow"):
        api.flow = Flow(api.container)
    return api.flow


def pool_task(api, *, claimed_by: str | None = None) -> str:
    """A linked claim 40.00 over its application: finance's overrun approval, offered to every finance person."""
    flow = flow_of(api)
    application = _submitted(flow, APPLICANT, "1000.00")
    flow.decide(application)
    claim = flow.start("expense_claim", application_no=flow.instance(application).business_key)
    flow.act(claim, {"subject": "TRAVEL", "purpose": "Shanghai trip", "currency": "CNY", "period": "2026",
                     "lines": flow.lines("1040.00")})
    flow.decide(claim)
    [task] = flow.open_tasks(claim)
    assert task["bpmn_id"] == "approve_overrun" and len(task["candidates"]) >= 2
    if claimed_by:
        assert api.post(f"/tasks/{task['task_guid']}/claim", claimed_by).status_code == 200
    return str(task["task_guid"])


def document_of(api, guid: str) -> str:
    with api.container.engine.connect() as conn:
        return str(conn.execute(select(ProcessInstance.business_key).join(
            HumanTask, HumanTask.instance_id == ProcessInstance.id).where(HumanTask.task_guid == guid)).scalar_one())


def incident_job(api) -> int:
    guid = trip_at_manager(api)
    with api.container.engine.begin() as conn:
        instance = conn.execute(select(HumanTask.instance_id).where(HumanTask.task_guid == guid)).scalar_one()
        return conn.execute(insert(OutboxJob).values(
            instance_id=instance, task_guid=guid, operator="notify/Email", params="{}", idempotency_key=f"m:{guid}",
            status="incident", attempts=5, next_attempt_at=utcnow(), last_error="SMTP refused", created_at=utcnow(),
            updated_at=utcnow()).returning(OutboxJob.id)).scalar_one()


def instance_in_incident(api) -> int:
    guid = trip_at_manager(api)
    with api.container.engine.begin() as conn:
        instance = conn.execute(select(HumanTask.instance_id).where(HumanTask.task_guid == guid)).scalar_one()
        conn.execute(update(ProcessInstance).where(ProcessInstance.id == instance)
                     .values(status="incident", last_error="approve_by_manager: a script failed"))
        return int(instance)


_bundles = iter(range(1, 1000))


def new_bundle(api) -> dict[str, str]:
    files = read_folder(BPMN)
    name = "shared/forms/approve.schema.json"
    return {**files, name: files[name].replace('"Approve', f'"Approve v{next(_bundles)}', 1)}


def waiting_version(api) -> int:
    """A new model version deployed but not activated: its id."""
    from engine.services import processes

    return processes.deploy_version(api.container.uow, new_bundle(api), by=ROLES["process designer"],
                                    activate=False).version_id


_imports = iter(range(1, 1000))


def changed_dictionary(api) -> dict[str, str]:
    files = {p.name: p.read_text(encoding="utf-8") for p in demo_folder().iterdir() if p.is_file()}
    n = next(_imports)
    files["manifest.toml"] = files["manifest.toml"].replace('version = "', f'version = "m{n}-', 1)
    files["employees.csv"] = files["employees.csv"].replace("E0018,林晓,", f"E0018,林晓{n},", 1)
    return files


ACTIONS = [
    Action("complete", (MANAGER,), trip_at_manager,
           lambda api, guid, code: api.post(f"/tasks/{guid}/complete", code,
                                            json={"decision": "approve", "comment": "ok"})),
    Action("delegate", (MANAGER,), trip_at_manager,
           lambda api, guid, code: api.post(f"/tasks/{guid}/delegate", code,
                                            json={"to": DEPARTMENT_HEAD if code != DEPARTMENT_HEAD else "E0001",
                                                  "reason": "away"})),
    Action("claim", (ROLES["finance"], ROLES["finance director"]), pool_task,
           lambda api, guid, code: api.post(f"/tasks/{guid}/claim", code)),
    Action("release", (ROLES["finance"],), lambda api: pool_task(api, claimed_by=ROLES["finance"]),
           lambda api, guid, code: api.post(f"/tasks/{guid}/release", code)),
    Action("withdraw", (APPLICANT,), lambda api: document_of(api, trip_at_manager(api)),
           lambda api, number, code: api.post(f"/documents/{number}/withdraw", code, json={"reason": "no trip"})),
    Action("transfer", (ROLES["budget admin"],), lambda api: f"matrix-{next(_bundles):06d}",
           lambda api, key, code: api.post("/budget-transfers", code, json={
               "from_line": 1, "to_line": 2, "amount": "10.00", "currency": "CNY", "memo": "matrix", "key": key})),
    Action("deploy", (ROLES["process designer"],), new_bundle,
           lambda api, files, code: api.post("/process-versions", code, json={"files": files})),
    Action("activate", (ROLES["process designer"],), waiting_version,
           lambda api, version, code: api.post(f"/process-versions/{version}/activate", code)),
    Action("retry job", (ROLES["admin"], ROLES["process designer"]), incident_job,
           lambda api, job, code: api.post(f"/incidents/{job}/retry", code)),
    Action("retry instance", (ROLES["admin"],), instance_in_incident,
           lambda api, instance, code: api.post(f"/incidents/instances/{instance}/retry", code)),
    Action("import master data", (ROLES["admin"],), changed_dictionary,
           lambda api, files, code: api.post("/master-data/imports", code, json={"files": files})),
    Action("reconcile", (ROLES["finance"], ROLES["finance director"]), lambda api: None,
           lambda api, _none, code: api.post("/reconciliations", code, json={})),
]


@pytest.mark.parametrize("action", ACTIONS, ids=[a.name for a in ACTIONS])
def test_only_the_allowed_people_act_and_the_others_leave_no_trace(api, action):
    assert check(api, action) == []


def test_swapped_task_ids_are_refused_both_ways(api):
    mine = trip_at_manager(api)  # E0017's trip: E0005 approves
    theirs = trip_at_manager(api, applicant=OTHER_EMPLOYEE)  # E0019's trip: E0006 approves
    before = snapshot(api.container)
    for code, guid in ((MANAGER, theirs), (OTHER_MANAGER, mine)):
        for path, body in (("complete", {"decision": "approve", "comment": "ok"}), ("delegate", {"to": "E0001"})):
            answer = api.post(f"/tasks/{guid}/{path}", code, json=body)
            assert answer.status_code == 403, (code, path, answer.get_json())
    assert snapshot(api.container) == before
    assert api.post(f"/tasks/{mine}/complete", MANAGER, json={"decision": "approve", "comment": ""}).status_code == 200
    assert api.post(f"/tasks/{theirs}/complete", OTHER_MANAGER,
                    json={"decision": "approve", "comment": ""}).status_code == 200


def test_the_applicant_never_approves_their_own_document(api):
    guid = trip_at_manager(api, applicant=MANAGER)  # a manager applying goes to the manager above
    before = snapshot(api.container)
    for body in ({"decision": "approve", "comment": "mine"}, {"data": {"decision": "approve", "comment": "x"}}):
        answer = api.post(f"/tasks/{guid}/complete", MANAGER, json=body)
        assert answer.status_code == 403
    assert api.post(f"/tasks/{guid}/delegate", DEPARTMENT_HEAD, json={"to": MANAGER}).status_code == 403
    assert snapshot(api.container) == before
    assert api.post(f"/tasks/{guid}/complete", DEPARTMENT_HEAD,
                    json={"decision": "approve", "comment": ""}).status_code == 200


# ------------------------------------------------------------------------------------- negative controls

def test_the_matrix_catches_a_missing_engine_check(api, monkeypatch):
    """Take the engine's candidate rule out: the matrix must report people completing a task not theirs."""
    from engine.services import processes

    monkeypatch.setattr(processes, "authorize", lambda *_a, **_k: None)
    problems = check(api, ACTIONS[0])
    assert any("complete by" in p and ": 200" in p for p in problems), problems


def test_the_matrix_catches_a_missing_role_check(api, monkeypatch):
    """Take the API's role check out: the matrix must report someone else publishing or activating diagrams."""
    from web.api import auth

    monkeypatch.setattr(auth, "require", lambda *_roles: auth.current())
    for name, status in (("deploy", 201), ("activate", 200)):
        problems = check(api, next(a for a in ACTIONS if a.name == name))
        assert any(f"{name} by" in p and f": {status}" in p for p in problems), problems
