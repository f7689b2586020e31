"""Who may do what on the pages (acceptance 3): every task-completing page action × every demo role, swapped
task ids, and applicants approving their own documents. Only the allowed combinations succeed; every other
one answers 403 and leaves the ledger and the workflows exactly as they were. The allowed one runs last on
the same document, as the negative control: it must change the snapshot, or the snapshot proves nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.web.conftest import csrf_token, login_client
from tests.web.pages.support import application, fill_task, snapshot
from web.demo import ROLES

APPLICANT, MANAGER, DEPT_HEAD = ROLES["applicant"], ROLES["manager"], ROLES["department head"]
PEOPLE = sorted(set(ROLES.values()))
OVERSEERS = {ROLES["finance"], ROLES["finance director"], ROLES["budget admin"], ROLES["admin"], ROLES["auditor"]}
FILL = {"subject": "TRAVEL", "purpose": "Customer visit", "amount": "1200.00", "currency": "CNY", "period": "2026"}
# action -> (URL for (document number, task guid), form fields, who may, which fixture: approval or fill task)
ACTIONS: dict[str, tuple[Callable[[str, str], str], dict[str, str], set[str], str]] = {
    "approve": (lambda no, guid: f"/tasks/{guid}", {"decision": "approve", "comment": "fine"}, {MANAGER}, "approval"),
    "reject": (lambda no, guid: f"/tasks/{guid}", {"decision": "reject", "comment": "no"}, {MANAGER}, "approval"),
    "send_back": (lambda no, guid: f"/tasks/{guid}", {"decision": "send_back", "comment": "fix it"}, {MANAGER},
                  "approval"),
    "delegate": (lambda no, guid: f"/tasks/{guid}/delegate", {"to": ROLES["finance"], "reason": "away"}, {MANAGER},
                 "approval"),
    "withdraw": (lambda no, guid: f"/documents/{no}/withdraw", {"reason": "plans changed"}, {APPLICANT}, "approval"),
    "submit": (lambda no, guid: f"/tasks/{guid}", FILL, {APPLICANT}, "fill"),
}


@pytest.fixture
def clients(flask_app):
    """One signed-in test client per demo person (made on first use)."""
    made = {}

    def client_of(code: str):
        if code not in made:
            client = flask_app.test_client()
            client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
            login_client(client, code)
            made[code] = client
        return made[code]
    return client_of


def post(client, url: str, fields: dict[str, str]):
    token = csrf_token(client.get("/inbox").get_data(as_text=True))
    return client.post(url, data={**fields, "csrf_token": token})


@pytest.mark.slow
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_only_the_allowed_person_acts_and_the_others_change_nothing(demo, clients, action: str) -> None:
    url_of, fields, allowed, kind = ACTIONS[action]
    document_no, guid = application(demo) if kind == "approval" else fill_task(demo)
    url = url_of(document_no, guid)
    before = snapshot(demo)
    for person in PEOPLE:
        if person in allowed:
            continue
        answer = post(clients(person), url, fields)
        assert answer.status_code == 403, f"{action} by {person}: {answer.status_code}"
        assert snapshot(demo) == before, f"{action} refused for {person} but something changed"
    for person in allowed:  # the negative control: the same request by the right person goes through
        answer = post(clients(person), url, fields)
        assert answer.status_code == 302, f"{action} by {person}: {answer.status_code} {answer.get_data(True)[:300]}"
    assert snapshot(demo) != before


def test_swapped_task_ids_are_refused(demo, clients) -> None:
    """A manager may approve their own unit's requests only: another unit's task id gets 403, nothing changes."""
    _, foreign = application(demo, applicant="E0015")  # RND-PLAT: not E0005's unit
    before = snapshot(demo)
    answer = post(clients(MANAGER), f"/tasks/{foreign}", {"decision": "approve", "comment": "fine"})
    assert answer.status_code == 403
    other_no, _ = application(demo, applicant="E0015")
    assert post(clients(APPLICANT), f"/documents/{other_no}/withdraw", {}).status_code == 403
    assert post(clients(MANAGER), "/tasks/no-such-task", {"decision": "approve", "comment": "x"}).status_code == 403
    assert snapshot(demo) != before  # the second application was added ...
    before = snapshot(demo)
    assert post(clients(MANAGER), f"/tasks/{foreign}/delegate", {"to": ROLES["finance"]}).status_code == 403
    assert snapshot(demo) == before  # ... and nothing else moved


def test_an_applicant_never_approves_their_own_document(demo, clients) -> None:
    """E0005 manages SALES-N; applying themself, their approval goes a unit up and they may not take it."""
    _, own = application(demo, applicant=MANAGER)
    before = snapshot(demo)
    answer = post(clients(MANAGER), f"/tasks/{own}", {"decision": "approve", "comment": "mine"})
    assert answer.status_code == 403
    assert snapshot(demo) == before
    assert post(clients(DEPT_HEAD), f"/tasks/{own}", {"decision": "approve", "comment": "ok"}).status_code == 302


def test_who_sees_the_task_and_document_pages(demo, clients) -> None:
    document_no, guid = application(demo)
    visible = {APPLICANT, MANAGER} | OVERSEERS
    for person in PEOPLE:
        task_page = clients(person).get(f"/tasks/{guid}")
        document_page = clients(person).get(f"/documents/{document_no}")
        expected = 200 if person in visible else 403
        assert (task_page.status_code, document_page.status_code) == (expected, expected), person
        has_buttons = 'name="decision"' in task_page.get_data(as_text=True)
        assert has_buttons == (person == MANAGER), f"{person} sees the decision buttons: {has_buttons}"
