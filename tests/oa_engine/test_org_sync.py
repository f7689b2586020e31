"""The org sync against each vendor's emulator over real HTTP, on SQLite and PostgreSQL: people added, renamed,
moved and disabled in the OA reach the employees; a second sync changes nothing; a disabled approver's open task
is handed on and reported, and they can no longer sign in with a password; people in a department no unit maps
are reported only; an OA that fails changes nothing, and a directory that lost most people is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import select

from connectors.emulators.base import Running
from engine.oa_settings import load_oa_connections
from engine.persistence.audit_table import AuditLog
from engine.persistence.tables import Employee, EmployeeRole, OrgUnit
from engine.services import accounts, oa_org_sync, processes, tasks
from engine.services.steps import NotAllowed
from tests.engine_support import APPLICANT, MANAGER, only_task, start_claim
from tests.oa_engine.org_sync_support import (
    SUITES,
    UNMAPPED_DEPT,
    Suite,
    dept_of,
    seed_demo_directory,
    write_settings,
)

NEW_ID = {"dingtalk": "dt_newhire", "wecom": "Newhire", "feishu": "ou_" + "a1" * 16}
OUTSIDER_ID = {"dingtalk": "dt_outsider", "wecom": "Outsider", "feishu": "ou_" + "b2" * 16}
PASSWORD = "sync-test-password-4711"
NEW_CODE = {"dingtalk": "DT-DT_NEWHIRE", "wecom": "WX-NEWHIRE", "feishu": "FS-UA1A1A1A1"}


@pytest.fixture(params=sorted(SUITES))
def oa(request, app) -> Iterator[tuple[Suite, str, dict[str, str]]]:
    """(suite, its emulator's URL, demo employee code -> OA id): the demo company in the emulator's directory,
    budgetflow configured for that suite only and synced once (which creates the emulator's sample people)."""
    suite = SUITES[request.param]
    with Running(suite.emulator()) as emulator:
        ids = seed_demo_directory(suite, emulator.url)
        write_settings(app.settings.instance_dir, suite, emulator.url)
        first = sync(app)
        assert first.ok, first
        assert {c.kind for c in first.suites[0].changes} <= {"created"}  # nobody of the demo company changed
        yield suite, emulator.url, ids


def sync(app, *, dry_run: bool = False) -> oa_org_sync.SyncReport:
    return oa_org_sync.sync_all(app.uow, load_oa_connections(app.settings.instance_dir), app.oa_tokens(),
                                dry_run=dry_run)


def employee(app, code: str) -> tuple[str, str, bool] | None:
    """(name, org unit code, active) of employee ``code``."""
    with app.engine.connect() as conn:
        row = conn.execute(select(Employee.name, OrgUnit.code, Employee.active)
                           .join(OrgUnit, OrgUnit.id == Employee.org_unit_id).where(Employee.code == code)).first()
    return None if row is None else (row[0], row[1], bool(row[2]))


def everyone(app) -> list[tuple]:
    with app.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(Employee.code, Employee.name, Employee.org_unit_id,
                                                      Employee.active).order_by(Employee.code))]


def audited(app) -> list[tuple[str, str]]:
    with app.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(AuditLog.action, AuditLog.subject_id)
                                               .where(AuditLog.actor == "oa-sync").order_by(AuditLog.seq))]


def manager_task(app, number: str) -> dict:
    """A claim of 何鹏 (SALES-N) waiting for his manager 陈静 (E0005)."""
    fill = only_task(start_claim(app, number))
    return only_task(processes.complete_task(app.uow, task_guid=fill["task_guid"], user=APPLICANT, form={}))


def test_added_renamed_moved_and_disabled_people_reach_the_employees_once(app, oa):
    suite, url, ids = oa
    task = manager_task(app, "BX-SYNC-1")
    earlier = len(audited(app))  # the fixture's first sync created the emulator's sample people
    accounts.set_password(app.uow, employee=MANAGER, password=PASSWORD, by="E0015")
    assert accounts.authenticate(app.uow, login=MANAGER, password=PASSWORD) is not None
    suite.person(url, NEW_ID[suite.name], "新同事", dept_of(suite, "FIN"))  # added
    suite.person(url, ids["E0018"], "林晓晓", dept_of(suite, "SALES-N"))  # renamed
    suite.person(url, ids["E0019"], "高翔", dept_of(suite, "RND-PLAT"))  # moved from SALES-E
    suite.disable(url, ids[MANAGER])  # 陈静, who has the claim to approve
    suite.person(url, OUTSIDER_ID[suite.name], "外包", UNMAPPED_DEPT[suite.name])  # in no unit's department
    preview = sync(app, dry_run=True)
    assert preview.ok and len(preview.suites[0].changes) == 4
    assert employee(app, MANAGER) == ("陈静", "SALES-N", True)  # a dry run changes nothing

    report = sync(app).suites[0]

    assert report.ok, report.error
    assert sorted((c.kind, c.employee) for c in report.changes) == sorted([
        ("created", NEW_CODE[suite.name]), ("renamed", "E0018"), ("moved", "E0019"), ("deactivated", MANAGER)])
    assert employee(app, NEW_CODE[suite.name]) == ("新同事", "FIN", True)
    with app.engine.connect() as conn:
        roles = conn.execute(select(EmployeeRole.role_code).join(Employee, Employee.id == EmployeeRole.employee_id)
                             .where(Employee.code == NEW_CODE[suite.name])).scalars().all()
    assert roles == ["employee"]
    assert employee(app, "E0018") == ("林晓晓", "SALES-N", True)
    assert employee(app, "E0019") == ("高翔", "RND-PLAT", True)
    assert employee(app, MANAGER) == ("陈静", "SALES-N", False)
    # the outsider is reported, never created
    assert [(p.oa_id, p.employee) for p in report.not_placed] == [(OUTSIDER_ID[suite.name], None)]
    assert not any(row[1] == "外包" for row in everyone(app))
    # 陈静's open task: nobody else was offered it, so it goes up the tree to the Sales Division's head, 王芳
    assert [(r.task_guid, r.person, r.action, r.to) for r in report.reassignments] == [
        (task["task_guid"], MANAGER, "reassigned", ("E0002",))]
    with pytest.raises(NotAllowed):
        processes.complete_task(app.uow, task_guid=task["task_guid"], user=MANAGER, form={"decision": "approve"})
    processes.complete_task(app.uow, task_guid=task["task_guid"], user="E0002", form={"decision": "approve"})
    # each change, and the task changing hands, is in the audit trail
    assert sorted(audited(app)[earlier:]) == sorted([
        ("employee.created", NEW_CODE[suite.name]), ("employee.renamed", "E0018"), ("employee.moved", "E0019"),
        ("employee.deactivated", MANAGER), ("task.reassigned", "BX-SYNC-1")])
    # and someone deactivated can no longer sign in with a password either
    assert accounts.authenticate(app.uow, login=MANAGER, password=PASSWORD) is None

    before, trail = everyone(app), audited(app)
    again = sync(app).suites[0]
    assert again.ok and again.changes == [] and again.reassignments == []
    assert everyone(app) == before and audited(app) == trail


