"""GET and POST /api/v1/reconciliations: runs page by page with their differences, running one now against the
local ERP, field errors, an ERP that is down (503, nothing stored), and who may read and run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.flows.support import Flow
from tests.web.finance.support import (
    AUDITOR,
    DIFFERENCES,
    EMPLOYEE,
    FINANCE,
    configure_closed_erp,
    delete_local_voucher,
    posted_claim,
    save_run,
)

PATH = "/reconciliations"


def stored(api) -> list[int]:
    return [r["id"] for r in api.container.erp_vouchers().reconciliations(limit=1000)]


def test_runs_newest_first_with_their_differences(api):
    clean = save_run(api.container, days_back=1)
    differing = save_run(api.container, DIFFERENCES)
    answer = api.get(PATH, AUDITOR)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert [r["id"] for r in body["items"]] == [differing, clean] and body["next_cursor"] is None
    latest = body["items"][0]
    assert latest["erp"] == "local" and latest["start"] == "2026-11-06" and latest["end"] == "2026-12-06"
    assert latest["ran_at"].endswith("Z") and latest["vouchers"] == {"budgetflow": 3, "erp": 5}
    assert latest["difference_count"] == 2 and latest["differences"][0] == {
        "kind": "missing", "detail": "voucher LV-1 is not in the ERP", "document_no": "EC-2026-0042",
        "voucher_no": "LV-1", "account": "", "cost_center": "", "expected": "120.00", "found": ""}
    assert body["items"][1]["difference_count"] == 0 and body["items"][1]["differences"] == []


def test_pages_follow_the_cursor_and_a_run_added_meanwhile_shifts_nothing(api):
    ids = [save_run(api.container, days_back=n) for n in range(5)]
    first = api.get(f"{PATH}?limit=2", FINANCE)
    assert [r["id"] for r in first.get_json()["items"]] == ids[::-1][:2]
    assert 'rel="next"' in first.headers["Link"]
    save_run(api.container)  # newer than every page already handed out
    seen, cursor = [r["id"] for r in first.get_json()["items"]], first.get_json()["next_cursor"]
    while cursor:
        body = api.get(f"{PATH}?limit=2&cursor={cursor}", FINANCE).get_json()
        seen += [r["id"] for r in body["items"]]
        cursor = body["next_cursor"]
    assert seen == ids[::-1]
    assert api.get(f"{PATH}?cursor=not-a-cursor", FINANCE).status_code == 400


def test_run_now_on_a_clean_book_then_with_a_voucher_deleted_in_the_erp(api):
    number = posted_claim(Flow(api.container))
    answer = api.post(PATH, FINANCE)  # no body: the last 31 days
    assert answer.status_code == 201, answer.get_json()
    run = answer.get_json()
    today = datetime.now(UTC).date()
    assert run["end"] == today.isoformat() and run["start"] == (today - timedelta(days=30)).isoformat()
    assert run["difference_count"] == 0 and run["vouchers"] == {"budgetflow": 1, "erp": 1}
    assert stored(api) == [run["id"]] and run["ran_at"]
    delete_local_voucher(api.container, number)  # the negative control: the same run now finds the gap
    run = api.post(PATH, FINANCE, json={"start": (today - timedelta(days=3)).isoformat()}).get_json()
    assert run["start"] == (today - timedelta(days=3)).isoformat() and run["end"] == today.isoformat()
    assert any(d["kind"] == "missing" and d["document_no"] == number for d in run["differences"])


def test_a_wrong_window_names_the_field_and_runs_nothing(api):
    cases = [({"start": "2026-12-06", "end": "2026-12-01"}, "end", "before it starts"),
             ({"start": "2024-01-01", "end": "2026-01-01"}, "end", "at most 366 days"),
             ({"start": "yesterday"}, "start", "date"), ({"end": 20261206}, "end", "date"),
             ({"start": "9000-01-01"}, "start", "before it starts"), ({"end": "0001-01-05"}, "end", "greater")]
    for body, field, words in cases:
        answer = api.post(PATH, FINANCE, json=body)
        assert answer.status_code == 422, (body, answer.get_json())
        problems = answer.get_json()["details"]["json"]
        assert list(problems) == [field] and words in str(problems[field]).lower(), (body, problems)
    assert stored(api) == []


def test_an_erp_that_cannot_be_reached_is_a_503_and_nothing_is_stored(api):
    configure_closed_erp(api.container)
    answer = api.post(PATH, FINANCE)
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["code"] == "SERVICE_UNAVAILABLE" and "the ERP cannot be reached now" in body["message"]
    assert "connection failed" in body["message"] and stored(api) == []


def test_finance_runs_auditors_read_employees_neither(api):
    save_run(api.container)
    assert api.get(PATH, EMPLOYEE).status_code == 403
    assert api.get(PATH, AUDITOR).status_code == 200 and api.get(PATH, FINANCE).status_code == 200
    for who in (EMPLOYEE, AUDITOR):
        answer = api.post(PATH, who)
        assert answer.status_code == 403 and answer.get_json()["code"] == "FORBIDDEN"
    assert len(stored(api)) == 1
    assert api.get(PATH).status_code == 401
