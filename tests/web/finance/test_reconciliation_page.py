"""The ERP reconciliation page over real HTTP: stored runs and their differences, a clean run said as such,
"Reconcile now" against the local ERP, an ERP that is down, who may see and run it, and CSRF."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from engine.persistence.erp_tables import ErpReconciliation
from tests.flows.support import Flow
from tests.web.conftest import csrf_token
from tests.web.finance.support import (
    AUDITOR,
    DIFFERENCES,
    EMPLOYEE,
    FINANCE,
    PAGE,
    configure_closed_erp,
    delete_local_voucher,
    posted_claim,
    save_run,
)

NOW_BUTTON = "Reconcile now"
CLEAN = "No differences: the ERP's book and budgetflow agree for this window."


def runs(container) -> int:
    with container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ErpReconciliation)).scalar_one())


def reconcile_now(http, base: str):
    token = csrf_token(http.get(base + PAGE, timeout=10).text)
    return http.post(base + PAGE, data={"csrf_token": token}, timeout=30)


def test_finance_sees_the_latest_runs_and_the_differences_of_the_latest(site):
    save_run(site.container, days_back=1)
    save_run(site.container, DIFFERENCES)
    answer = site.session(FINANCE).get(site.url + PAGE, timeout=10)
    assert answer.status_code == 200
    html = answer.text
    assert NOW_BUTTON in html and CLEAN not in html
    assert "2 difference(s): budgetflow's side against the ERP's." in html
    assert "Missing in the ERP" in html and "Budget vs actuals" in html
    assert '<a href="/documents/EC-2026-0042">EC-2026-0042</a>' in html
    assert "<code>6602.01</code>" in html and "CC-SALES-N" in html and "voucher LV-1 is not in the ERP" in html
    runs_table = html.split('class="responsive runs"', 1)[1]
    assert runs_table.count("<tr>") == 3  # the header and two runs, newest first
    assert re.search(r"2026-11-06 – 2026-12-06.*?state-over\">2<.*?2026-11-05 – 2026-12-05.*?none", runs_table, re.S)


def test_a_clean_latest_run_says_so(site):
    save_run(site.container, DIFFERENCES, days_back=1)
    save_run(site.container)
    html = site.session(AUDITOR).get(site.url + PAGE, timeout=10).text
    assert CLEAN in html and "Missing in the ERP" not in html
    assert NOW_BUTTON not in html  # an auditor reads; only finance runs it


def test_no_run_yet(site):
    html = site.session(FINANCE).get(site.url + PAGE, timeout=10).text
    assert "No reconciliation has run yet." in html and CLEAN not in html


def test_reconcile_now_on_a_clean_book_finds_no_difference_and_a_deleted_voucher_is_found(site):
    number = posted_claim(Flow(site.container))
    http = site.session(FINANCE)
    answer = reconcile_now(http, site.url)
    assert answer.status_code == 200 and answer.url.endswith(PAGE)  # redirected back to the page
    assert "no differences, the books agree." in answer.text and CLEAN in answer.text
    assert "vouchers: 1 in budgetflow, 1 in the ERP." in answer.text
    [latest] = site.container.erp_vouchers().reconciliations(limit=1)
    assert latest["erp"] == "local" and latest["differences"] == 0
    # The negative control: the same run after the voucher is deleted in the ERP reports it.
    delete_local_voucher(site.container, number)
    answer = reconcile_now(http, site.url)
    assert "difference(s), listed below." in answer.text and CLEAN not in answer.text
    assert f'<a href="/documents/{number}">{number}</a>' in answer.text and "Missing in the ERP" in answer.text


def test_an_erp_that_cannot_be_reached_is_said_on_the_page_and_nothing_is_stored(site):
    save_run(site.container)
    configure_closed_erp(site.container)
    answer = reconcile_now(site.session(FINANCE), site.url)
    assert answer.status_code == 503
    assert "The ERP cannot be reached now, so nothing was reconciled" in answer.text
    assert "connection failed" in answer.text and 'role="alert"' in answer.text
    assert runs(site.container) == 1  # the earlier run only: a failure is never a run without differences


def test_employees_may_not_see_it_and_auditors_may_not_run_it(site):
    employee = site.session(EMPLOYEE)
    assert employee.get(site.url + PAGE, timeout=10).status_code == 403
    assert "ERP reconciliation" not in employee.get(site.url + "/inbox", timeout=10).text
    finance_nav = site.session(FINANCE).get(site.url + "/inbox", timeout=10).text
    assert f'href="{PAGE}">ERP reconciliation</a>' in finance_nav
    for who in (EMPLOYEE, AUDITOR):
        http = site.session(who)
        token = csrf_token(http.get(site.url + "/inbox", timeout=10).text)
        assert http.post(site.url + PAGE, data={"csrf_token": token}, timeout=10).status_code == 403
    assert runs(site.container) == 0


def test_reconcile_now_needs_the_forms_csrf_token(site):
    http = site.session(FINANCE)
    for data in ({}, {"csrf_token": "IjAwMDAi.made.up"}):
        answer = http.post(site.url + PAGE, data=data, timeout=10)
        assert answer.status_code == 400 and "The form expired or did not come from this site" in answer.text
    assert runs(site.container) == 0
    assert reconcile_now(http, site.url).status_code == 200 and runs(site.container) == 1  # the positive control


def test_the_page_speaks_chinese_too(site):
    save_run(site.container, DIFFERENCES)
    http = site.session(FINANCE)
    http.headers["Accept-Language"] = "zh-CN"
    html = http.get(site.url + PAGE, timeout=10).text
    assert "<h1>ERP 对账</h1>" in html and "立即对账" in html and "ERP 中缺失" in html and "预算与实际不符" in html
