"""The org sync's rules: what an OA suite's directory changes about the employees budgetflow knows by that suite.

Pure: ``plan`` compares what the suite lists with the employees matched by the suite's user id and says what
to change; the service (engine/services/oa_org_sync.py) reads the suite, applies the plan in one transaction
and reassigns the open tasks of whoever it deactivates (``fallback_holder``). docs/oa.md, "Org sync", is
the same rules in prose.

- Someone listed in a department that an org unit maps, and unknown to budgetflow, is **created**: code
  ``<DT|WX|FS>-<their user id>`` (see ``new_code``), role ``employee``, in that unit.
- A known person whose name differs is **renamed**; one whose unit is none of the units their departments map
  is **moved** to the first that does (the suite's main department first).
- A known, active person the suite lists as disabled, or does not list at all, is **deactivated**.
- Anyone whose departments no unit maps is **not placed**: reported, never created or moved.
- The sync never reactivates anyone: an inactive employee listed as active is only reported (the data
  dictionary decides who is employed; an import with ``active=true`` brings them back).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from engine.domain.identifiers import identifier_key
from engine.domain.lanes import Directory
from engine.domain.untrusted_text import excerpt, refused_character

CODE_PREFIXES = {"dingtalk": "DT", "wecom": "WX", "feishu": "FS"}
_NOT_IN_CODE = re.compile(r"[^A-Z0-9._-]")
MAX_CODE = 64
MAX_NAME, MAX_OA_ID = 200, 100  # the employee table's columns
# More people gone from the directory than this share of those matched (and more than the floor) looks like an
# app that sees only part of the company (WeCom's visible range, a DingTalk app's scope), not a wave of leavers.
VANISHED_SHARE, VANISHED_FLOOR = 0.5, 5


@dataclass(frozen=True, slots=True)
class OaPerson:
    """One person as the suite lists them; ``departments`` main department first."""

    oa_id: str  # the id the data dictionary keeps: DingTalk/WeCom userid, Feishu open_id
    name: str
    departments: tuple[str, ...]
    active: bool
    code_hint: str  # what a new employee's code is made from: the userid (Feishu: the tenant's user_id)


@dataclass(frozen=True, slots=True)
class Known:
    """An employee matched by the suite's user id column."""

    code: str
    name: str
    oa_id: str
    unit: str
    active: bool


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # created, renamed, moved, deactivated
    employee: str
    oa_id: str
    before: str | None
    after: str | None
    name: str = ""  # a created employee's name


@dataclass(frozen=True, slots=True)
class NotPlaced:
    oa_id: str
    name: str
    departments: tuple[str, ...]
    employee: str | None  # None: nobody was created for them
    reason: str


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    not_placed: list[NotPlaced] = field(default_factory=list)

    @property
    def deactivated(self) -> list[str]:
        return [c.employee for c in self.changes if c.kind == "deactivated"]


@dataclass(frozen=True, slots=True)
class HeldTask:
    """An open task a person may act on: assigned to them, or offered to them among its candidates."""

    task_guid: str
    bpmn_id: str
    lane: str | None
    assignee: str | None
    candidates: tuple[str, ...]  # who is still offered it (the candidate rows), this person included
    applicant: str
    document_no: str


class DirectoryLooksPartial(ValueError):
    """The suite would deactivate too many people at once: the sync refuses rather than guess."""


def plan(vendor: str, people: Sequence[OaPerson], known: Sequence[Known], units_by_dept: Mapping[str, str],
         taken_codes: Collection[str]) -> Plan:
    """What to change so budgetflow matches the suite's directory; DirectoryLooksPartial if it looks cut short."""
    result, codes = Plan(), set(taken_codes)
    by_key = {identifier_key(k.oa_id): k for k in known}
    listed = {identifier_key(p.oa_id) for p in people}
    for person in sorted(people, key=lambda p: p.oa_id):
        employee = by_key.get(identifier_key(person.oa_id))
        problem = unusable(person)
        if problem:  # what comes in is not trusted: such a person is reported, never written
            result.not_placed.append(NotPlaced(excerpt(person.oa_id), excerpt(person.name), person.departments,
                                               employee.code if employee else None, problem))
        elif employee is None:
            _new_person(vendor, person, units_by_dept, codes, result)
        else:
            _known_person(person, employee, units_by_dept, result)
    vanished = [k for k in known if k.active and identifier_key(k.oa_id) not in listed]
    active = sum(1 for k in known if k.active)
    if len(vanished) > VANISHED_FLOOR and len(vanished) > VANISHED_SHARE * active:
        raise DirectoryLooksPartial(
            f"{len(vanished)} of the {active} active employees with a {vendor} id are missing from its directory; "
            "check that the app may read the whole directory (its visible range); nobody was changed")
    result.changes += [Change("deactivated", k.code, k.oa_id, "active", "gone from the directory")
                       for k in sorted(vanished, key=lambda k: k.code)]
    return result


