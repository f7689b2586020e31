"""The emulator's callbacks, faults and control endpoints, received by a checker built like the engine's endpoint."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
import requests
from wechatpy.enterprise.crypto import WeChatCrypto
from werkzeug.wrappers import Response

import connectors.emulators.dingtalk as dingtalk_emulator
from connectors.emulators.base import Running
from connectors.emulators.dingtalk import DingTalkEmulator
from connectors.oa.dingtalk_callbacks import DingTalkCallbackConfig

from .conftest import CALLBACK_KEY, CALLBACK_TOKEN, Receiver


def control(running, path, body=None, expect=200):
    answer = requests.post(f"{running.url}/_emulator/{path}", json=body or {}, timeout=10)
    assert answer.status_code == expect, answer.text
    return answer.json()


def create(client, approvers=("manager01",)):
    return client.create_approval(process_code="PROC-BUDGETFLOW-EXPENSE", originator_user_id="sales01",
                                  approvers=list(approvers), form={"金额(元)": Decimal("88.00")})


def kinds(receiver):
    return [(c.kind, c.payload.get("type"), c.payload.get("result")) for c in receiver.effects]


def test_registration_sends_check_url_and_wants_the_sealed_success(receiver):
    assert [c.kind for c in receiver.accepted] == ["check_url"] and receiver.accepted[0].handshake
    assert receiver.effects == []


def test_registration_is_refused_when_the_url_does_not_answer_as_dingtalk_wants(emulator, running):
    wrong = DingTalkCallbackConfig(app_key=emulator.app_key, token="another-token", encoding_aes_key=CALLBACK_KEY)
    with Running(Receiver(wrong, emulator.clock.now)) as served:
        answer = control(running, "callback", {"url": f"{served.url}/callbacks/dingtalk", "token": CALLBACK_TOKEN,
                                               "aes_key": CALLBACK_KEY, "verify": True}, expect=400)
        assert answer["delivery"]["status"] == 403 and served.app.refused == ["bad_signature"]
    assert emulator.callback is None


def test_an_instance_reports_its_start_and_each_decision(client, emulator, running, receiver):
    instance_id = create(client, approvers=("manager01", "finance01"))
    emulator.flush()
    assert kinds(receiver) == [("bpms_instance_change", "start", None), ("bpms_task_change", "start", None),
                               ("bpms_task_change", "start", None)]
    control(running, f"instances/{instance_id}/approve", {"user_id": "manager01"})
    control(running, f"instances/{instance_id}/reject", {"user_id": "finance01", "remark": "超预算"})
    changes = receiver.changes()[3:]
    assert [(c.change, c.result, c.staff_id, c.status, c.terminal) for c in changes] == [
        ("finish", "agree", "manager01", "pending", False), ("finish", "refuse", "finance01", "pending", False),
        ("finish", "refuse", "finance01", "rejected", True)]
    assert {c.instance_id for c in receiver.changes()} == {instance_id}
    assert all(d["acknowledged"] for d in emulator.deliveries)
    control(running, f"instances/{instance_id}/approve", expect=409)  # it is over


def test_withdrawing_cancels_the_open_tasks_and_terminates(client, emulator, running, receiver):
    instance_id = create(client)
    control(running, f"instances/{instance_id}/cancel")
    last = receiver.changes()[-2:]
    assert [(c.task_id != "", c.change, c.status, c.terminal) for c in last] == [
        (True, "cancel", "pending", False), (False, "terminate", "cancelled", True)]


def test_dropped_callbacks_never_arrive_and_reading_back_still_tells(client, emulator, running, receiver):
    control(running, "faults", {"drop_callbacks": True})
    instance_id = create(client)
    control(running, f"instances/{instance_id}/approve")
    emulator.flush()
    assert receiver.effects == [] and sum(d["dropped"] for d in emulator.deliveries) == 4
    assert client.get_approval(instance_id)["status"] == "approved"


def test_duplicated_callbacks_arrive_in_fresh_envelopes_and_de_duplicate_by_event_key(client, emulator, running,
                                                                                     receiver):
    control(running, "faults", {"duplicate_callbacks": 2})
    instance_id = create(client)
    control(running, f"instances/{instance_id}/approve")
    assert len(receiver.accepted) == 1 + 3 * 4  # check_url, then four events three times each
    assert len({c.event_key for c in receiver.accepted}) == 1 + 4
    assert kinds(receiver)[-1] == ("bpms_instance_change", "finish", "agree")
    assert len(receiver.effects) == 4 and receiver.refused == []


def test_what_the_emulator_seals_wechatpy_opens():
    posted = []
    emulator = DingTalkEmulator(post=lambda url, **kw: posted.append(kw) or requests.Response())
    emulator.callback = DingTalkCallbackConfig(emulator.app_key, token="tok", encoding_aes_key=CALLBACK_KEY)
    emulator.callback_url = "http://127.0.0.1:9/unused"
    emulator._deliver({"EventType": "bpms_instance_change", "processInstanceId": "p1", "type": "start"})
    query, body = posted[0]["params"], posted[0]["json"]
    theirs = WeChatCrypto("tok", CALLBACK_KEY, emulator.app_key)
    xml = f"<xml><Encrypt><![CDATA[{body['encrypt']}]]></Encrypt></xml>"
    opened = theirs.decrypt_message(xml, query["msg_signature"], query["timestamp"], query["nonce"])
    assert json.loads(opened)["processInstanceId"] == "p1"
    assert len(query["timestamp"]) == 13  # milliseconds


def test_a_callback_receiver_for_the_corp_id_works_when_configured_so(client, emulator, running):
    config = DingTalkCallbackConfig(app_key=emulator.app_key, token=CALLBACK_TOKEN, encoding_aes_key=CALLBACK_KEY,
                                    receive_id=emulator.corp_id)
    with Running(Receiver(config, emulator.clock.now)) as served:
        control(running, "callback", {"url": f"{served.url}/callbacks/dingtalk", "token": CALLBACK_TOKEN,
                                      "aes_key": CALLBACK_KEY, "receive_id": emulator.corp_id, "verify": True})
        create(client)
        emulator.flush()
        assert [c.kind for c in served.app.effects][:1] == ["bpms_instance_change"]


def test_the_control_endpoints_refuse_what_makes_no_sense(running):
    control(running, "oauth/code", {"user_id": "nobody"}, expect=404)
    control(running, "instances/nope/approve", expect=404)
    control(running, "users", {"userid": "x"}, expect=400)  # a new user needs a name
    control(running, "users", {"userid": "x", "name": "X", "dept_id_list": [99]}, expect=400)
    control(running, "departments", {"dept_id": 2, "parent_id": 2}, expect=400)
    control(running, "callback", {"url": "http://127.0.0.1:9/"}, expect=400)
    control(running, "users/nobody/leave", expect=404)
    control(running, "faults", {"no_such_fault": 1}, expect=400)


def test_the_page_lists_instances_with_their_buttons_and_state_shows_everything(client, running):
    instance_id = create(client)
    page = requests.get(f"{running.url}/_emulator/", timeout=10)
    assert page.headers["content-type"].startswith("text/html")
    assert instance_id in page.text and f"/_emulator/instances/{instance_id}/approve" in page.text
    state = requests.get(f"{running.url}/_emulator/state", timeout=10).json()
    assert [i["processInstanceId"] for i in state["instances"]] == [instance_id]


def test_legacy_gettoken_speaks_errcode(emulator, running):
    good = requests.get(f"{running.url}/gettoken", params={"appkey": emulator.app_key,
                                                           "appsecret": emulator.app_secret}, timeout=10).json()
    assert good["errcode"] == 0 and good["expires_in"] == 7200 and good["access_token"]
    bad = requests.get(f"{running.url}/gettoken", params={"appkey": emulator.app_key, "appsecret": "x"},
                       timeout=10).json()
    assert bad["errcode"] != 0 and "access_token" not in bad


@pytest.mark.parametrize("path", ["/v1.0/workflow/processInstances?processInstanceId=x", "/nope"])
def test_unknown_tokens_and_paths_get_the_vendor_or_emulator_errors(running, path):
    answer = requests.get(f"{running.url}{path}", headers={"x-acs-dingtalk-access-token": "nope"}, timeout=10)
    assert answer.status_code in (400, 404)
    if answer.status_code == 400:
        assert answer.json()["code"] == "InvalidAuthentication" and answer.json()["requestid"]


def test_the_command_line_can_build_it():
    assert isinstance(DingTalkEmulator(), DingTalkEmulator)


def test_unacknowledged_callbacks_are_posted_again_and_still_take_effect_once(client, emulator, running, receiver):
    original = receiver.callback
    receiver.callback = lambda request: Response("down", status=500)  # the endpoint is down for a while
    instance_id = create(client)
    control(running, f"instances/{instance_id}/approve")
    assert [d["status"] for d in emulator.deliveries] == [500] * 4
    receiver.callback = original
    assert control(running, "redeliver") == {"redelivered": 4}
    assert all(d["acknowledged"] for d in emulator.deliveries[4:]) and len(receiver.effects) == 4
    assert control(running, "redeliver") == {"redelivered": 0}


def test_the_page_buttons_act_and_come_back_to_the_page(client, emulator, running):
    instance_id = create(client)
    answer = requests.post(f"{running.url}/_emulator/instances/{instance_id}/approve", data={"go": "1"}, timeout=10,
                           allow_redirects=False)
    assert answer.status_code == 303 and answer.headers["Location"] == "/_emulator/"
    assert client.get_approval(instance_id)["status"] == "approved"


def test_an_answer_slower_than_dingtalk_waits_is_a_failed_delivery(client, emulator, running, receiver, monkeypatch):
    monkeypatch.setattr(dingtalk_emulator, "REPLY_DEADLINE_S", 0.2)  # 1.5 s scaled down to keep the test fast
    original = receiver.callback

    def slow(request):
        time.sleep(0.4)
        return original(request)
    receiver.callback = slow
    create(client)
    emulator.flush()
    assert [d["acknowledged"] for d in emulator.deliveries] == [False, False]
    assert [d["error"] for d in emulator.deliveries] == ["ReadTimeout", "ReadTimeout"]
    receiver.callback = original
    control(running, "redeliver")
    assert [d["acknowledged"] for d in emulator.deliveries[2:]] == [True, True]
    assert len(receiver.effects) == 2  # the late first copies took effect; the retries were de-duplicated
