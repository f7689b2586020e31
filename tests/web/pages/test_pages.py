"""The inbox, task and document pages through Flask's test client: what they show, how refusals come back,
and that paging, sorting and filtering reach the engine's read model."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import csrf_token, login_client
from tests.web.pages.support import application, fill_task, snapshot
from web.demo import ROLES
from web.pages import inbox as inbox_page

APPLICANT, MANAGER, FINANCE = ROLES["applicant"], ROLES["manager"], ROLES["finance"]


@pytest.fixture
def signed_in(flask_app):
    def client_of(code: str, language: str = "en"):
        client = flask_app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        login_client(client, code)
        return client
    return client_of


def text_of(response) -> str:
    return response.get_data(as_text=True)


def post(client, url: str, fields: dict[str, str]):
    return client.post(url, data={**fields, "csrf_token": csrf_token(text_of(client.get("/inbox")))})


def test_an_empty_inbox_says_what_to_do(demo, signed_in) -> None:
    page = text_of(signed_in(MANAGER).get("/inbox"))
    assert "Nothing waits for you" in page and 'href="/new"' in page
    assert text_of(signed_in(MANAGER).get("/inbox?view=claimable")).count("No group task is waiting") == 1


def test_bad_inbox_parameters_are_a_clear_400(demo, signed_in) -> None:
    client = signed_in(MANAGER)
    for query, word in (("view=everything", "view"), ("sort=colour", "sort"), ("cursor=garbage", "cursor")):
        answer = client.get(f"/inbox?{query}")
        assert answer.status_code == 400 and word in text_of(answer), query


def test_inbox_rows_counts_sorting_and_paging(demo, signed_in, monkeypatch) -> None:
    monkeypatch.setattr(inbox_page, "PAGE_SIZE", 2)
    numbers = [application(demo, amount=amount)[0] for amount in ("1000.00", "3000.00", "2000.00")]
    client = signed_in(MANAGER)
    first = text_of(client.get("/inbox?sort=amount"))
    assert re.search(r"My tasks\s*<span class=\"count\">3</span>", first)
    assert first.index(numbers[0]) < first.index(numbers[2]) and numbers[1] not in first  # 1000, 2000 | 3000
    assert "CN¥1,000.00" in first and 'aria-sort="ascending"' in first
    cursor = re.search(r'href="(/inbox\?[^"]*cursor=[^"]+)"[^>]*rel="next"', first)
    assert cursor, "a next-page link"
    second = text_of(client.get(cursor.group(1).replace("&amp;", "&")))
    assert numbers[1] in second and numbers[0] not in second and "First page" in second
    descending = text_of(client.get("/inbox?sort=amount&desc=1"))
    assert numbers[1] in descending and 'aria-sort="descending"' in descending
    filtered = text_of(client.get(f"/inbox?q={numbers[2]}"))
    assert numbers[2] in filtered and numbers[0] not in filtered
    assert '<option value="travel_application">Travel / vehicle application</option>' in first
    other_process = text_of(client.get("/inbox?process=expense_claim"))
    assert numbers[0] not in other_process and "No task matches this filter." in other_process


def test_amounts_in_chinese_are_yuan(demo, signed_in) -> None:
    application(demo, amount="6000.00")
    page = text_of(signed_in(MANAGER, "zh").get("/inbox"))
    assert "¥6,000.00" in page and "CN¥" not in page and "我的待办" in page


def test_a_refused_decision_comes_back_on_the_page_and_changes_nothing(demo, signed_in) -> None:
    _, guid = application(demo)
    client = signed_in(MANAGER)
    before = snapshot(demo)
    answer = post(client, f"/tasks/{guid}", {"decision": "reject", "comment": ""})
    page = text_of(answer)
    assert answer.status_code == 422
    assert "The form was refused" in page and 'href="#f-comment"' in page
    assert re.search(r'<textarea id="f-comment" name="comment"[^>]*aria-invalid="true"', page)
    assert snapshot(demo) == before


def test_a_refused_application_keeps_what_was_typed(demo, signed_in) -> None:
    _, guid = fill_task(demo)
    client = signed_in(APPLICANT)
    before = snapshot(demo)
    answer = post(client, f"/tasks/{guid}", {"subject": "TRAVEL", "purpose": "Fair", "amount": "12,000",
                                             "currency": "CNY", "period": "2026", "destination": "Xi'an"})
    page = text_of(answer)
    assert answer.status_code == 422
    assert 'value="12,000"' in page and 'value="Xi&#39;an"' in page  # nothing the person typed is lost
    assert re.search(r'id="f-amount-problem">[^<]*12,000', page)  # the engine's money parser says why
    assert snapshot(demo) == before


def test_more_lines_without_javascript(demo, signed_in) -> None:
    """The claim form's "More lines" button redraws the form with the typed lines and more blank rows."""
    from engine.services import processes
    started = processes.start(demo.uow, process_id="expense_claim", applicant=APPLICANT, business_key="EC-T-1")
    guid = started.open_tasks[0]["task_guid"]
    client = signed_in(APPLICANT)
    page = text_of(client.get(f"/tasks/{guid}"))
    assert 'name="lines[1].amount"' in page and 'name="lines[2].amount"' not in page
    before = snapshot(demo)
    answer = post(client, f"/tasks/{guid}", {"_arrays": "lines", "_more": "lines", "_blank": "2",
                                             "lines[0].amount": "12.50", "purpose": "Taxi"})
    page = text_of(answer)
    assert answer.status_code == 200 and 'name="lines[3].amount"' in page
    assert 'name="lines[0].amount" type="text" inputmode="decimal" autocomplete="off" value="12.50"' in page
    assert snapshot(demo) == before


def test_delegation_moves_the_task_between_inbox_tabs(demo, signed_in) -> None:
    document_no, guid = application(demo)
    manager = signed_in(MANAGER)
    assert 'list="delegate-colleagues"' in text_of(manager.get(f"/tasks/{guid}"))
    answer = post(manager, f"/tasks/{guid}/delegate", {"to": FINANCE, "reason": "on leave"})
    assert answer.status_code == 302
    assert document_no in text_of(manager.get("/inbox?view=delegated"))
    assert document_no not in text_of(manager.get("/inbox"))
    assert document_no in text_of(signed_in(FINANCE).get("/inbox"))


def test_the_document_page_shows_the_picture_and_withdraw(demo, signed_in) -> None:
    document_no, _ = application(demo)
    applicant = signed_in(APPLICANT)
    page = text_of(applicant.get(f"/documents/{document_no}"))
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in page and "bf-current" in page
    assert "Withdraw" in page and "Manager approval" in page
    assert "Withdraw</button>" not in text_of(signed_in(MANAGER).get(f"/documents/{document_no}"))
    answer = post(applicant, f"/documents/{document_no}/withdraw", {"reason": "trip cancelled"})
    assert answer.status_code == 302
    page = text_of(applicant.get(f"/documents/{document_no}"))
    assert "Withdrawn" in page and "trip cancelled" in page and "Withdraw</button>" not in page
    again = post(applicant, f"/documents/{document_no}/withdraw", {})
    assert again.status_code == 403  # nothing waits for a withdrawal any more
