"""The emulator as the OA approver: signed, encrypted events to a configured URL, only for subscribed approvals,
honouring dropped and duplicated deliveries; accepted by our check and by lark-oapi's own event dispatcher."""

from __future__ import annotations

from decimal import Decimal

import lark_oapi as lark
import pytest
import requests
from lark_oapi.core.model import RawRequest
from werkzeug.wrappers import Request, Response

from connectors.emulators.base import Running
from connectors.oa.callbacks import CallbackRejected, MemoryNonceStore
from connectors.oa.feishu_callbacks import FeishuCallbackConfig, check

from .conftest import TEMPLATE

TOKEN, KEY = "emulated-verification-token", "emulated-encrypt-key"  # noqa: S105 - a test app's
FORM = [{"id": "amt", "type": "amount", "value": Decimal("88.00")}]


class Receiver:
    """budgetflow's side in miniature: every post goes through ``check``."""

    def __init__(self, emulator, config: FeishuCallbackConfig) -> None:
        self.emulator, self.config = emulator, config
        self.nonces = MemoryNonceStore()
        self.accepted, self.refused = [], []

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            checked = check(self.config, method=request.method, query=request.args, headers=request.headers,
                            body=request.get_data(), now=self.emulator.clock.now(), nonces=self.nonces)
        except CallbackRejected as refused:
            self.refused.append(refused.reason)
            return Response(status=400)(environ, start_response)
        self.accepted.append(checked)
        return Response(checked.reply, content_type=checked.content_type)(environ, start_response)


class LarkReceiver:
    """lark-oapi's webhook dispatcher, as an app built on the SDK would mount it."""

    def __init__(self) -> None:
        self.events = []
        record = self.events.append
        self.handler = (lark.EventDispatcherHandler.builder(KEY, TOKEN)
                        .register_p1_customized_event("approval_instance", record)
                        .register_p1_customized_event("approval_task", record).build())

    def __call__(self, environ, start_response):
        request = Request(environ)
        raw = RawRequest()
        raw.uri, raw.body, raw.headers = request.path, request.get_data(), dict(request.headers)
        answer = self.handler.do(raw)
        return Response(answer.content, status=answer.status_code)(environ, start_response)


@pytest.fixture
def receiver(emulator):
    app = Receiver(emulator, FeishuCallbackConfig(app_id=emulator.app_id, verification_token=TOKEN,
                                                  encrypt_key=KEY))
    with Running(app) as running:
        app.url = running.url
        yield app


def configure(emulator, url: str, **extra) -> dict:
    return requests.post(f"{emulator.url}/_emulator/callback", timeout=5,
                         json={"url": url, "encrypt_key": KEY, "verification_token": TOKEN, **extra}).json()


def act(emulator, instance: str, action: str, **body) -> dict:
    return requests.post(f"{emulator.url}/_emulator/instances/{instance}/{action}", json=body, timeout=10).json()


def test_the_url_verification_handshake_passes_our_check(emulator, receiver):
    assert configure(emulator, receiver.url, verify=True) == {"configured": True, "verified": True}
    assert [c.kind for c in receiver.accepted] == ["url_verification"] and receiver.accepted[0].handshake


def test_no_events_before_subscribe_then_signed_task_and_instance_events(client, emulator, receiver):
    configure(emulator, receiver.url)
    before = client.create_approval(template=TEMPLATE, user_id="u_alice", form=FORM, key="k1")
    assert act(emulator, before, "approve")["deliveries"] == [[], []]
    assert receiver.accepted == []
    client.subscribe(TEMPLATE)
    after = client.create_approval(template=TEMPLATE, user_id="u_alice", form=FORM, key="k2",
                                   approvers={"APPROVAL": ["u_bob"]})
    assert act(emulator, after, "approve", user_id="u_bob", comment="ok")["deliveries"] == [[200], [200]]
    assert [(c.kind, c.payload["event"]["status"]) for c in receiver.accepted] == [
        ("approval_task", "APPROVED"), ("approval_instance", "APPROVED")]
    assert receiver.accepted[1].payload["event"]["instance_code"] == after and receiver.refused == []
    assert client.get_approval(after)["status"] == "approved"


def test_dropped_callbacks_leave_polling_to_find_the_outcome(client, emulator, receiver):
    configure(emulator, receiver.url)
    client.subscribe(TEMPLATE)
    emulator.faults.drop_callbacks = True
    instance = client.create_approval(template=TEMPLATE, user_id="u_bob", form=FORM, key="k3")
    assert act(emulator, instance, "reject")["deliveries"] == [[], []]
    assert receiver.accepted == [] and client.get_approval(instance)["status"] == "rejected"


def test_duplicated_callbacks_all_pass_the_check_and_share_their_event_key(client, emulator, receiver):
    configure(emulator, receiver.url, schema="2.0")
    client.subscribe(TEMPLATE)
    emulator.faults.duplicate_callbacks = 2
    instance = client.create_approval(template=TEMPLATE, user_id="u_bob", form=FORM, key="k4")
    assert act(emulator, instance, "cancel")["deliveries"] == [[200, 200, 200]]  # cancel: no task event
    assert len(receiver.accepted) == 3 and len({c.event_key for c in receiver.accepted}) == 1
    assert receiver.accepted[0].payload["header"]["event_type"] == "approval_instance"
    assert client.get_approval(instance)["status"] == "cancelled"
    assert requests.post(f"{emulator.url}/_emulator/instances/{instance}/approve", json={}, timeout=5
                         ).status_code == 409


def test_a_receiver_with_another_key_refuses_every_event(client, emulator):
    wrong = Receiver(emulator, FeishuCallbackConfig(app_id=emulator.app_id, verification_token=TOKEN,
                                                    encrypt_key="another-key"))
    with Running(wrong) as running:
        configure(emulator, running.url)
        client.subscribe(TEMPLATE)
        instance = client.create_approval(template=TEMPLATE, user_id="u_bob", form=FORM, key="k5")
        assert act(emulator, instance, "approve")["deliveries"] == [[400, 400, 400], [400, 400, 400]]
    assert wrong.accepted == [] and wrong.refused == ["bad_signature"] * 6


def test_lark_oapis_dispatcher_accepts_what_the_emulator_sends(client, emulator):
    sdk = LarkReceiver()
    with Running(sdk) as running:
        assert configure(emulator, running.url, verify=True)["verified"] is True
        client.subscribe(TEMPLATE)
        instance = client.create_approval(template=TEMPLATE, user_id="u_alice", form=FORM, key="k6")
        assert act(emulator, instance, "approve")["deliveries"] == [[200], [200]]
    assert [e.event["type"] for e in sdk.events] == ["approval_task", "approval_instance"]
    assert sdk.events[1].event["instance_code"] == instance


def test_the_page_lists_instances_with_buttons(client, emulator):
    instance = client.create_approval(template=TEMPLATE, user_id="u_alice", form=FORM, key="k7")
    page = requests.get(f"{emulator.url}/_emulator/", timeout=5)
    assert instance in page.text and f"/_emulator/instances/{instance}/approve" in page.text
