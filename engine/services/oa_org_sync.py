"""Org sync: bring the employees budgetflow knows by each OA suite in line with that suite's directory.

For each configured suite: read its whole directory first (every department, every member), then, in one
transaction, create, rename, move and deactivate employees as the rules say (engine/domain/org_sync.py),
audit each change, and hand on the open tasks of everyone deactivated. A suite that fails half-way through the
reading changes nothing (nothing was written yet); a database error rolls the whole suite back. ``dry_run``
does all of it and rolls back, so the report says what a real run would do.

The tasks of someone deactivated (the rule, also in docs/oa.md):

- offered to them among others (a pool, or a task someone else holds): they are dropped from it (``dropped``);
- held by them (claimed, delegated or given to them) while other active candidates remain: it goes back to
  those candidates (``released``);
- left with nobody: it goes to the manager of their org unit, walking up the tree, else the first budget
  admin by code, never to the applicant (``reassigned``); with nobody at all it stays for an admin
  (``unassigned``: ``budgetflow tasks orphaned`` lists it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from connectors.base import ConnectorError
from connectors.oa.http import TokenCache
from engine.domain import org_sync as rules
from engine.domain.org_sync import HeldTask, OaPerson
from engine.oa_settings import OaConnection
from engine.services.oa_clients import OaClient, client_for
from engine.services.ports import UnitOfWork, UnitOfWorkFactory

ACTOR = "oa-sync"  # who the audit trail says made the changes
ROOTS = {"feishu": "0"}  # the Feishu client lists the departments under the root, not the root itself


@dataclass(frozen=True, slots=True)
class Reassignment:
    """What became of one open task of someone the sync deactivated."""

    task_guid: str
    task: str  # the diagram's task id
    document_no: str
    person: str  # the employee deactivated
    action: str  # dropped, released, reassigned, unassigned
    to: tuple[str, ...]  # who may act on it now


@dataclass
class SuiteSync:
    """One suite's part of the report; ``error_code`` set: nothing of this suite was changed."""

    vendor: str
    changes: list[rules.Change] = field(default_factory=list)
    reassignments: list[Reassignment] = field(default_factory=list)
    not_placed: list[rules.NotPlaced] = field(default_factory=list)
    error_code: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None


@dataclass
class SyncReport:
    dry_run: bool
    suites: list[SuiteSync]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.suites)

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "ok": self.ok,
                "suites": [{**asdict(s), "ok": s.ok} for s in self.suites]}


def sync_all(uow_factory: UnitOfWorkFactory, connections: Mapping[str, OaConnection], tokens: TokenCache, *,
             dry_run: bool = False) -> SyncReport:
    """Every configured suite, by name; one suite failing does not stop the others."""
    return SyncReport(dry_run, [sync_suite(uow_factory, vendor, client_for(conn, tokens), dry_run=dry_run)
                                for vendor, conn in sorted(connections.items())])


def sync_suite(uow_factory: UnitOfWorkFactory, vendor: str, client: OaClient, *, dry_run: bool = False
               ) -> SuiteSync:
    result = SuiteSync(vendor)
    try:
        people = read_directory(vendor, client)  # all of it before anything is written: no half-sync
    except ConnectorError as exc:
        result.error_code, result.error = exc.code, str(exc)
        return result
    with uow_factory() as uow:
        sync = uow.org_sync
        try:
            plan = rules.plan(vendor, people, sync.known(vendor), sync.units_by_dept(vendor), sync.employee_codes())
        except rules.DirectoryLooksPartial as exc:
            result.error_code, result.error = "OA_SYNC_PARTIAL_DIRECTORY", str(exc)
            return result
        result.changes, result.not_placed = plan.changes, plan.not_placed
        for change in plan.changes:
            _apply(uow, vendor, change)
        # Only now ask who is active: the directory remembers its answers for the transaction.
        for person in plan.deactivated:
            result.reassignments += [_hand_on(uow, task, person) for task in sync.held_tasks(person)]
        if not dry_run:
            uow.commit()
    return result


def read_directory(vendor: str, client: OaClient) -> list[OaPerson]:
    """Everyone the suite lists, once each (people in several departments are listed in each)."""
    departments = [str(d["department_id"]) for d in client.departments()]
    root = ROOTS.get(vendor)
    if root is not None and root not in departments:
        departments.insert(0, root)
    found: dict[str, OaPerson] = {}
    for department in departments:
        for user in client.users(department):
            person = _person(vendor, user)
            found.setdefault(person.oa_id, person)
    return list(found.values())


