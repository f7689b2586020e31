"""notify/Send through the OA suites: the diagram's ``lane:``/``role:``/employee recipients reach the right people
in WeCom (its emulator over real HTTP), with a link that signs them in and opens the document."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.emulators import wecom
from connectors.emulators.base import Running
from engine.services import processes
from tests.engine_support import APPLICANT, MANAGER, only_task, start_claim


@pytest.fixture
def waiting_for_manager(app):
    """A claim waiting at the manager's approval; (document number, the approval's lane)."""
    fill = only_task(start_claim(app, "EXP-N-1"))
    approval = only_task(processes.complete_task(app.uow, task_guid=fill["task_guid"], user=APPLICANT, form={}))
    return "EXP-N-1", approval["lane"]


@pytest.fixture
def emulator(app):
    with Running(wecom.WeComEmulator()) as running:
        settings = app.settings.instance_dir / "oa.toml"
        settings.write_text(f'[wecom]\ncorp_id = "{wecom.CORP_ID}"\nagent_id = "{wecom.AGENT_ID}"\n'
                            f'secret = "{wecom.APP_SECRET}"\ncallback_token = "t"\nencoding_aes_key = "{"k" * 43}"\n'
                            f'base_url = "{running.url}"\n', encoding="utf-8")
        settings.chmod(0o600)
        for userid, name in (("Chenjing", "陈静"), ("Hepeng", "何鹏")):
            requests.post(f"{running.url}/_emulator/users", json={"userid": userid, "name": name}, timeout=10)
        yield running.url


def messages(url: str) -> list[dict]:
    return requests.get(f"{url}/_emulator/state", timeout=10).json()["messages"]


def test_a_reminder_to_a_lane_reaches_its_approver_in_wecom_with_a_sign_in_link(app, waiting_for_manager, emulator):
    document_no, lane = waiting_for_manager
    result = app.job_runner().run("notify/Send", {"to": f"lane:{lane}", "template": "approval_reminder",
                                                  "document_no": document_no, "overdue": "2 days"}, key="k-1")
    assert result == {"sent": True, "to": [MANAGER], "via": {"wecom": [MANAGER]}, "unreachable": []}
    [sent] = messages(emulator)
    assert sent["touser"] == ["Chenjing"]
    card = sent["textcard"]
    assert document_no in card["title"] and "2 days" in card["description"]
    link = urlsplit(card["url"])
    assert f"{link.scheme}://{link.netloc}" == app.settings.public_url and link.path == "/login/oa/wecom"
    assert parse_qs(link.query) == {"next": [f"/documents/{document_no}"]}


def test_people_no_suite_knows_or_reaches_are_reported_unreachable(app, emulator):
    # the admin (E0015) has a WeCom id in the data dictionary that WeCom's directory does not hold: refused
    result = app.job_runner().run("notify/Send", {"to": "role:admin", "template": "approval_overdue",
                                                  "document_no": "EXP-N-2"}, key="k-2")
    assert result == {"sent": False, "to": ["E0015"], "via": {}, "unreachable": ["E0015"],
                      "refused": {"wecom": "OA_BAD_REQUEST"}}
    direct = app.job_runner().run("notify/Send", {"to": APPLICANT, "template": "task_waiting",
                                                  "document_no": "EXP-N-3"}, key="k-3")
    assert direct == {"sent": True, "to": [APPLICANT], "via": {"wecom": [APPLICANT]}, "unreachable": []}
    assert [m["touser"] for m in messages(emulator)] == [["Hepeng"]]
    assert app.job_runner().run("notify/Send", {"to": "lane:nobody", "document_no": "EXP-N-3"}, key="k-4") == {
        "sent": False, "to": [], "via": {}, "unreachable": []}


def test_without_oa_settings_a_notification_is_only_logged(app):
    assert app.job_runner().notifier is None
    assert app.job_runner().run("notify/Send", {"to": "role:admin", "template": "approval_overdue",
                                                "document_no": "EXP-N-4"}, key="k-5") == {"sent": True}
