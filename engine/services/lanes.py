"""The lanes a diagram may use and who a ready task goes to (engine/domain/lanes.py interprets the rules).

The rules come from the imported data dictionary's ``lanes.csv``; without one the built-in lanes apply.
``known_lanes`` is what ``bpmn check`` and ``budgetflow bpmn lanes`` list; ``task_candidates`` is what the
inbox stores for each task that opens (engine/services/steps.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.domain.lanes import (
    LaneRule,
    approvers_this_round,
    candidates,
    in_force,
    lane_catalog,
    skips_prior_approvers,
)
from engine.services.masterdata.folder import ReadLimits
from engine.services.masterdata.importing import load_folder
from engine.services.ports import InstanceRecord, UnitOfWork
from engine.workflow.runtime import ReadyTask


def lane_rules(uow: UnitOfWork) -> tuple[list[LaneRule], bool]:
    """The lane rules in force, and whether the imported dictionary has a lanes.csv.

    The dictionary's lanes first; a built-in lane it does not name keeps its built-in rules, so a lanes.csv
    that only adds a lane leaves the shipped diagrams' lanes working.
    """
    imported = uow.lanes.rules()
    return in_force(imported), bool(imported)


def known_lanes(uow: UnitOfWork) -> dict[str, str]:
    """Lane name → description: every lane a diagram may use (the dictionary's, then the other built-ins)."""
    return lane_catalog(lane_rules(uow)[0])


def task_candidates(uow: UnitOfWork, row: InstanceRecord, task: ReadyTask, data: Mapping[str, Any]) -> list[str]:
    """Who may complete ``task`` of ``row``'s instance, by its lane's rules and the task's ``data``.

    UnknownLane when no lane rule names the task's lane.
    """
    rules = lane_rules(uow)[0]
    prior: frozenset[str] = frozenset()
    if skips_prior_approvers(task.lane, rules):
        prior = approvers_this_round(uow.lanes.completions(row.id, row.business_key), applicant=row.applicant,
                                     pending_decision=data.get("decision"))
    return candidates(task.lane, applicant=row.applicant, directory=uow.directory, approver=task.approver,
                      owners=task.lane_owners, rules=rules, variables=data, prior_approvers=prior)


def dictionary_lanes(folder: Path, limits: ReadLimits) -> dict[str, str]:
    """The lanes a diagram may use with the dictionary in ``folder`` (not imported yet): its lanes.csv and the
    built-ins it does not name. MasterDataInvalid if the folder is not a valid dictionary."""
    return lane_catalog(in_force(load_folder(folder, limits).lanes))
