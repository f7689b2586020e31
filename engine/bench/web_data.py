"""The data behind ``budgetflow bench web``: the ``bench inbox`` fill, plus the people who sign in.

Every synthetic approver becomes an employee (role manager) of one bench org unit; ``tokens`` of
them, drawn at random, get an API token each, and the busiest gets a password for the inbox page.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, insert

from engine.bench import inbox
from engine.bootstrap import build
from engine.config import Settings
from engine.persistence.tables import Employee, EmployeeRole, OrgUnit
from engine.services import accounts, api_tokens

PASSWORD = "bench-password-1"  # noqa: S105 - a throw-away bench database only


@dataclass(frozen=True)
class People:
    busiest: str
    busiest_tasks: int
    password: str
    tokens: list[str]  # one API token secret per request of the bench


def work_units(*, open_tasks: int, history: int) -> int:
    return inbox.work_units(open_tasks=open_tasks, history=history, queries=0)


def fill(url: str, instance_dir: Path, *, open_tasks: int, history: int, tokens: int, seed: int = 7,
         progress: Callable[[int], None] = lambda _n: None) -> People:
    """``instance_dir``: the bench's own folder, where the audit key of the sign-ins and tokens is made; the
    server must run with the same folder (and no other audit key settings)."""
    container = build(Settings.from_env({"BUDGETFLOW_DATABASE_URL": url,
                                         "BUDGETFLOW_INSTANCE_DIR": str(instance_dir)}), audit_environ={})
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by seed
    try:
        with container.engine.begin() as conn:
            busiest, busiest_tasks = inbox.fill(conn, rng, open_tasks=open_tasks, history=history,
                                                progress=progress)
            _approvers(conn, count=inbox.employees(open_tasks) + inbox.GROUP_POOL)
        chosen = [inbox.employee(rng.randrange(inbox.employees(open_tasks))) for _ in range(tokens)]
        secrets = [api_tokens.issue_token(container.uow, employee=code, label="bench", scopes=["manager"],
                                          by=code)[1] for code in chosen]
        accounts.set_password(container.uow, employee=busiest, password=PASSWORD, by=busiest)
    finally:
        container.dispose()
    return People(busiest=busiest, busiest_tasks=busiest_tasks, password=PASSWORD, tokens=secrets)


def _approvers(conn: Connection, *, count: int) -> None:
    unit = conn.execute(insert(OrgUnit.__table__).values(code="BENCH", name="Bench", active=True)
                        .returning(OrgUnit.id)).scalar_one()
    people = [dict(id=n + 1, code=inbox.employee(n), name=f"Bench {n}", org_unit_id=unit, active=True)
              for n in range(count)]
    inbox.in_batches(conn, Employee.__table__, people)
    inbox.in_batches(conn, EmployeeRole.__table__, (
        {"employee_id": n + 1, "role_code": role} for n in range(count) for role in ("employee", "manager")))