def test_an_oa_that_fails_changes_nothing_and_the_next_sync_catches_up(app, oa):
    suite, url, ids = oa
    suite.person(url, ids["E0018"], "林晓晓", dept_of(suite, "SALES-N"))
    suite.disable(url, ids["E0020"])
    before = everyone(app)
    requests.post(f"{url}/_emulator/faults", json={"throttle_every": 1}, timeout=10).raise_for_status()

    failed = sync(app)

    assert not failed.ok and failed.suites[0].error_code == "OA_THROTTLED"
    assert everyone(app) == before
    requests.post(f"{url}/_emulator/faults", json={"throttle_every": 0}, timeout=10).raise_for_status()
    caught_up = sync(app).suites[0]
    assert sorted((c.kind, c.employee) for c in caught_up.changes) == [("deactivated", "E0020"), ("renamed", "E0018")]


def test_a_directory_missing_most_people_is_refused_not_applied(app):
    """DingTalk drops people who leave from its directory; an app that sees only part of the company (its
    scope) looks the same. More than half of the people gone at once is refused; a few are deactivated."""
    suite = SUITES["dingtalk"]
    with Running(suite.emulator()) as emulator:
        ids = seed_demo_directory(suite, emulator.url)
        write_settings(app.settings.instance_dir, suite, emulator.url)
        assert sync(app).ok
        for code in sorted(ids)[:15]:  # 15 of the 28 active people with a DingTalk id (24 demo, 4 the emulator's)
            suite.disable(emulator.url, ids[code])
        before = everyone(app)
        refused = sync(app).suites[0]
        assert refused.error_code == "OA_SYNC_PARTIAL_DIRECTORY" and "15 of the 28" in str(refused.error)
        assert everyone(app) == before
        for code in sorted(ids)[:8]:  # back in the directory: 7 gone is within the limit
            suite.person(emulator.url, ids[code], "x", "1")
        applied = sync(app).suites[0]
        assert applied.ok and [c.employee for c in applied.changes if c.kind == "deactivated"] == sorted(ids)[8:15]


def test_open_tasks_go_back_to_other_candidates_stay_with_their_holder_or_go_up_the_tree(app):
    """The hand-on rule besides the plain case above, on WeCom: a task delegated to someone who is disabled goes
    back to who delegated it; a task someone else holds loses the disabled candidate only; with no active
    manager left above, a task goes to the budget admin (马超, E0013)."""
    suite = SUITES["wecom"]
    with Running(suite.emulator()) as emulator:
        ids = seed_demo_directory(suite, emulator.url)
        write_settings(app.settings.instance_dir, suite, emulator.url)
        assert sync(app).ok
        delegated = manager_task(app, "BX-SYNC-2")
        tasks.delegate(app.uow, task_guid=delegated["task_guid"], user=MANAGER, to="E0006", reason="on leave")
        held = manager_task(app, "BX-SYNC-3")
        tasks.delegate(app.uow, task_guid=held["task_guid"], user=MANAGER, to="E0010", reason="on leave")

        suite.disable(emulator.url, ids["E0006"])
        first = sync(app).suites[0]
        assert [(r.document_no, r.action, r.to) for r in first.reassignments] == [("BX-SYNC-2", "released",
                                                                                   (MANAGER,))]
        assert holder(app, delegated["task_guid"]) is None  # 陈静 may act on it again

        for code in (MANAGER, "E0002", "E0001"):  # 陈静 and every manager above her: 王芳, 张伟
            suite.disable(emulator.url, ids[code])
        second = sync(app).suites[0]
        assert sorted((r.document_no, r.person, r.action, r.to) for r in second.reassignments) == [
            ("BX-SYNC-2", MANAGER, "reassigned", ("E0013",)),  # no manager above her is active: the budget admin
            ("BX-SYNC-3", MANAGER, "dropped", ("E0010",))]  # 吴刚 holds it and keeps it
        assert (holder(app, held["task_guid"]), holder(app, delegated["task_guid"])) == ("E0010", "E0013")
        processes.complete_task(app.uow, task_guid=delegated["task_guid"], user="E0013",
                                form={"decision": "approve"})


def holder(app, task_guid: str) -> str | None:
    with app.uow() as uow:
        return uow.instances.task(task_guid).assignee
