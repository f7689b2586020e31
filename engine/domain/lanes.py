"""Who may act on a task: lanes name roles in the org, resolved against the applicant.

A lane's name is the contract with the diagrams (bpmn/README.md). The resolution
skips the applicant everywhere: nobody approves their own request, so a manager
applying goes to their own manager (the next unit up), and so on. It skips inactive
employees too: a manager who left passes the task to the next manager up, and a task
nobody active can take is listed for reassignment (``budgetflow tasks orphaned``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    parent: str | None
    manager: str | None


class Directory(Protocol):
    def unit_of(self, employee: str) -> Unit | None: ...

    def unit(self, code: str) -> Unit | None: ...

    def with_roles(self, *roles: str) -> list[str]:
        """Active employees holding every one of ``roles``."""

    def is_active(self, employee: str) -> bool: ...


class UnknownLane(ValueError):
    pass


LANES = ("applicant", "manager", "department_head", "finance_director", "finance", "budget_admin", "countersign")


def candidates(lane: str | None, *, applicant: str, directory: Directory,
               approver: str | None = None, owners: Sequence[str] | None = None) -> list[str]:
    """The employee codes who may complete a task in ``lane`` of ``applicant``'s request."""
    if owners:  # a diagram- or DMN-set override for this lane
        return [o for o in owners if isinstance(o, str) and o != applicant and directory.is_active(o)]
    if lane in (None, "applicant"):
        return [applicant] if directory.is_active(applicant) else []
    if lane == "countersign":
        return [approver] if approver and approver != applicant and directory.is_active(approver) else []
    if lane == "manager":
        return _manager_above(directory, applicant)
    if lane == "department_head":
        return _division_head(directory, applicant)
    if lane == "finance_director":
        return [e for e in directory.with_roles("finance", "manager") if e != applicant]
    if lane in ("finance", "budget_admin"):
        return [e for e in directory.with_roles(lane) if e != applicant]
    raise UnknownLane(f"lane {lane!r} maps to no role; known lanes: {', '.join(LANES)}")


def _manager_above(directory: Directory, applicant: str) -> list[str]:
    unit = directory.unit_of(applicant)
    while unit is not None:
        if unit.manager and unit.manager != applicant and directory.is_active(unit.manager):
            return [unit.manager]
        unit = directory.unit(unit.parent) if unit.parent else None
    return []


def _division_head(directory: Directory, applicant: str) -> list[str]:
    """The manager of the applicant's division: the unit just below the root of the tree."""
    chain = []
    unit = directory.unit_of(applicant)
    while unit is not None:
        chain.append(unit)
        unit = directory.unit(unit.parent) if unit.parent else None
    for candidate in chain[-2:] if len(chain) > 1 else chain:  # the division, then the root as a last resort
        if candidate.manager and candidate.manager != applicant and directory.is_active(candidate.manager):
            return [candidate.manager]
    return []
