"""Budget lines, their entries and transfers through the API: who sees what, paging, exact money."""

from __future__ import annotations

from decimal import Decimal

from tests.web.api.conftest import issue
from tests.web.api.state import snapshot

BUDGET_ADMIN, FINANCE, MANAGER, APPLICANT, AUDITOR = "E0013", "E0011", "E0005", "E0017", "E0014"


def all_lines(api, code: str, query: str = "") -> list[dict]:
    rows, cursor = [], None
    while True:
        answer = api.get(f"/budget-lines?limit=7{query}" + (f"&cursor={cursor}" if cursor else ""), code)
        assert answer.status_code == 200
        rows += answer.get_json()["items"]
        cursor = answer.get_json()["next_cursor"]
        if cursor is None:
            return rows


def test_who_sees_which_lines(api):
    everything = all_lines(api, BUDGET_ADMIN)
    assert len(everything) == 35 and len({r["line_id"] for r in everything}) == 35  # paged, none twice
    assert all_lines(api, AUDITOR) == everything and all_lines(api, FINANCE) == everything
    managed = all_lines(api, MANAGER)  # E0005 manages SALES-N
    assert managed and {r["org_unit"] for r in managed} == {"SALES-N"}
    assert all_lines(api, APPLICANT) == []
    api.tokens[FINANCE] = issue(api.container, FINANCE, "employee")  # the scope counts, not the person's roles
    assert all_lines(api, FINANCE) == []
    line = everything[0]
    assert Decimal(line["available"]) == Decimal(line["allocated"]) - Decimal(line["reserved"]) - Decimal(
        line["consumed"])
    assert line["allocated"].endswith(".00") and "utilisation" in line


def test_filters_narrow_the_listing(api):
    travel = all_lines(api, BUDGET_ADMIN, "&subject=TRAVEL&period=2026")
    assert travel and all(r["subject"] == "TRAVEL" and r["period"] == "2026" for r in travel)
    assert all_lines(api, MANAGER, "&org_unit=SALES-E") == []  # not theirs


def test_a_line_s_entries_and_who_may_read_them(api):
    line = all_lines(api, MANAGER)[0]["line_id"]
    entries = api.get(f"/budget-lines/{line}/entries", MANAGER)
    assert entries.status_code == 200
    [allocation] = entries.get_json()["items"]
    assert allocation["kind"] == "ALLOCATE" and allocation["at"].endswith("Z")
    assert api.get(f"/budget-lines/{line}/entries", APPLICANT).status_code == 404
    assert api.get("/budget-lines/999999/entries", BUDGET_ADMIN).status_code == 404
    assert api.get(f"/budget-lines/{line}/entries?cursor=bad", MANAGER).status_code == 400


def test_a_transfer_moves_budget_once_per_key(api):
    body = {"from_line": 1, "to_line": 2, "amount": "250.50", "currency": "CNY", "memo": "Q3", "key": "t-00000001"}
    done = api.post("/budget-transfers", BUDGET_ADMIN, json=body)
    assert done.status_code == 201 and done.get_json()["replayed"] is False
    after = done.get_json()
    again = api.post("/budget-transfers", BUDGET_ADMIN, json=body)
    assert again.get_json()["replayed"] is True and again.get_json()["from_line"] == after["from_line"]
    kinds = [e["kind"] for e in api.get("/budget-lines/1/entries", BUDGET_ADMIN).get_json()["items"]]
    assert kinds == ["ADJUST", "ALLOCATE"]  # newest first, booked once
    assert api.post("/budget-transfers", BUDGET_ADMIN, json={**body, "amount": "1.00"}).status_code == 409


def test_bad_transfers_change_nothing(api):
    before = snapshot(api.container)
    base = {"from_line": 1, "to_line": 2, "amount": "10.00", "currency": "CNY"}
    for changes, status in (({"amount": "10.001"}, 422), ({"amount": "-5.00"}, 422), ({"amount": "1e3"}, 422),
                            ({"amount": 10}, 422), ({"to_line": 1}, 422), ({"to_line": 999999}, 404),
                            ({"currency": "USD"}, 422), ({"currency": "cny"}, 422), ({"from_line": "1"}, 422),
                            ({"amount": "99999999999.00"}, 422), ({"key": "bad key with spaces"}, 422)):
        answer = api.post("/budget-transfers", BUDGET_ADMIN, json={**base, **changes})
        assert answer.status_code == status, (changes, answer.get_json())
    assert api.post("/budget-transfers", FINANCE, json=base).status_code == 403
    assert snapshot(api.container) == before
