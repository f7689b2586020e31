"""Acceptance 2 and 3 (issue 11): each claim has exactly one voucher in the ERP and its number on the claim,
with 30 % of calls committing then timing out, and after the ERP was down for ten minutes."""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from connectors.base import ConnectorError
from engine.persistence.erp_tables import ErpVoucher
from engine.persistence.types import utcnow
from engine.persistence.workflow_tables import OutboxJob
from engine.services import instance_admin, outbox, read_models
from tests.flows.support import APPLICANT, POLICY

CLAIMS = 1000


def claim_params(n: int) -> dict[str, Any]:
    """A claim as the diagram hands it to erp/PostVoucher: two invoice lines, one with deductible VAT."""
    return {"document_no": f"EC-2026-{n:06d}", "applicant": APPLICANT, "currency": "CNY", "total": "0",
            "lines": [{"subject": "HOTEL", "amount": f"{100 + n % 500}.60", "tax": "6.00"},
                      {"subject": "TRAVEL", "amount": f"{50 + n % 300}.25", "tax": "0.00"}]}


def post_as_the_outbox_does(flow: Any, params: dict[str, Any], attempts: int = 30) -> dict[str, Any]:
    """Retry what is retryable; every attempt after the first may follow one that reached the ERP. The voucher
    is recorded in a transaction of its own, as the outbox records it with the job's success."""
    for attempt in range(1, attempts + 1):
        try:
            done = flow.runner.run("erp/PostVoucher", params, key=f"job:{params['document_no']}", attempt=attempt)
        except ConnectorError as exc:
            if not exc.retryable:
                raise
            continue
        with flow.app.uow() as uow:
            done.write(uow)
            uow.commit()
        return done.result
    raise AssertionError(f"{params['document_no']} was not posted in {attempts} attempts")


def references(erp) -> Counter[str]:
    return Counter(v.reference for v in erp.emulator.book.all())


def test_a_thousand_claims_with_30_percent_ambiguous_timeouts_post_exactly_once(erp_flow, erp):
    erp.emulator.erp_faults.update({"commit_then_timeout_ratio": 0.3}, erp.emulator.clock.now())
    answers = {n: post_as_the_outbox_does(erp_flow, claim_params(n)) for n in range(1, CLAIMS + 1)}
    held = references(erp)
    assert {k: c for k, c in held.items() if c != 1} == {}, "a claim with more or less than one voucher"
    assert sorted(held) == sorted(f"EC-2026-{n:06d}" for n in answers)
    numbers = {v.reference: v.voucher_no for v in erp.emulator.book.all()}
    vouchers = erp_flow.app.erp_vouchers()
    for n, answer in answers.items():
        record = vouchers.of_document(f"EC-2026-{n:06d}")
        assert answer["voucher_no"] == record.voucher_no == numbers[record.document_no]
    assert any(a["replayed"] for a in answers.values()), "no ambiguous post was resolved by the look-up"


def test_without_the_look_up_the_same_faults_book_duplicates(erp_flow, erp):
    """The negative control: retries that do not look the key up first leave duplicates in an ERP with no
    idempotency of its own (Kingdee, SAP), and in Yonyou with its businessId / biz_id dedupe switched off: what
    the test above sees is the look-up (or the ERP's dedupe) at work, not luck."""
    if erp.name.startswith("yon"):
        erp.emulator.dedupe = False
    erp.emulator.erp_faults.update({"commit_then_timeout_ratio": 0.3}, erp.emulator.clock.now())
    client = erp.client()
    for n in range(1, 61):
        draft = erp_flow.runner.posting.draft(claim_params(n))
        for _attempt in range(30):
            try:
                client.post_voucher(draft, idempotency_key=draft.document_no, resolve_first=False)
                break
            except ConnectorError:
                continue
    assert any(count > 1 for count in references(erp).values())


