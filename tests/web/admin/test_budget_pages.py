"""Budget pages: the lines a person may see with their use, a line's entries and documents, transfers."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from engine.domain.money import Money
from engine.services import ledger, read_models
from tests.flows.support import Flow
from tests.web.admin.support import PEOPLE, page, state
from tests.web.conftest import csrf_token, login_client
from web.budget_pages import lines as lines_view

ADMIN, MANAGER, DEPT_HEAD = PEOPLE["budget_admin"], PEOPLE["manager"], "E0002"
LINK = re.compile(r'<a href="/budgets/(\d+)">')


def line_id(demo, key: str) -> int:
    rows, _names = read_models.balances(demo.reader)
    return next(r.line_id for r in rows if r.label == key)


def listed(client, url: str) -> list[int]:
    status, html = page(client, url)
    assert status == 200, html
    return [int(n) for n in LINK.findall(html)]


def test_budget_staff_see_every_line_page_by_page(client, demo, monkeypatch):
    monkeypatch.setattr(lines_view, "PAGE_SIZE", 10)
    login_client(client, PEOPLE["finance"])
    seen, url = [], "/budgets"
    for _ in range(10):
        status, html = page(client, url)
        seen += [int(n) for n in LINK.findall(html)]
        found = re.search(r'<a href="([^"]+)" rel="next">', html)
        if not found:
            break
        url = found.group(1).replace("&amp;", "&")
    rows, _names = read_models.balances(demo.reader)
    assert sorted(seen) == sorted(r.line_id for r in rows) and len(seen) == len(set(seen)) == 35
    assert "First page" in html


def test_filters_narrow_the_lines(client, demo):
    login_client(client, ADMIN)
    found = listed(client, "/budgets?period=2026&subject=TRAVEL&org_unit=SALES-N")
    assert found == [line_id(demo, "2026/ORG:SALES-N/TRAVEL")]
    status, html = page(client, "/budgets?period=1999")
    assert status == 200 and "No budget line you may see matches these filters." in html


def test_a_manager_sees_the_lines_of_their_units_and_below(client, demo):
    login_client(client, MANAGER)  # manages SALES-N
    rows, _names = read_models.balances(demo.reader)
    own = sorted(r.line_id for r in rows if "/ORG:SALES-N/" in r.label)
    assert sorted(listed(client, "/budgets")) == own
    other = line_id(demo, "2026/ORG:SALES-E/HOTEL")
    status, html = page(client, f"/budgets/{other}")
    assert status == 404 and "among the lines you may see" in html
    client.post("/logout", data={"csrf_token": csrf_token(html)})
    login_client(client, DEPT_HEAD)  # manages DIV-SALES: SALES-N, SALES-E and the cost center CC-EXPO
    division = sorted(r.line_id for r in rows if any(f"/{unit}/" in r.label for unit in (
        "ORG:SALES-N", "ORG:SALES-E", "CC:CC-EXPO")))
    assert sorted(listed(client, "/budgets")) == division and page(client, f"/budgets/{other}")[0] == 200


def test_a_line_shows_its_use_and_the_documents_behind_its_entries(client, demo):
    flow = Flow(demo)
    application = flow.apply("1200.00")
    flow.decide(application)  # the manager approves: 1,200 reserved on the travel line
    number = flow.instance(application).business_key
    travel = line_id(demo, "2026/ORG:SALES-N/TRAVEL")
    login_client(client, MANAGER)
    status, html = page(client, f"/budgets/{travel}")
    assert status == 200
    assert re.search(r"<dt>Reserved</dt><dd>CN¥1,200.00</dd>", html)
    assert f'<a href="/documents/{number}">{number}</a>' in html and ">Reserved</td>" in html


def test_the_use_bar_says_its_state_in_words(client, demo):
    meals = line_id(demo, "2026/ORG:SALES-N/MEALS")  # WARN: may go over
    hotel = line_id(demo, "2026/ORG:SALES-N/HOTEL")
    ledger.reserve(demo.uow, line_id=meals, amount=Money(Decimal("130000.00"), "CNY"), key="t-1", document="T-1")
    ledger.reserve(demo.uow, line_id=hotel, amount=Money(Decimal("330000.00"), "CNY"), key="t-2", document="T-2")
    login_client(client, ADMIN)
    html = page(client, "/budgets?period=2026&org_unit=SALES-N")[1]

    def use(line: int) -> str:
        row = re.search(rf'href="/budgets/{line}">.*?</tr>', html, re.S)
        assert row
        found = re.search(r'<span class="figure">([^<]+)</span>\s*<span class="state state-(\w+)">([^<]+)<',
                          row.group(0))
        assert found and 'value="' in row.group(0)
        return " ".join(found.groups())

    assert use(meals) == "108% over over budget"
    assert use(hotel) == "92% warn nearly used up"
    assert use(line_id(demo, "2026/ORG:SALES-N/TRAVEL")) == "0% ok within budget"


@pytest.mark.parametrize("url", ["/budgets?cursor=nonsense", "/budgets/1?cursor=nonsense"])
def test_a_broken_page_link_is_a_clear_400(client, demo, url):
    login_client(client, ADMIN)
    status, html = page(client, url)
    assert status == 400 and "out of date or was changed" in html


def transfer_form(client, query: str = "") -> tuple[str, str]:
    html = page(client, "/budgets/transfer" + query)[1]
    return csrf_token(html), re.search(r'name="key" value="([^"]+)"', html).group(1)


def test_a_transfer_moves_the_budget_once_however_often_it_is_sent(client, demo):
    source, target = line_id(demo, "2026/ORG:SALES-N/TRAVEL"), line_id(demo, "2026/ORG:SALES-N/HOTEL")
    login_client(client, ADMIN)
    token, key = transfer_form(client, f"?from={source}")
    form = {"csrf_token": token, "key": key, "from_line": source, "to_line": target, "amount": "2500.50",
            "memo": "Hotel prices rose 酒店涨价"}
    first = client.post("/budgets/transfer", data=form)
    assert first.status_code == 302 and first.headers["Location"].endswith(f"/budgets/{source}")
    again = client.post("/budgets/transfer", data=form, follow_redirects=True)  # a double click
    assert "Moved CN¥2,500.50 from 2026/ORG:SALES-N/TRAVEL to 2026/ORG:SALES-N/HOTEL." in again.get_data(as_text=True)
    rows = {r.line_id: r.budget for r in read_models.balances(demo.reader)[0]}
    assert (rows[source], rows[target]) == (Decimal("477499.50"), Decimal("362500.50"))
    html = page(client, f"/budgets/{source}")[1]
    assert html.count("Budget cut") == 1 and "-CN¥2,500.50" in html and "Hotel prices rose 酒店涨价" in html
    assert ">E0013</td>" in html


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"amount": "1,000"}, "amount", "not plain decimal text"),
    ({"amount": "0"}, "amount", "must be more than zero"),
    ({"amount": "-5"}, "amount", "must be more than zero"),
    ({"amount": "1.234"}, "amount", "more than 2 decimal place"),
    ({"amount": ""}, "amount", "not plain decimal text"),
    ({"amount": "999999"}, "amount", "would make its budget negative"),
    ({"from_line": "USD"}, "amount", "needs both lines in USD"),
    ({"to_line": "FROM"}, "to_line", "other than the one the money comes from"),
    ({"to_line": "99999"}, "to_line", "Choose a budget line from the list."),
    ({"from_line": "x"}, "from_line", "Choose a budget line from the list."),
    ({"memo": ""}, "memo", "Say why the budget moves"),
    ({"memo": "x" * 501}, "memo", "At most 500 characters."),
])
def test_a_wrong_transfer_is_refused_next_to_its_field_and_moves_nothing(client, demo, change, field, message):
    source, target = line_id(demo, "2026/ORG:SALES-N/VEHICLE".replace("2026", "2026-Q1")), line_id(
        demo, "2026/ORG:SALES-N/HOTEL")
    login_client(client, ADMIN)
    token, key = transfer_form(client)
    form = {"csrf_token": token, "key": key, "from_line": source, "to_line": target, "amount": "100.00",
            "memo": "test", **change}
    if form["to_line"] == "FROM":
        form["to_line"] = source
    if form["from_line"] == "USD":
        form["from_line"] = next(r.line_id for r in read_models.balances(demo.reader)[0] if r.currency == "USD")
    before = state(demo)
    answer = client.post("/budgets/transfer", data=form)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "Nothing was moved." in html
    error = re.search(rf'<span id="{field}-error" class="field-error">([^<]*)</span>', html)
    assert error and message in error.group(1).replace("&#39;", "'"), html[-3000:]
    assert f'name="key" value="{key}"' in html  # the same form again: still one transfer once it is right
    assert state(demo) == before


def test_a_transfer_without_its_form_key_is_refused(client, demo):
    login_client(client, ADMIN)
    token, _key = transfer_form(client)
    before = state(demo)
    answer = client.post("/budgets/transfer", data={"csrf_token": token, "key": "short", "from_line": "1",
                                                    "to_line": "2", "amount": "1", "memo": "x"})
    assert answer.status_code == 400 and state(demo) == before


def test_the_budget_pages_speak_chinese_with_yuan_amounts(client, demo):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    login_client(client, ADMIN)
    html = page(client, f"/budgets/{line_id(demo, '2026/ORG:SALES-N/TRAVEL')}")[1]
    assert "<dt>已分配</dt><dd>¥480,000.00</dd>" in html and "预算内" in html and "台账分录" in html
