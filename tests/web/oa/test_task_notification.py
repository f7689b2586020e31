"""Mode 3 end to end, for each OA suite over real HTTP against its emulator: a travel application opens the
manager's approval, the worker's outbox sends the manager one work notification in the suite, its link signs the
manager in through the suite's sign-in page and opens the document, and the manager approves it in budgetflow.
Running the outbox again sends nothing more; a diagram without ``notify="on_open"`` sends nothing at all."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from connectors.emulators import dingtalk, feishu, wecom
from connectors.emulators.base import Running
from engine.bootstrap import Container
from engine.services import outbox, processes
from engine.workflow.bundle import read_folder
from tests.web.conftest import csrf_token
from tests.web.oa.serving import served
from tests.web.pages.support import application

MANAGER, MANAGER_NAME = "E0005", "陈静"  # the demo data's OA ids for 陈静: below, per suite
NOTIFY = '<spiffworkflow:property name="notify" value="on_open" />'
SHIPPED = Path(__file__).resolve().parents[3] / "bpmn"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"


@dataclass(frozen=True)
class Message:
    to: list[str]  # as the suite names its people
    title: str
    text: str
    link: str


def _post(url: str, body: dict) -> None:
    answer = requests.post(url, json=body, timeout=10)
    assert answer.status_code == 200, answer.text


def _wecom_messages(url: str) -> list[Message]:
    sent = requests.get(f"{url}/_emulator/state", timeout=10).json()["messages"]
    return [Message(m["touser"], m["textcard"]["title"], m["textcard"]["description"], m["textcard"]["url"])
            for m in sent]


def _dingtalk_messages(url: str) -> list[Message]:
    sent = requests.get(f"{url}/_emulator/state", timeout=10).json()["messages"]
    cards = [(m["userids"], m["msg"]["action_card"]) for m in sent]
    return [Message(to, c["title"], c["markdown"], c["single_url"]) for to, c in cards]


def _feishu_messages(url: str) -> list[Message]:
    sent = requests.get(f"{url}/_emulator/messages", timeout=10).json()["messages"]
    cards = [(m["open_id"], json.loads(m["body"]["content"])) for m in sent]
    return [Message([to], c["header"]["title"]["content"], c["elements"][0]["text"]["content"],
                    c["elements"][1]["actions"][0]["url"]) for to, c in cards]


@dataclass(frozen=True)
class Suite:
    settings: Callable[[str], str]  # the oa.toml table, given the emulator's URL
    add_manager: Callable[[str], None]  # put 陈静 in the suite's directory, under the data dictionary's id
    messages: Callable[[str], list[Message]]
    manager_id: str  # the data dictionary's id of 陈静 in this suite


SUITES = {
    "wecom": Suite(
        lambda url: f'[wecom]\ncorp_id = "{wecom.CORP_ID}"\nagent_id = "{wecom.AGENT_ID}"\n'
                    f'secret = "{wecom.APP_SECRET}"\ncallback_token = "t"\nencoding_aes_key = "{AES_KEY}"\n'
                    f'base_url = "{url}"\n',
        lambda url: _post(f"{url}/_emulator/users", {"userid": "Chenjing", "name": MANAGER_NAME}),
        _wecom_messages, "Chenjing"),
    "dingtalk": Suite(
        lambda url: f'[dingtalk]\napp_key = "{dingtalk.DEFAULT_APP_KEY}"\n'
                    f'app_secret = "{dingtalk.DEFAULT_APP_SECRET}"\nagent_id = "{dingtalk.DEFAULT_AGENT_ID}"\n'
                    f'callback_token = "t"\nencoding_aes_key = "{AES_KEY}"\nbase_url = "{url}"\n',
        lambda url: _post(f"{url}/_emulator/users", {"userid": "dt_chenjing", "name": MANAGER_NAME}),
        _dingtalk_messages, "dt_chenjing"),
    "feishu": Suite(
        lambda url: f'[feishu]\napp_id = "cli_emulator0001"\napp_secret = "emulator-app-secret"\n'
                    f'verification_token = "t"\nencrypt_key = "k"\nbase_url = "{url}"\n',
        lambda url: _post(f"{url}/_emulator/directory/users", {
            "user_id": "chenjing", "name": MANAGER_NAME, "open_id": "ou_9cd0793af4b0e8acc0807bd808354dea"}),
        _feishu_messages, "ou_9cd0793af4b0e8acc0807bd808354dea"),
}
EMULATORS = {"wecom": wecom.WeComEmulator, "dingtalk": dingtalk.DingTalkEmulator, "feishu": feishu.FeishuEmulator}


@dataclass(frozen=True)
class World:
    vendor: str
    suite: Suite
    emulator: str  # its URL
    site: str  # budgetflow's URL
    container: Container

    def messages(self) -> list[Message]:
        return self.suite.messages(self.emulator)

    def run_outbox(self) -> int:
        return outbox.run_due(self.container.uow, self.container.job_runner())


@pytest.fixture(params=sorted(SUITES))
def world(request, demo) -> Iterator[World]:
    """budgetflow configured for one suite (its emulator), served over HTTP, its links pointing at itself."""
    suite = SUITES[request.param]
    with Running(EMULATORS[request.param]()) as emulator:
        settings_file = demo.settings.instance_dir / "oa.toml"
        settings_file.write_text(suite.settings(emulator.url), encoding="utf-8")
        settings_file.chmod(0o600)
        suite.add_manager(emulator.url)
        with served(demo) as site:
            demo.settings = dataclasses.replace(demo.settings, public_url=site)  # BUDGETFLOW_PUBLIC_URL
            yield World(request.param, suite, emulator.url, site, demo)


def browser() -> requests.Session:
    http = requests.Session()
    http.headers["Accept-Language"] = "en"
    return http


def follow_sign_in(http: requests.Session, link: str, site: str) -> str:
    """Tap the message's link, pick yourself on the suite's sign-in page; where budgetflow sends you at the end."""
    to_suite = http.get(link, allow_redirects=False, timeout=10)
    assert to_suite.status_code == 302, to_suite.text
    page_url = to_suite.headers["Location"]
    page = http.get(page_url, allow_redirects=False, timeout=10)
    assert page.status_code == 200, page.text
    me = re.search(rf'<a href="([^"]+)">{MANAGER_NAME}', page.text)
    assert me, page.text
    back = http.get(urljoin(page_url, html.unescape(me.group(1))), allow_redirects=False, timeout=10)
    assert back.status_code == 302 and back.headers["Location"].startswith(f"{site}/login/oa/"), back.text
    done = http.get(back.headers["Location"], allow_redirects=False, timeout=10)
    assert done.status_code == 302, done.text
    return urljoin(site, done.headers["Location"])


def test_the_manager_is_notified_once_signs_in_through_the_link_and_approves(world):
    document_no, task_guid = application(world.container)
    assert world.messages() == []  # nothing is sent before the worker runs
    assert world.run_outbox() == 1
    [message] = world.messages()
    assert message.to == [world.suite.manager_id]
    assert document_no in message.title and document_no in message.text and "Manager approval" in message.text
    assert message.link == f"{world.site}/login/oa/{world.vendor}?next=%2Fdocuments%2F{document_no}"
    assert world.run_outbox() == 0 and len(world.messages()) == 1  # idempotent: nothing is sent again

    http = browser()
    landed = follow_sign_in(http, message.link, world.site)
    assert landed == f"{world.site}/documents/{document_no}"
    document = http.get(landed, allow_redirects=False, timeout=10)
    assert document.status_code == 200 and document_no in document.text and MANAGER_NAME in document.text
    assert f"/tasks/{task_guid}" in document.text  # the open task the notification was about
    task_page = http.get(f"{world.site}/tasks/{task_guid}", timeout=10)
    assert task_page.status_code == 200
    decided = http.post(f"{world.site}/tasks/{task_guid}", allow_redirects=False, timeout=10, data={
        "decision": "approve", "comment": "ok", "csrf_token": csrf_token(task_page.text)})
    assert decided.status_code in (302, 303), decided.text
    with world.container.reader() as uow:
        assert uow.instances.document(document_no)["outcome"] == "approved"
    world.run_outbox()  # the applicant hears of the approval; the manager gets nothing more
    assert [m.to for m in world.messages()].count([world.suite.manager_id]) == 1


def test_a_diagram_without_the_property_sends_nothing(world):
    files = read_folder(SHIPPED)
    files["shared/approval_chain.bpmn"] = files["shared/approval_chain.bpmn"].replace(NOTIFY, "")
    processes.deploy(world.container.uow, files, by="E0016", label="no notifications")
    application(world.container)
    assert world.run_outbox() == 0
    assert world.messages() == []
