"""Zero over-commit under concurrency, with a negative control that shows the test can fail."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from engine.bench.hammer import hammer
from engine.bench.scratch_line import make_scratch_line
from engine.domain.money import Money
from engine.persistence.tables import BudgetLine, Reservation
from engine.services import ledger
from tests.naive_ledger import naive_reserve

CLIENTS = 16
SECONDS = 4.0  # at least this long, and on until every client has been refused once
CAP_SECONDS = 90.0
CAPACITY = Decimal("2000.00")
ONE = Decimal("1.00")

pytestmark = pytest.mark.slow


def outcome(container, line_id) -> tuple[int, Decimal, Decimal]:
    with container.session_factory() as s:
        rows = s.scalar(select(func.count()).select_from(Reservation).where(Reservation.line_id == line_id))
        line = s.get(BudgetLine, line_id)
        return rows, line.reserved, line.budget


def run_verify(cli_env) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", "ledger", "verify"], env=cli_env,
                          capture_output=True, text=True, check=False)


def test_sixteen_clients_never_over_commit_a_line_of_two_thousand(container, cli_env):
    line_id = make_scratch_line(container, CAPACITY)

    def reserve_one(client: int, n: int) -> None:
        ledger.reserve(container.uow, line_id=line_id, amount=Money(ONE, "CNY"),
                       key=f"T{client}-{n}:reserve", document=f"T{client}-{n}")

    result = hammer(reserve_one, clients=CLIENTS, seconds=SECONDS, until_refused=CAP_SECONDS)
    assert result.errors == []
    rows, reserved, budget = outcome(container, line_id)
    assert result.succeeded == rows == 2000, result
    assert reserved == budget == CAPACITY
    assert result.refused >= CLIENTS, "every client must have met the full line"
    verdict = run_verify(cli_env)
    assert verdict.returncode == 0, verdict.stdout


def test_negative_control_naive_check_then_insert_over_commits(container, cli_env):
    line_id = make_scratch_line(container, CAPACITY)

    def reserve_one(client: int, n: int) -> None:
        naive_reserve(container.session_factory, line_id=line_id, amount=ONE, key=f"N{client}-{n}")

    result = hammer(reserve_one, clients=CLIENTS, seconds=SECONDS, until_refused=CAP_SECONDS)
    assert result.errors == []
    rows, reserved, budget = outcome(container, line_id)
    assert rows > 2000 and reserved > budget, f"naive variant did not over-commit: {rows} rows"
    verdict = run_verify(cli_env)
    assert verdict.returncode == 1 and "over-committed" in verdict.stdout
