"""Who may do what on the budget pages: every role × every page and the transfer; a refusal is 403 and changes
nothing. Budget admins, finance, admins, auditors and managers read (managers their units only); only budget
admins transfer; a plain employee gets no budget page at all."""

from __future__ import annotations

import re

import pytest

from engine.services import read_models
from tests.web.admin.support import PEOPLE, state
from tests.web.conftest import csrf_token, login_client

READERS = {"budget_admin", "finance", "admin", "auditor", "manager"}


@pytest.mark.slow
def test_every_role_against_every_budget_page_and_the_transfer(flask_app, demo):
    rows, _names = read_models.balances(demo.reader)
    travel = next(r.line_id for r in rows if r.label == "2026/ORG:SALES-N/TRAVEL")
    hotel = next(r.line_id for r in rows if r.label == "2026/ORG:SALES-N/HOTEL")
    key = "k" * 20
    for role, code in PEOPLE.items():
        client = flask_app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        login_client(client, code)
        token = csrf_token(client.get("/login").get_data(as_text=True))
        reads = 200 if role in READERS else 403
        assert client.get("/budgets").status_code == reads, role
        assert client.get(f"/budgets/{travel}").status_code == reads, role  # the manager's own unit
        transfers = 200 if role == "budget_admin" else 403
        assert client.get("/budgets/transfer").status_code == transfers, role
        before = state(demo)
        answer = client.post("/budgets/transfer", data={"csrf_token": token, "key": key, "from_line": travel,
                                                        "to_line": hotel, "amount": "10.00", "memo": role})
        if role == "budget_admin":
            assert answer.status_code == 302
            assert state(demo) != before
        else:
            assert answer.status_code == 403, role
            assert state(demo) == before, role
    budgets = {r.line_id: r.budget for r in read_models.balances(demo.reader)[0]}
    assert budgets[travel] == next(r.budget for r in rows if r.line_id == travel) - 10


def test_without_a_sign_in_the_budget_pages_send_to_the_sign_in(client):
    for path in ("/budgets", "/budgets/1", "/budgets/transfer"):
        answer = client.get(path)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"], path
    refused = client.post("/budgets/transfer", data={})
    assert refused.status_code == 400  # no session, no CSRF token: refused before anything


def test_the_menu_offers_the_transfer_to_budget_admins_only(client, demo):
    login_client(client, PEOPLE["finance"])
    html = client.get("/budgets").get_data(as_text=True)
    assert not re.search(r'href="/budgets/transfer', html)
