"""``budgetflow bench inbox``: the "my tasks" query with many open tasks and a long history (docs/performance.md).

The database is filled straight through SQL (a realistic spread, not real flows: 1.1 M
tasks through the engine would take an hour): one instance per open task, history rows
spread over them, 80 % of open tasks offered to one person (a manager), 20 % to a group of
five drawn from a small finance/budget pool (so those people have thousands of tasks each),
and 5 % delegated to someone; then ANALYZE, as autovacuum would have run on a live server.
The query then runs for random employees and for the busiest. In the same run, a few calls
of the former query (every open task read, its JSON candidate list filtered in Python) show
what the candidate index replaced.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select, text

from engine.bootstrap import build
from engine.config import Settings
from engine.persistence.types import utcnow
from engine.persistence.workflow_tables import HumanTask, HumanTaskCandidate, ModelVersion, ProcessInstance
from engine.services.inbox import VIEWS, inbox

BATCH = 20_000
GROUP_POOL = 40  # finance / budget-admin people who share the group tasks
SUBJECTS = ("TRAVEL", "HOTEL", "MEALS", "TRANSPORT", "OFFICE")


@dataclass(frozen=True)
class InboxFigures:
    open_tasks: int
    history: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    busiest_ms: float  # the person with the most open tasks (a page of 200)
    busiest_tasks: int
    full_scan_ms: float  # the former query, for one person
    # The web inbox (engine.services.inbox: a page of 50 with the four counts): random people's "mine" view,
    # and each view of the busiest person (best of three).
    inbox_p50_ms: float = 0.0
    inbox_p95_ms: float = 0.0
    views_ms: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        def shown(v: Any) -> Any:
            return round(v, 2) if isinstance(v, float) else {k: shown(x) for k, x in v.items()} \
                if isinstance(v, dict) else v
        return {k: shown(v) for k, v in self.__dict__.items()}


def work_units(*, open_tasks: int, history: int, queries: int) -> int:
    """The sum of what ``run`` reports to ``progress``: one per instance and task row written, one per query."""
    return 2 * open_tasks + history + queries


def run(url: str, *, open_tasks: int, history: int, queries: int = 200, seed: int = 7,
        progress: Callable[[int], None] = lambda _n: None) -> InboxFigures:
    container = build(Settings.from_env({"BUDGETFLOW_DATABASE_URL": url}))
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by seed
    try:
        with container.engine.begin() as conn:
            busiest = fill(conn, rng, open_tasks=open_tasks, history=history, progress=progress)
        people = [employee(rng.randrange(employees(open_tasks))) for _ in range(queries)]
        times, web = [], []
        for person in people:
            times.append(_timed(container, person))
            web.append(_timed_view(container, person, "mine"))
            progress(1)
        busy_ms = min(_timed(container, busiest[0]) for _ in range(5))
        scan_ms = min(_timed_scan(container, people[0]) for _ in range(3))
        views = {view: min(_timed_view(container, busiest[0], view) for _ in range(3)) for view in VIEWS}
    finally:
        container.dispose()
    return InboxFigures(open_tasks, history, statistics.median(times), _p95(times), max(times), busy_ms,
                        busiest[1], scan_ms, statistics.median(web), _p95(web), views)


def employees(open_tasks: int) -> int:
    return max(100, open_tasks // 10)  # about ten open tasks per manager


def employee(n: int) -> str:
    return f"B{n:06d}"


def _timed(container: Any, employee: str) -> float:
    began = time.perf_counter()
    with container.reader() as uow:
        uow.instances.open_tasks_for(employee)
    return (time.perf_counter() - began) * 1000


def _timed_view(container: Any, employee: str, view: str) -> float:
    began = time.perf_counter()
    inbox(container.reader, employee, view=view)
    return (time.perf_counter() - began) * 1000


def _timed_scan(container: Any, employee: str) -> float:
    """The query before the candidate index: every open task, filtered in Python."""
    task = HumanTask.__table__
    began = time.perf_counter()
    with container.reader() as uow:
        rows = uow.conn.execute(select(task.c.task_guid, task.c.candidates, task.c.assignee)
                                .where(task.c.status == "open"))
        _ = [g for g, c, a in rows if a == employee or (a is None and employee in json.loads(c))]
    return (time.perf_counter() - began) * 1000


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


# ---------------------------------------------------------------- data


def fill(conn: Connection, rng: random.Random, *, open_tasks: int, history: int,
          progress: Callable[[int], None]) -> tuple[str, int]:
    """Write the synthetic inbox; returns the busiest person and their open task count."""
    now = utcnow()
    version = conn.execute(insert(ModelVersion.__table__).values(
        sha256="bench", files="{}", process_ids="bench", deployed_by="bench", deployed_at=now)
        .returning(ModelVersion.id)).scalar_one()
    in_batches(conn, ProcessInstance.__table__, (dict(
        id=i + 1, model_version_id=version, process_id="bench", business_key=f"BENCH-{i:07d}", applicant="A",
        status="user_input_required", state="", revision=1, created_at=now, updated_at=now,
        subject=SUBJECTS[i % len(SUBJECTS)], amount=Decimal(rng.randrange(100, 5_000_000)) / 100, currency="CNY",
        purpose="bench") for i in range(open_tasks)), progress)
    people = employees(open_tasks)
    offered: dict[int, list[str]] = {}
    for n in range(open_tasks):
        group = rng.random() < 0.2
        offered[n + 1] = ([employee(people + rng.randrange(GROUP_POOL)) for _ in range(5)] if group
                          else [employee(rng.randrange(people))])
    # 5 % handed on by their (first) candidate to someone
    assigned = {n: employee(rng.randrange(people)) if rng.random() < 0.05 else None for n in offered}
    in_batches(conn, HumanTask.__table__, _task_rows(rng, offered, assigned, history, now, people), progress)
    in_batches(conn, HumanTaskCandidate.__table__, (
        {"task_id": task_id, "employee": e, "pool": len(set(names)) > 1, "taken": assigned[task_id] is not None,
         "created_at": now} for task_id, names in offered.items() for e in dict.fromkeys(names)))
    conn.execute(text("ANALYZE"))  # planner statistics, as autovacuum keeps them on a live PostgreSQL
    counts: dict[str, int] = {}
    for names in offered.values():
        for e in dict.fromkeys(names):
            counts[e] = counts.get(e, 0) + 1
    return max(counts.items(), key=lambda kv: kv[1])


def _task_rows(rng: random.Random, offered: dict[int, list[str]], assigned: dict[int, str | None], history: int,
               now: Any, people: int) -> Iterator[dict[str, Any]]:
    base = dict(bpmn_id="approve", title="Approve", lane="manager", form_key="approve.json", created_at=now,
                completed_by=None, completed_at=None, delegated_by=None, due_at=None)
    for task_id, names in offered.items():
        assignee = assigned[task_id]
        yield dict(base, id=task_id, instance_id=task_id, task_guid=f"open-{task_id}", candidates=json.dumps(names),
                   assignee=assignee, status="open", candidate_count=len(set(names)),
                   delegated_by=names[0] if assignee else None,
                   due_at=now + timedelta(hours=rng.randrange(1, 200)) if rng.random() < 0.7 else None)
    instances = len(offered)
    for n in range(history):
        person = employee(rng.randrange(people))
        completed = n % 10 != 0
        yield dict(base, id=instances + n + 1, instance_id=n % instances + 1, task_guid=f"done-{n}",
                   candidates=json.dumps([person]), assignee=None, candidate_count=1,
                   status="completed" if completed else "cancelled", completed_by=person if completed else None,
                   completed_at=now - timedelta(minutes=n) if completed else None)


def in_batches(conn: Connection, table: Any, rows: Iterator[dict[str, Any]] | Any,
                progress: Callable[[int], None] = lambda _n: None) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            conn.execute(insert(table), batch)
            progress(len(batch))
            batch = []
    if batch:
        conn.execute(insert(table), batch)
        progress(len(batch))
