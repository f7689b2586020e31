"""The data dictionary's lanes (table ``lane_rule``) and what the lane rules read about an instance.

``SqlLanes`` is ``uow.lanes``: the lane rules (empty without lanes.csv: the built-ins apply), memoised for
the unit of work, and an instance's completed user tasks with their decisions (no duplicate approval).
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, select

from engine.domain.lanes import Completion, LaneRule
from engine.persistence.audit_table import AuditLog
from engine.persistence.lane_tables import LaneRuleRow
from engine.persistence.workflow_tables import HumanTask

_RULES = LaneRuleRow.__table__


def row_values(rule: LaneRule, position: int) -> dict[str, object]:
    return {"lane": rule.lane, "position": position, "rule": rule.rule, "parameter": rule.parameter,
            "fallback": rule.fallback, "skip_prior_approvers": rule.skip_prior_approvers,
            "description": rule.description}


class SqlLanes:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._rules: list[LaneRule] | None = None

    def rules(self) -> list[LaneRule]:
        """The imported lane rules, each lane's rows in order; empty when the dictionary has no lanes.csv."""
        if self._rules is None:
            rows = self._conn.execute(select(_RULES).order_by(_RULES.c.lane, _RULES.c.position))
            self._rules = [LaneRule(r.lane, r.rule, r.parameter, r.fallback, r.skip_prior_approvers, r.description)
                           for r in rows]
        return self._rules

    def completions(self, instance_id: int, document: str) -> list[Completion]:
        """The instance's completed user tasks in completion order, each with its audited decision."""
        decisions: dict[str, object] = {}
        audited = select(AuditLog.payload).where(
            AuditLog.subject_type == "process_instance", AuditLog.subject_id == document,
            AuditLog.action == "task.completed").order_by(AuditLog.seq)
        for (payload,) in self._conn.execute(audited):
            entry = json.loads(payload)
            if isinstance(entry, dict) and isinstance(entry.get("guid"), str):
                decisions[entry["guid"]] = entry.get("decision")
        done = self._conn.execute(
            select(HumanTask.task_guid, HumanTask.lane, HumanTask.completed_by)
            .where(HumanTask.instance_id == instance_id, HumanTask.status == "completed",
                   HumanTask.completed_by.is_not(None))
            .order_by(HumanTask.completed_at, HumanTask.id))
        return [Completion(str(by), lane, _text(decisions.get(guid)), recorded=guid in decisions)
                for guid, lane, by in done]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
