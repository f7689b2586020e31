"""The data dictionary's lanes (table ``lane_rule``) and what the lane rules read about an instance.

``SqlLanes`` is ``uow.lanes``: the lane rules (empty without lanes.csv: the built-ins apply), and an instance's
completed user tasks with their decisions (no duplicate approval).

Every task that opens asks for the lane rules, and they change only with a master-data import, which replaces
them with the imported lanes.csv and records the import (``master_data_import``, with the dictionary's
checksum). So the rules are cached in the process by the latest import (its id and checksum): one indexed
read of that row per unit of work instead of reading and rebuilding every rule; an import, from this process
or another, changes the key, and the next step reads the new rules.
"""

from __future__ import annotations

import json
import threading

from sqlalchemy import Connection, bindparam, select

from engine.domain.lanes import Completion, LaneRule
from engine.persistence.audit_table import AuditLog
from engine.persistence.lane_tables import LaneRuleRow
from engine.persistence.prepared import Prepared
from engine.persistence.tables import MasterDataImport
from engine.persistence.workflow_tables import HumanTask

_RULES = LaneRuleRow.__table__
_IMPORT = MasterDataImport.__table__
_task = HumanTask.__table__
_audit = AuditLog.__table__

_LATEST_IMPORT = Prepared(select(_IMPORT.c.id, _IMPORT.c.checksum).order_by(_IMPORT.c.id.desc()).limit(1))
_READ_RULES = Prepared(select(_RULES.c.lane, _RULES.c.rule, _RULES.c.parameter, _RULES.c.fallback,
                              _RULES.c.skip_prior_approvers, _RULES.c.description)
                       .order_by(_RULES.c.lane, _RULES.c.position))
_DECISIONS = Prepared(select(_audit.c.payload).where(
    _audit.c.subject_type == "process_instance", _audit.c.subject_id == bindparam("document"),
    _audit.c.action == "task.completed").order_by(_audit.c.seq))
_COMPLETED = Prepared(select(_task.c.task_guid, _task.c.lane, _task.c.completed_by).where(
    _task.c.instance_id == bindparam("instance_id"), _task.c.status == "completed",
    _task.c.completed_by.is_not(None)).order_by(_task.c.completed_at, _task.c.id))

_CACHE_SIZE = 8  # distinct dictionaries (databases, in tests) a process keeps the rules of


class _RulesByImport:
    """The lane rules of each recent import: (import id, checksum) -> rules."""

    def __init__(self) -> None:
        self._items: dict[tuple[int, str], tuple[LaneRule, ...]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[int, str]) -> tuple[LaneRule, ...] | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: tuple[int, str], rules: tuple[LaneRule, ...]) -> None:
        with self._lock:
            self._items[key] = rules
            while len(self._items) > _CACHE_SIZE:
                del self._items[next(iter(self._items))]


_CACHE = _RulesByImport()


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
            self._rules = list(self._cached_rules())
        return list(self._rules)

    def _cached_rules(self) -> tuple[LaneRule, ...]:
        latest = _LATEST_IMPORT.first(self._conn, {})
        key = (int(latest[0]), str(latest[1])) if latest is not None else None
        found = _CACHE.get(key) if key is not None else None
        if found is None:
            found = tuple(LaneRule(lane, rule, parameter, fallback, bool(skip), description)
                          for lane, rule, parameter, fallback, skip, description in _READ_RULES.all(self._conn, {}))
            if key is not None:  # no import yet: nothing to key by (and usually no rules to read)
                _CACHE.put(key, found)
        return found

    def completions(self, instance_id: int, document: str) -> list[Completion]:
        """The instance's completed user tasks in completion order, each with its audited decision."""
        decisions: dict[str, object] = {}
        for (payload,) in _DECISIONS.all(self._conn, {"document": document}):
            entry = json.loads(payload)
            if isinstance(entry, dict) and isinstance(entry.get("guid"), str):
                decisions[entry["guid"]] = entry.get("decision")
        done = _COMPLETED.all(self._conn, {"instance_id": instance_id})
        return [Completion(str(by), lane, _text(decisions.get(guid)), recorded=guid in decisions)
                for guid, lane, by in done]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