def erp_jobs(flow, instances: list[int]) -> list[tuple[int, str, int, Any]]:
    with flow.app.session_factory() as s:
        return s.execute(select(OutboxJob.id, OutboxJob.status, OutboxJob.attempts, OutboxJob.next_attempt_at)
                         .where(OutboxJob.instance_id.in_(instances), OutboxJob.operator == "erp/PostVoucher")
                         .order_by(OutboxJob.id)).all()


def test_an_erp_down_for_ten_minutes_turns_claims_into_incidents_then_each_posts_once(erp_flow, erp):
    flow = erp_flow
    erp.emulator.erp_faults.update({"down_for": 600}, erp.emulator.clock.now())
    instances = [flow.claim(f"{300 + n}.00") for n in range(4)]
    for instance in instances:
        flow.decide(instance, settle=False)
    policy = outbox.RetryPolicy(max_attempts=4, base=timedelta(seconds=30), cap=timedelta(minutes=4))
    started = now = utcnow()
    waits = []
    for _step in range(60):  # the worker's passes, on a clock that jumps to the next due job
        outbox.run_due(flow.app.uow, flow.runner, policy=policy, now=now)
        jobs = erp_jobs(flow, instances)
        pending = [due for _id, status, _n, due in jobs if status == "pending"]
        if jobs and not pending:
            break
        waits.append(min(pending) - now)
        now = min(pending) + timedelta(seconds=1)
    assert {status for _id, status, _n, _due in erp_jobs(flow, instances)} == {"incident"}
    assert max(waits) > timedelta(seconds=100) > timedelta(seconds=25) < min(w for w in waits if w.total_seconds() > 0)
    incidents = read_models.incidents(flow.app.reader).jobs
    assert sorted(j["instance_id"] for j in incidents) == sorted(instances), "each claim shows as an incident"
    assert references(erp) == Counter(), "nothing reached the ERP while it was down"
    ten_minutes_on = started + timedelta(minutes=10)
    assert now < ten_minutes_on  # the jobs gave up while the ERP was still down; the worker goes on idling
    outbox.run_due(flow.app.uow, flow.runner, policy=policy, now=ten_minutes_on)
    assert references(erp) == Counter() and len(read_models.incidents(flow.app.reader).jobs) == len(instances)
    # Ten minutes on, the ERP is back (its own clock stays: Kingdee's signed calls carry the real time); an admin
    # retries the incidents from the process pages.
    erp.emulator.erp_faults.update({"down_for": 0}, erp.emulator.clock.now())
    for job in incidents:
        instance_admin.retry_job(flow.app.uow, job_id=job["id"], by="E0001")
    flow.settle()
    for instance in instances:
        assert flow.finished(instance) == ("complete", "posted")
        number = flow.instance(instance).business_key
        assert flow.data(instance)["voucher"]["voucher_no"] == flow.app.erp_vouchers().of_document(number).voucher_no
    assert sorted(references(erp).values()) == [1] * len(instances)


class _Killed(BaseException):
    """The worker dies (not an error the outbox would handle): its open transaction never commits."""


def dying_before_the_success_commit(monkeypatch) -> None:
    """The first erp/PostVoucher success is written in full (its erp_voucher row, the job done, the claim's next
    step), then the worker dies before COMMIT: the ERP holds the voucher, our database none of it."""
    original, died = outbox._record_success, []

    def record_then_die(uow, job, *rest):
        recorded = original(uow, job, *rest)
        if job.operator == "erp/PostVoucher" and not died:
            died.append(job.id)
            raise _Killed
        return recorded

    monkeypatch.setattr(outbox, "_record_success", record_then_die)


def erp_voucher_rows(flow, document_no: str) -> list[str]:
    with flow.app.session_factory() as s:
        return list(s.scalars(select(ErpVoucher.voucher_no).where(ErpVoucher.document_no == document_no)))


