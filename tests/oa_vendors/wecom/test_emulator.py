"""The WeCom emulator as the OA: URL check, approver actions posting encrypted callbacks, delivery faults, page."""

from __future__ import annotations

import importlib

import pytest
import requests
from lxml import etree
from wechatpy.enterprise.crypto import WeChatCrypto
from werkzeug.wrappers import Request, Response

from connectors.emulators.__main__ import VENDORS
from connectors.emulators.base import Running
from connectors.emulators.wecom import CORP_ID, TEMPLATE_ID, CallbackTarget, WeComEmulator
from connectors.oa.wecom_callbacks import approval_change, reply_for
from tests.oa_vendors.wecom.support import KEY, OTHER_KEY, TOKEN, expense_contents


def configure(running, url, *, token=TOKEN, key=KEY):
    return requests.post(f"{running.url}/_emulator/callback", timeout=5,
                         json={"url": url, "token": token, "encoding_aes_key": key})


def act(running, sp_no, action, **body):
    return requests.post(f"{running.url}/_emulator/approvals/{sp_no}/{action}", json=body, timeout=5)


def create(client, **kwargs):
    return client.create_approval(user_id="zhangsan", template=TEMPLATE_ID, form=expense_contents(),
                                  summary=["差旅报销 1280.50 元"], **kwargs)


def test_the_command_line_finds_the_emulator_and_it_needs_no_arguments():
    module, name = VENDORS["wecom"].split(":")
    assert isinstance(getattr(importlib.import_module(module), name)(), WeComEmulator)


def test_configuring_the_callback_runs_the_url_check_through_our_check(running, receiver):
    app, url = receiver
    assert configure(running, url, token="another-token").status_code == 400  # our check refused the URL check
    assert app.refused == ["bad_signature"]
    answer = configure(running, url)
    assert answer.status_code == 200 and answer.json()["corp_id"] == CORP_ID
    assert configure(running, url, key="short").status_code == 400


def test_one_sheet_fires_a_callback_per_change_each_checked_and_keyed(client, running, receiver):
    app, url = receiver
    configure(running, url)
    sp_no = create(client)
    act(running, sp_no, "approve", speech="同意")  # lisi: the first node
    act(running, sp_no, "approve", userid="wangwu")  # the second and last node
    changes = [approval_change(checked) for checked in app.accepted]
    assert [(c.change_event, c.status, c.terminal) for c in changes] == [
        (1, "pending", False), (2, "pending", False), (2, "approved", True)]
    assert all(c.instance_id == sp_no and c.applicant == "zhangsan" and c.template_id == TEMPLATE_ID for c in changes)
    assert [c.staff_id for c in changes] == ["zhangsan", "lisi", "wangwu"]
    assert len(app.effects) == 3 and not app.refused
    assert all(reply_for(app.config, checked, 0) == b"" for checked in app.accepted)
    assert app.accepted[1].payload["ApprovalInfo"]["SpRecord"][0]["Details"][0]["Approver"]["UserId"] == "lisi"


def test_rejected_and_cancelled_sheets_call_back_terminal_statuses(client, running, receiver):
    app, url = receiver
    configure(running, url)
    rejected, cancelled = create(client), create(client)
    act(running, rejected, "reject", speech="超标")
    act(running, cancelled, "cancel")
    final = {c.instance_id: c for c in map(approval_change, app.accepted) if c.terminal}
    assert final[rejected].status == "rejected" and final[rejected].change_event == 3
    assert final[cancelled].status == "cancelled" and final[cancelled].change_event == 6
    assert act(running, rejected, "approve", userid="wangwu").status_code == 409


def test_dropped_callbacks_leave_polling_to_find_the_outcome(client, emulator, running, receiver):
    app, url = receiver
    configure(running, url)
    requests.post(f"{running.url}/_emulator/faults", json={"drop_callbacks": True}, timeout=5)
    sp_no = create(client, approvers=[["lisi"]])
    act(running, sp_no, "approve")
    assert app.accepted == [] and all(d.dropped for d in emulator.deliveries)
    assert client.get_approval(sp_no)["status"] == "approved"


