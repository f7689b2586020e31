"""Step statistics of a model version: per BPMN element, how many instances passed it, how long they waited
there, how many wait there now, and how often each outgoing flow of a gateway was taken.

Sources (docs/cli.md, "stats"): the instances' stored workflow states (``engine.workflow.step_history``) and,
for user tasks, the inbox rows, whose opened → completed times are exact. A wait is the time from the
element becoming ready to its completion; waits of instances still there are not in the figures (they are
counted under "waiting now"). The median is the middle wait (the mean of the two middle ones for an even
count); p95 is the nearest-rank 95th percentile: the smallest wait that 95 % of the waits do not exceed.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.services.ports import UnitOfWorkFactory
from engine.workflow import step_history
from engine.workflow.step_history import Element, History, Model


@dataclass
class ElementStats:
    process_id: str
    element_id: str
    name: str
    kind: str
    lane: str | None
    passed: int = 0  # instances that finished the element at least once
    passes: int = 0  # finished tasks of the element (loops and repeats counted each time)
    waiting_now: int = 0
    waits: list[float] = field(default_factory=list, repr=False)  # seconds, one per finished task

    @property
    def median_wait(self) -> float | None:
        return statistics.median(self.waits) if self.waits else None

    @property
    def p95_wait(self) -> float | None:
        return percentile(self.waits, 95)

    def as_dict(self) -> dict[str, Any]:
        return {"process_id": self.process_id, "element_id": self.element_id, "name": self.name, "kind": self.kind,
                "lane": self.lane, "passed": self.passed, "passes": self.passes, "waiting_now": self.waiting_now,
                "median_wait_seconds": self.median_wait, "p95_wait_seconds": self.p95_wait}


@dataclass(frozen=True)
class FlowStats:
    process_id: str
    flow_id: str
    gateway: str
    target: str
    name: str
    taken: int
    share: float | None  # of the gateway's finished passes; None if it never finished

    def as_dict(self) -> dict[str, Any]:
        return {"process_id": self.process_id, "flow_id": self.flow_id, "gateway": self.gateway,
                "target": self.target, "name": self.name, "taken": self.taken, "share": self.share}


@dataclass
class VersionStats:
    version_id: int
    sha256: str
    instances: int
    elements: list[ElementStats]
    flows: list[FlowStats]
    unreadable: int = 0  # instances whose stored state could not be read (left out of the figures)

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version_id, "sha256": self.sha256, "instances": self.instances,
                "unreadable_instances": self.unreadable, "elements": [e.as_dict() for e in self.elements],
                "flows": [f.as_dict() for f in self.flows]}

    def element(self, process_id: str, element_id: str) -> ElementStats | None:
        return next((e for e in self.elements if (e.process_id, e.element_id) == (process_id, element_id)), None)


class UnknownVersion(LookupError):
    """No deployed model version has that number."""


def percentile(values: list[float], pct: int) -> float | None:
    """Nearest-rank percentile: the smallest value that ``pct`` % of ``values`` do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


# ---------------------------------------------------------------- reading

def version_stats(reader: UnitOfWorkFactory, *, version_id: int | None = None,
                  process_id: str | None = None) -> list[VersionStats]:
    """Statistics per version (every version, oldest first, unless ``version_id``), of ``process_id``'s
    instances only if given. Raises UnknownVersion for a version number that was never deployed."""
    with reader() as uow:
        versions = list(uow.instances.versions(instance_counts=False))
    if version_id is not None:
        versions = [v for v in versions if v["id"] == version_id]
        if not versions:
            raise UnknownVersion(f"there is no model version {version_id} (see: budgetflow bpmn list)")
    return [_one_version(reader, int(v["id"]), str(v["sha256"]), process_id) for v in versions]


def _one_version(reader: UnitOfWorkFactory, version_id: int, sha: str, process_id: str | None) -> VersionStats:
    with reader() as uow:
        model = step_history.read_model(uow.instances.version_files(sha))
        times = uow.steps.user_task_times(version_id)
        histories, unreadable = [], 0
        for _id, _process, _status, state in uow.steps.instance_states(version_id, process_id):
            try:
                histories.append(step_history.history(state, model))
            except step_history.StateUnreadable:
                unreadable += 1
    stats = aggregate(model, histories, times, only_process=process_id)
    return VersionStats(version_id, sha, len(histories) + unreadable, stats[0], stats[1], unreadable)


# ---------------------------------------------------------------- aggregation (pure)

def aggregate(model: Model, histories: Iterable[History],
              task_times: dict[str, tuple[datetime, datetime | None]] | None = None, *,
              only_process: str | None = None) -> tuple[list[ElementStats], list[FlowStats]]:
    """Per element and per gateway flow of ``model``, over the instances' ``histories``.

    ``only_process``: keep the elements of that process and of the processes it calls, drop the rest.
    """
    times = task_times or {}
    elements = {key: _empty(e) for key, e in model.elements.items()}
    taken: dict[tuple[str, str, str], int] = defaultdict(int)
    gateway_passes: dict[tuple[str, str], int] = defaultdict(int)
    seen: set[str] = set()  # processes some instance ran in (kept with only_process)
    for one in histories:
        passed_here: set[tuple[str, str]] = set()
        for p in one.passages:
            stats = elements[(p.process_id, p.element_id)]
            seen.add(p.process_id)
            if p.done_at is None:
                stats.waiting_now += 1
                continue
            stats.passes += 1
            passed_here.add((p.process_id, p.element_id))
            wait = _wait(stats, p, times)
            if wait is not None:
                stats.waits.append(wait)
        for key in passed_here:
            elements[key].passed += 1
        for b in one.branches:
            taken[(b.process_id, b.gateway, b.target)] += 1
    for (process_id, element_id), stats in elements.items():
        if stats.kind in step_history.GATEWAYS:
            gateway_passes[(process_id, element_id)] = stats.passes
    flows = _flows(model, taken, gateway_passes)
    keep = (lambda p: True) if only_process is None else (lambda p: p == only_process or p in seen)
    return ([e for e in elements.values() if keep(e.process_id)], [f for f in flows if keep(f.process_id)])


def _empty(element: Element) -> ElementStats:
    return ElementStats(element.process_id, element.element_id, element.name, element.kind, element.lane)


def _wait(stats: ElementStats, passage: step_history.Passage,
          times: dict[str, tuple[datetime, datetime | None]]) -> float | None:
    """Seconds from ready to done: a user task's inbox row when it has one (exact), else the state's times."""
    found = times.get(passage.task_guid) if stats.kind in step_history.USER_KINDS else None
    if found is not None and found[1] is not None:
        return max(0.0, (found[1] - found[0]).total_seconds())
    if passage.ready_at is None or passage.done_at is None:
        return None
    return max(0.0, passage.done_at - passage.ready_at)


def _flows(model: Model, taken: dict[tuple[str, str, str], int],
           gateway_passes: dict[tuple[str, str], int]) -> list[FlowStats]:
    """Every outgoing flow of every gateway with two or more ways out, with its count and share."""
    found = []
    for (process_id, element_id), element in model.elements.items():
        outgoing = model.outgoing(process_id, element_id)
        if element.kind not in step_history.GATEWAYS or len(outgoing) < 2:
            continue
        passes = gateway_passes.get((process_id, element_id), 0)
        for flow in outgoing:
            count = taken.get((process_id, element_id, flow.target), 0)
            found.append(FlowStats(process_id, flow.flow_id, element_id, flow.target, flow.name, count,
                                   count / passes if passes else None))
    return found
