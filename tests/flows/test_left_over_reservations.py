"""A budget admin gives back what an approved, never-claimed application still holds (and nobody else may)."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from engine.domain.errors import BudgetflowError
from engine.persistence import ledger_queries
from engine.persistence.tables import LedgerEntry
from engine.services import processes
from engine.services.ledger_verify import verify
from engine.services.reservations import release_left_over
from tests.flows.support import BUDGET_ADMIN, MANAGER, Flow


def open_reservation(flow: Flow, instance: int) -> int:
    with flow.app.reader() as uow:
        found = uow.claims.open_reservation_of(flow.instance(instance).business_key)
    assert found is not None
    return found


def entries(flow: Flow) -> int:
    with flow.app.session_factory() as s:
        return s.scalar(select(func.count()).select_from(LedgerEntry))


def release(flow: Flow, reservation: int, by: str = BUDGET_ADMIN, reason: str = "never claimed 未报销"):
    return release_left_over(flow.app.uow, reservation_id=reservation, by=by, reason=reason)


def test_only_a_budget_admin_releases_and_only_once_the_flow_has_ended(flow):
    instance = flow.apply("8000.00")
    flow.decide(instance, "approve")  # the department head has yet to decide: the flow counts on its reservation
    reservation = open_reservation(flow, instance)
    with pytest.raises(processes.NotAllowed, match="still in progress"):
        release(flow, reservation)
    flow.decide(instance, "approve")
    assert flow.finished(instance) == ("complete", "approved") and flow.reserved() == Decimal("8000.00")
    with pytest.raises(processes.NotAllowed, match="not a budget admin"):
        release(flow, reservation, by=MANAGER)
    with pytest.raises(BudgetflowError, match="say why"):
        release(flow, reservation, reason="  ")
    before = entries(flow)
    first = release(flow, reservation)
    assert (first.released, first.replayed) == (Decimal("8000.00"), False)
    assert flow.reserved() == 0 and entries(flow) == before + 1
    again = release(flow, reservation)
    assert again.replayed and entries(flow) == before + 1  # the repeated command booked nothing
    with flow.app.session_factory() as s:
        assert verify(ledger_queries.line_totals(s), ledger_queries.reservation_totals(s)).ok


def test_the_cli_lists_what_is_left_over_and_releases_it(flow, cli_env):
    instance = flow.apply("1280.50")
    flow.decide(instance, "approve")
    number = flow.instance(instance).business_key
    cli = [sys.executable, "-m", "engine", "ledger"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cli, *args], env=cli_env, capture_output=True, text=True, check=False)

    listed = run("reservations")
    assert listed.returncode == 0 and number in listed.stdout and "complete" in listed.stdout
    assert number not in run("reservations", "--older-than-days", "1").stdout  # made just now
    reservation = str(open_reservation(flow, instance))
    refused = run("release", reservation, "--by", MANAGER, "--reason", "tidy up")
    assert refused.returncode == 2 and "not a budget admin" in refused.stderr
    done = run("release", reservation, "--by", BUDGET_ADMIN, "--reason", "trip cancelled after approval")
    assert done.returncode == 0 and "1,280.50 given back" in done.stdout
    assert number not in run("reservations").stdout and flow.reserved() == 0