def test_duplicated_callbacks_come_under_fresh_nonces_and_collapse_on_the_event_key(client, emulator, running,
                                                                                     receiver):
    app, url = receiver
    configure(running, url)
    emulator.faults.duplicate_callbacks = 2
    sp_no = create(client, approvers=[["lisi"]])
    act(running, sp_no, "approve")
    assert len(app.accepted) == 6 and len(app.effects) == 2 and not app.refused


def test_a_failed_delivery_is_retried_with_the_same_body(client, emulator, running, receiver):
    app, url = receiver
    configure(running, url)
    app.fail_next = 2
    create(client)
    assert emulator.deliveries[-1].attempts == 3 and emulator.deliveries[-1].status == 200
    assert len(app.accepted) == 1


def test_what_the_emulator_seals_wechatpy_opens(emulator):
    message = "<xml><Event><![CDATA[sys_approval_change]]></Event><Content>审批</Content></xml>"
    query, body = emulator.sealed_callback(message.encode(), CallbackTarget("http://unused", TOKEN, KEY))
    crypto = WeChatCrypto(TOKEN, KEY, CORP_ID)
    assert crypto.decrypt_message(body.decode(), query["msg_signature"], query["timestamp"], query["nonce"]) == message


class WechatpyReceiver:
    """A callback endpoint written with wechatpy, to show the emulator's URL check and events are WeCom's."""

    def __init__(self) -> None:
        self.crypto = WeChatCrypto(TOKEN, KEY, CORP_ID)
        self.events: list[str] = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        args = request.args
        if request.method == "GET":
            plain = self.crypto.check_signature(args["msg_signature"], args["timestamp"], args["nonce"],
                                                args["echostr"])
            return Response(plain)(environ, start_response)
        xml = self.crypto.decrypt_message(request.get_data(as_text=True), args["msg_signature"], args["timestamp"],
                                          args["nonce"])
        self.events.append(etree.fromstring(xml.encode()).findtext("ApprovalInfo/SpStatus"))
        return Response("")(environ, start_response)


def test_a_wechatpy_endpoint_passes_the_url_check_and_decrypts_every_callback(client, running):
    app = WechatpyReceiver()
    with Running(app) as served:  # type: ignore[arg-type]
        assert configure(running, served.url).status_code == 200
        sp_no = create(client, approvers=[["lisi"]])
        act(running, sp_no, "approve")
        assert configure(running, served.url, key=OTHER_KEY).status_code == 400  # wechatpy refused it
    assert app.events == ["1", "2"]


def test_the_page_lists_sheets_and_its_buttons_act(client, running, receiver):
    app, url = receiver
    configure(running, url)
    sp_no = create(client, approvers=[["lisi"]])
    page = requests.get(f"{running.url}/_emulator/", timeout=5).text
    assert sp_no in page and f"/_emulator/approvals/{sp_no}/approve" in page
    clicked = requests.post(f"{running.url}/_emulator/approvals/{sp_no}/approve", data={"back": "1"},
                            allow_redirects=False, timeout=5)
    assert clicked.status_code == 303 and client.get_approval(sp_no)["status"] == "approved"
    state = requests.get(f"{running.url}/_emulator/state", timeout=5).json()
    assert state["instances"][sp_no]["sp_status"] == 2 and state["callback_url"] == url


@pytest.mark.parametrize("action", ["approve", "reject", "cancel"])
def test_acting_on_an_unknown_sheet_is_a_404(running, action):
    assert act(running, "209901010001", action).status_code == 404


def test_held_callbacks_come_late_and_out_of_order(client, emulator, running, receiver):
    app, url = receiver
    configure(running, url)
    emulator.hold_callbacks = True
    sp_no = create(client, approvers=[["lisi"]])
    act(running, sp_no, "approve")
    assert app.accepted == [] and len(emulator.held) == 2
    released = requests.post(f"{running.url}/_emulator/callback/release", json={"order": "reverse"}, timeout=5)
    assert released.json() == {"released": 2, "delivered": [200, 200]}
    assert [approval_change(c).status for c in app.accepted] == ["approved", "pending"]  # the result came first
    assert not emulator.hold_callbacks and emulator.held == []
