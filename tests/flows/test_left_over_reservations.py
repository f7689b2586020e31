"""Reservations finished requests left open: a budget admin gives them back, or the worker expires them."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from engine.domain.errors import BudgetflowError
from engine.persistence import ledger_queries
from engine.persistence.audit_table import AuditLog
from engine.persistence.tables import LedgerEntry
from engine.persistence.types import utcnow
from engine.services.ledger_verify import verify
from engine.services.reservations import EXPIRY_ACTOR, expire_left_overs, release_left_over
from engine.services.steps import NotAllowed
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
    with pytest.raises(NotAllowed, match="still in progress"):
        release(flow, reservation)
    flow.decide(instance, "approve")
    assert flow.finished(instance) == ("complete", "approved") and flow.reserved() == Decimal("8000.00")
    with pytest.raises(NotAllowed, match="not a budget admin"):
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
        released = s.scalars(select(AuditLog.actor).where(AuditLog.action == "reservation.released")).all()
        refused = s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "access.refused"))
    assert released == [BUDGET_ADMIN] and refused == 2  # the running flow's and the manager's attempts
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


def test_the_worker_expires_only_what_finished_requests_held_too_long(flow):
    running = flow.apply("8000.00")
    flow.decide(running, "approve")  # the department head has yet to decide: the flow counts on its reservation
    finished = flow.apply("1280.50")
    flow.decide(finished, "approve")
    assert flow.reserved() == Decimal("9280.50")
    now = utcnow()

    def expire(days_later: int, valid_days: int) -> int:
        return expire_left_overs(flow.app.uow, now=now + timedelta(days=days_later), valid_days=valid_days)

    assert expire(365, valid_days=0) == 0  # the default: never
    assert expire(29, valid_days=30) == 0  # not old enough yet
    assert expire(31, valid_days=30) == 1
    assert flow.reserved() == Decimal("8000.00")  # the running application keeps its reservation
    assert expire(31, valid_days=30) == 0  # nothing left to release, nothing booked twice
    with flow.app.session_factory() as s:
        actors = s.scalars(select(AuditLog.actor).where(AuditLog.action == "reservation.released")).all()
    assert actors == [EXPIRY_ACTOR]


def test_a_claim_in_progress_keeps_its_applications_reservation_from_release_and_expiry(flow):
    application = flow.apply("1000.00")
    flow.decide(application)
    number = flow.instance(application).business_key
    reservation = open_reservation(flow, application)
    claim = flow.claim("900.00", application_no=number)  # waits for the manager
    claim_no = flow.instance(claim).business_key
    assert expire_left_overs(flow.app.uow, now=utcnow() + timedelta(days=400), valid_days=30) == 0
    with pytest.raises(NotAllowed, match=f"{claim_no} is in progress against {number}"):
        release(flow, reservation)
    with flow.app.session_factory() as s:
        [listed] = [r for r in ledger_queries.open_reservations(s) if r.reservation_id == reservation]
    assert (listed.document_status, listed.drawn_on_by) == ("complete", claim_no)
    flow.decide(claim)
    assert flow.finished(claim) == ("complete", "posted")  # its write-off closed the application's reservation
    assert flow.reserved() == 0 and flow.reservations(number) == [
        (Decimal("1000.00"), Decimal("900.00"), Decimal("100.00"), "closed")]