def unusable(person: OaPerson) -> str | None:
    """Why the suite's record cannot be stored as it is (a control character, too long), or None."""
    for what, value, limit in (("user id", person.oa_id, MAX_OA_ID), ("name", person.name, MAX_NAME)):
        if not value.strip() and what == "user id":
            return "the suite gave no user id"
        if refused_character(value):
            return f"the suite's {what} holds a character no name or id may hold ({refused_character(value)})"
        if len(value) > limit:
            return f"the suite's {what} is longer than {limit} characters"
    return None


def _units_of(person: OaPerson, units_by_dept: Mapping[str, str]) -> list[str]:
    return list(dict.fromkeys(units_by_dept[d] for d in person.departments if d in units_by_dept))


def _new_person(vendor: str, person: OaPerson, units_by_dept: Mapping[str, str], codes: set[str],
                result: Plan) -> None:
    if not person.active:
        return  # a disabled account nobody here knows: nothing to create, nothing to report
    units = _units_of(person, units_by_dept)
    if not units:
        result.not_placed.append(NotPlaced(person.oa_id, person.name, person.departments, None,
                                           "no org unit maps their department(s); not created"))
        return
    code = new_code(vendor, person.code_hint, codes)
    codes.add(code)
    result.changes.append(Change("created", code, person.oa_id, None, units[0], name=person.name or code))


def _known_person(person: OaPerson, employee: Known, units_by_dept: Mapping[str, str], result: Plan) -> None:
    if not employee.active:
        if person.active:
            result.not_placed.append(NotPlaced(person.oa_id, person.name, person.departments, employee.code,
                                               "inactive in budgetflow; the sync does not reactivate anyone"))
        return
    if not person.active:
        result.changes.append(Change("deactivated", employee.code, person.oa_id, "active", "disabled in the OA"))
        return
    if person.name and person.name != employee.name:
        result.changes.append(Change("renamed", employee.code, person.oa_id, employee.name, person.name))
    units = _units_of(person, units_by_dept)
    if not units:
        result.not_placed.append(NotPlaced(person.oa_id, person.name, person.departments, employee.code,
                                           f"no org unit maps their department(s); left in {employee.unit}"))
    elif employee.unit not in units:
        result.changes.append(Change("moved", employee.code, person.oa_id, employee.unit, units[0]))


def new_code(vendor: str, hint: str, taken: Collection[str]) -> str:
    """``DT-``/``WX-``/``FS-`` and the user id, upper-cased, other characters as ``-``; ``-2``, ``-3`` … if taken.

    Derived, not numbered: the same person gets the same code on every install, and the code says where the
    employee came from until the data dictionary lists them under their HR number.
    """
    base = f"{CODE_PREFIXES[vendor]}-{_NOT_IN_CODE.sub('-', hint.upper())}"[:MAX_CODE]
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base[:MAX_CODE - len(str(n)) - 1]}-{n}"
    return code


def fallback_holder(directory: Directory, *, person: str, applicant: str,
                    budget_admins: Iterable[str]) -> str | None:
    """Who takes a task ``person`` held when nobody else may act on it: the manager of their unit, walking up
    the tree, else the first budget admin by code; never ``person``, the applicant or someone inactive."""
    def fits(code: str | None) -> bool:
        return bool(code) and code not in (person, applicant) and directory.is_active(str(code))

    unit = directory.unit_of(person)
    while unit is not None:
        if fits(unit.manager):
            return unit.manager
        unit = directory.unit(unit.parent) if unit.parent else None
    return next((code for code in sorted(budget_admins) if fits(code)), None)
