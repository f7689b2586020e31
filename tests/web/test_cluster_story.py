"""Acceptance 7: two web processes and two workers on one PostgreSQL run the browser story for two employees at
once, each employee on a different web process, sharing their approvers and their budget line. No update is
lost (the line's totals are exactly both stories'), and every claim is posted once (one voucher each).

A negative control: the same checks fail on a database where one claim's voucher was posted twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.bootstrap import Container
from engine.persistence.workflow_tables import OutboxJob, Voucher
from engine.services import read_models
from tests.web.browser import CHROMIUM, PHONE, TIMEOUT_MS, _unavailable
from tests.web.cluster import start_cluster
from tests.web.conftest import Site
from tests.web.pages.story import Story, walk

pytestmark = pytest.mark.slow
LINE = "2026/ORG:SALES-N/TRAVEL"
EMPLOYEES = ("E0017", "E0018")  # both in SALES-N: one manager, one department head, one budget line


def _totals(container: Container) -> tuple[Decimal, Decimal]:
    rows, _names = read_models.balances(container.reader, prefix="2026/ORG:SALES-N/")
    line = next(r for r in rows if r.label == LINE)
    return line.reserved, line.consumed


def _no_job_pending(container: Container, timeout: float = 90) -> Callable[[], None]:
    def wait() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with container.engine.connect() as conn:
                pending = conn.execute(select(func.count()).select_from(OutboxJob)
                                       .where(OutboxJob.status == "pending")).scalar_one()
            if pending == 0:
                return
            time.sleep(0.3)
        raise AssertionError("the workers did not run the outbox jobs")
    return wait


def _walk_in_own_browser(story_of: Callable[[Callable[..., Any]], Story], results: dict[str, Any], key: str) -> None:
    from playwright.sync_api import sync_playwright
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=["--disable-dev-shm-usage"])

            def open_page(*, phone: bool = False, locale: str = "en-US", **more: Any) -> Any:
                options = {**(PHONE if phone else {"viewport": {"width": 1280, "height": 900}}), **more}
                page = browser.new_context(locale=locale, **options).new_page()
                page.set_default_timeout(TIMEOUT_MS)
                return page

            results[key] = walk(story_of(open_page))
            browser.close()
    except BaseException as exc:  # noqa: BLE001 - reported by the main thread
        results[key] = exc


def _postings(container: Container, documents: list[str]) -> dict[str, int]:
    with container.engine.connect() as conn:
        rows = conn.execute(select(Voucher.document_no, func.count()).where(Voucher.document_no.in_(documents))
                            .group_by(Voucher.document_no)).all()
    return {document: count for document, count in rows}


def test_two_web_processes_and_two_workers_run_two_stories_at_once(demo, db_url: str, tmp_path: Path) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several processes on one database: PostgreSQL")
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM}")
    reserved_before, consumed_before = _totals(demo)
    results: dict[str, Any] = {}
    with start_cluster(db_url, tmp_path) as addresses:
        threads = []
        for n, (employee, address) in enumerate(zip(EMPLOYEES, addresses, strict=True)):
            def story_of(open_page: Callable[..., Any], employee: str = employee, address: str = address,
                         n: int = n) -> Story:
                return Story(Site(address, demo), open_page, applicant=employee, tag=f"C{n}", own_line=False,
                             post_vouchers=_no_job_pending(demo))
            threads.append(threading.Thread(target=_walk_in_own_browser, args=(story_of, results, employee)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
    failures = {k: v for k, v in results.items() if isinstance(v, BaseException)}
    assert not failures and len(results) == 2, failures or results
    claims = [results[e]["claim"] for e in EMPLOYEES]
    assert _postings(demo, claims) == {claim: 1 for claim in claims}  # every claim posted once
    reserved, consumed = _totals(demo)
    assert (reserved, consumed) == (reserved_before, consumed_before + 2 * Decimal("5600.00"))  # nothing lost
    assert read_models.ledger_check(demo.reader).ok


def test_negative_control_a_voucher_posted_twice_is_seen(demo) -> None:
    """The posting check above counts vouchers per claim: a second voucher for one claim makes it fail."""
    from sqlalchemy import insert
    with demo.engine.begin() as conn:
        for n in (1, 2):
            conn.execute(insert(Voucher.__table__).values(voucher_no=f"V-TWICE-{n}", idempotency_key=f"twice-{n}",
                                                          document_no="EC-TWICE", currency="CNY",
                                                          total=Decimal("1.00"), lines="[]"))
    assert _postings(demo, ["EC-TWICE"]) != {"EC-TWICE": 1}