def _person(vendor: str, user: Mapping[str, Any]) -> OaPerson:
    """The fields the rules need; Feishu people are matched by open_id, the others by their userid."""
    oa_id = user.get("open_id") if vendor == "feishu" else user.get("user_id")
    if not isinstance(oa_id, str | int) or not str(oa_id):
        raise ConnectorError("OA_BAD_RESPONSE", f"{vendor} listed a member without a user id; check that the app "
                             "may read user ids", retryable=True)
    departments = [str(d) for d in user.get("department_ids") or []]
    main = str(user.get("main_department", ""))  # WeCom says which one is the person's main department
    if main in departments:
        departments.remove(main)
        departments.insert(0, main)
    return OaPerson(oa_id=str(oa_id), name=str(user.get("name") or ""), departments=tuple(departments),
                    active=not _disabled(vendor, user), code_hint=str(user.get("user_id") or oa_id))


def _disabled(vendor: str, user: Mapping[str, Any]) -> bool:
    """Whether the suite says this person may no longer work. Not "not yet activated": a new hire who has not
    opened the app yet is employed. DingTalk lists nobody disabled: who leaves vanishes from the directory."""
    if vendor == "wecom":
        return user.get("status") in (2, 5)  # 2 disabled, 5 left; 1 active, 4 not yet activated
    if vendor == "feishu":
        status = user.get("status") or {}
        return any(status.get(flag) for flag in ("is_frozen", "is_resigned", "is_exited"))
    return False


def _apply(uow: UnitOfWork, vendor: str, change: rules.Change) -> None:
    sync = uow.org_sync
    if change.kind == "created":
        sync.create(code=change.employee, name=change.name, unit=str(change.after), vendor=vendor,
                    oa_id=change.oa_id)
    elif change.kind == "renamed":
        sync.rename(change.employee, str(change.after))
    elif change.kind == "moved":
        sync.move(change.employee, str(change.after))
    else:
        sync.deactivate(change.employee)
    uow.record(actor=ACTOR, action=f"employee.{change.kind}", subject_type="employee", subject_id=change.employee,
               payload={"vendor": vendor, "oa_id": change.oa_id, "before": change.before, "after": change.after,
                        **({"name": change.name} if change.name else {})})


def _hand_on(uow: UnitOfWork, task: HeldTask, person: str) -> Reassignment:
    """The rule in the module's docstring, for one task; audited unless nothing changes hands."""
    others = [c for c in task.candidates if c != person and _may_act(uow, c, task)]
    uow.org_sync.drop_candidate(task.task_guid, person)
    if task.assignee not in (None, person):
        return _report(task, person, "dropped", (task.assignee,))  # someone else holds it already
    if task.assignee is None and others:
        return _report(task, person, "dropped", others)
    if others:
        uow.instances.release(task.task_guid, person)
        return _audited(uow, task, person, "released", tuple(others))
    holder = rules.fallback_holder(uow.directory, person=person, applicant=task.applicant,
                                   budget_admins=uow.directory.with_roles("budget_admin"))
    if holder is None:
        return _audited(uow, task, person, "unassigned", ())
    uow.instances.reassign(task.task_guid, holder)
    return _audited(uow, task, person, "reassigned", (holder,))


def _may_act(uow: UnitOfWork, code: str, task: HeldTask) -> bool:
    return uow.directory.is_active(code) and (code != task.applicant or task.lane in (None, "applicant"))


def _report(task: HeldTask, person: str, action: str, to: Iterable[str | None]) -> Reassignment:
    return Reassignment(task.task_guid, task.bpmn_id, task.document_no, person, action,
                        tuple(c for c in to if c))


def _audited(uow: UnitOfWork, task: HeldTask, person: str, action: str, to: tuple[str, ...]) -> Reassignment:
    uow.record(actor=ACTOR, action="task.reassigned", subject_type="process_instance", subject_id=task.document_no,
               payload={"task": task.bpmn_id, "guid": task.task_guid, "from": person, "to": list(to),
                        "rule": action, "reason": f"{person} was deactivated by the OA org sync"})
    return _report(task, person, action, to)