def died_after_the_erp_answered(flow, monkeypatch) -> tuple[int, str]:
    """A claim whose posting worker died once the ERP had answered, before the success committed."""
    instance = flow.claim("300.00")
    flow.decide(instance, settle=False)
    dying_before_the_success_commit(monkeypatch)
    with pytest.raises(_Killed):
        flow.settle()
    return instance, flow.instance(instance).business_key


def test_a_worker_dying_before_the_success_commit_leaves_one_voucher_and_one_record_after_the_retry(
        erp_flow, erp, monkeypatch):
    flow = erp_flow
    instance, number = died_after_the_erp_answered(flow, monkeypatch)
    assert references(erp) == Counter({number: 1})
    assert erp_voucher_rows(flow, number) == [], "the record must commit with the job's success, not before"
    [(job_id, status, attempts, _due)] = erp_jobs(flow, [instance])
    assert (status, attempts) == ("pending", 1)
    # The dead worker's lease runs out; the retry (attempt 2) looks the key up and finds the voucher.
    outbox.run_due(flow.app.uow, flow.runner, policy=POLICY, now=utcnow() + POLICY.lease + timedelta(seconds=1))
    assert references(erp) == Counter({number: 1})
    [voucher_no] = erp_voucher_rows(flow, number)
    assert voucher_no == {v.reference: v.voucher_no for v in erp.emulator.book.all()}[number]
    assert flow.data(instance)["voucher"]["voucher_no"] == voucher_no
    assert [tuple(j[1:3]) for j in erp_jobs(flow, [instance])] == [("done", 2)]
    assert flow.finished(instance) == ("complete", "posted")


def test_negative_control_the_same_death_retried_without_the_look_up_books_a_second_voucher(
        erp_flow, erp, monkeypatch):
    """What keeps the ERP at one voucher above is the retry's look-up (attempt 2), not the death's timing: the
    same job run again as a first attempt posts again where the ERP has no idempotency of its own."""
    if erp.name.startswith("yon"):
        erp.emulator.dedupe = False
    flow = erp_flow
    instance, number = died_after_the_erp_answered(flow, monkeypatch)
    [(job_id, _status, attempts, _due)] = erp_jobs(flow, [instance])
    with flow.app.uow() as uow:  # forget the attempt: the job runs again as a first attempt, with no look-up
        assert uow.outbox.give_back(job_id, attempts)
        uow.commit()
    flow.settle()
    assert references(erp) == Counter({number: 2})
    assert len(erp_voucher_rows(flow, number)) == 1  # one row per key, whatever the ERP did


def test_an_outage_at_the_success_commit_keeps_the_attempt_so_the_rerun_looks_the_voucher_up(
        erp_flow, erp, monkeypatch):
    """The database goes away while the posted voucher's success is being recorded: the worker gives the job
    back at once but keeps its attempt, so the rerun is attempt 2 and finds the voucher. (Given back as attempt
    1, it posts a second one: the negative control above.)"""
    if erp.name.startswith("yon"):
        erp.emulator.dedupe = False
    flow = erp_flow
    instance = flow.claim("300.00")
    flow.decide(instance, settle=False)
    number = flow.instance(instance).business_key
    original, failed = outbox._record_success, []

    def record_then_lose_the_database(uow, job, *rest):
        recorded = original(uow, job, *rest)
        if job.operator == "erp/PostVoucher" and not failed:
            failed.append(job.id)
            raise OperationalError("COMMIT", {}, sqlite3.OperationalError("database is locked"))
        return recorded

    monkeypatch.setattr(outbox, "_record_success", record_then_lose_the_database)
    with pytest.raises(outbox.JobInterrupted) as interrupted:
        flow.settle()
    assert interrupted.value.answered and erp_voucher_rows(flow, number) == []
    assert outbox.give_back(flow.app.uow, interrupted.value)
    flow.settle()
    assert references(erp) == Counter({number: 1})
    assert len(erp_voucher_rows(flow, number)) == 1
    assert [tuple(j[1:3]) for j in erp_jobs(flow, [instance])] == [("done", 2)]
