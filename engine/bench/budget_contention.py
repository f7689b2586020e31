"""``budgetflow bench budget-contention``: reservations/s on one hot line against a raw UPDATE.

For each database and client count, the ledger's real ``reserve`` service runs for
a fixed time on one line; in the same run a bare conditional UPDATE on a one-row
table of the same database gives the physical reference. Then a capped line is
hammered past full to count over-commit, and the whole ledger is verified.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Engine

from engine.bench.hammer import HammerResult, hammer
from engine.bench.scratch_line import make_scratch_line
from engine.bootstrap import Container, build
from engine.config import Settings
from engine.domain.money import Money
from engine.persistence import ledger_queries
from engine.services import ledger
from engine.services.ledger_verify import verify

CLIENT_COUNTS = (1, 8, 32)
ONE = Money(Decimal("1.00"), "CNY")


@dataclass
class ContentionReport:
    reservations_per_s: dict[str, float] = field(default_factory=dict)
    raw_update_per_s: dict[str, float] = field(default_factory=dict)
    overcommit: Decimal = Decimal(0)
    verify_problems: int = 0
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        ledger8, raw8 = self.reservations_per_s.get("8", 0.0), self.raw_update_per_s.get("8", 0.0)
        return {
            "reservations_per_s": self.reservations_per_s, "raw_update_per_s": self.raw_update_per_s,
            "ratio_to_raw": round(ledger8 / raw8, 3) if raw8 else None,
            "overcommit": int(self.overcommit) if self.overcommit == int(self.overcommit) else str(self.overcommit),
            "verify_problems": self.verify_problems, "errors": self.errors[:5],
        }


def run(url: str, *, seconds: float, clients: tuple[int, ...] = CLIENT_COUNTS,
        progress: Callable[[int], None] = lambda _n: None) -> ContentionReport:
    """Each client count in turn (``progress(1)`` after each), then the over-commit run and the verify."""
    container = build(Settings.from_env({"BUDGETFLOW_DATABASE_URL": url}), pool_size=max(clients) + 2)
    report = ContentionReport()
    try:
        for n in clients:
            ledger_run = _ledger_rate(container, clients=n, seconds=seconds)
            raw_run = _raw_rate(container.engine, clients=n, seconds=seconds)
            report.reservations_per_s[str(n)] = round(ledger_run.per_second, 1)
            report.raw_update_per_s[str(n)] = round(raw_run.per_second, 1)
            report.errors += ledger_run.errors + raw_run.errors
            progress(1)
        report.overcommit = _overcommit(container, clients=max(clients))
        progress(1)
        with container.session_factory() as s:
            report.verify_problems = len(verify(ledger_queries.line_totals(s),
                                                ledger_queries.reservation_totals(s)).problems)
    finally:
        container.dispose()
    return report


def _ledger_rate(container: Container, *, clients: int, seconds: float) -> HammerResult:
    line_id = make_scratch_line(container, Decimal("1000000000"), prefix="BENCH")
    run_id = uuid.uuid4().hex[:8]

    def reserve(client: int, n: int) -> None:
        ledger.reserve(container.uow, line_id=line_id, amount=ONE, key=f"bench-{run_id}-{client}-{n}",
                       document=f"BENCH-{run_id}")

    return hammer(reserve, clients=clients, seconds=seconds)


def _overcommit(container: Container, *, clients: int) -> Decimal:
    capacity = Decimal("500.00")
    line_id = make_scratch_line(container, capacity, prefix="BENCH")
    run_id = uuid.uuid4().hex[:8]

    def reserve(client: int, n: int) -> None:
        ledger.reserve(container.uow, line_id=line_id, amount=ONE, key=f"cap-{run_id}-{client}-{n}",
                       document=f"CAP-{run_id}")

    hammer(reserve, clients=clients, seconds=0.5, until_refused=60)
    with container.session_factory() as s:
        balance = next(b for b in ledger_queries.balances(s) if b.line_id == line_id)
    return max(balance.reserved + balance.consumed - balance.budget, Decimal(0))


def _raw_rate(engine: Engine, *, clients: int, seconds: float) -> HammerResult:
    """One conditional UPDATE per transaction on a one-row table, straight on the DB-API connection."""
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_raw_line")
        conn.exec_driver_sql("CREATE TABLE bench_raw_line (id INTEGER PRIMARY KEY, amount BIGINT, reserved BIGINT)")
        conn.exec_driver_sql("INSERT INTO bench_raw_line VALUES (1, 1000000000000, 0)")
    sqlite = engine.dialect.name == "sqlite"
    # SQLite serialises writers anyway; the same in-process queue the ledger gets keeps the comparison fair.
    queue = threading.Lock()
    raws = [engine.raw_connection() for _ in range(clients)]
    mark = "?" if sqlite else "%s"
    update = f"UPDATE bench_raw_line SET reserved = reserved + 1 WHERE id = {mark} AND reserved + 1 <= amount"

    def bump(client: int, _n: int) -> None:
        cur = raws[client].cursor()
        if sqlite:
            with queue:
                cur.execute("BEGIN IMMEDIATE")
                cur.execute(update, (1,))
                cur.execute("COMMIT")
        else:
            cur.execute(update, (1,))
            raws[client].commit()

    try:
        return hammer(bump, clients=clients, seconds=seconds)
    finally:
        for raw in raws:
            raw.close()
