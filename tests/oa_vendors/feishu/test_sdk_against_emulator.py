"""lark-oapi, Feishu's own SDK, pointed at the emulator: it fetches a tenant token, creates an approval
instance and reads it back, so the emulator speaks Feishu's shapes and not only ours."""

from __future__ import annotations

import json
import secrets

import lark_oapi as lark
import pytest
from lark_oapi.api.approval.v4 import CreateInstanceRequest, GetInstanceRequest, InstanceCreate, NodeApprover

from connectors.emulators.base import Running
from connectors.emulators.feishu import FeishuEmulator

from .conftest import SECRET, TEMPLATE


@pytest.fixture
def emulator():
    # lark-oapi caches tenant tokens process-wide by app id: a fresh app id keeps another emulator's token out.
    app = FeishuEmulator(app_id=f"cli_{secrets.token_hex(8)}")
    with Running(app) as running:
        app.url = running.url
        yield app


def test_lark_oapi_fetches_a_token_creates_an_instance_and_reads_it_back(emulator):
    sdk = (lark.Client.builder().app_id(emulator.app_id).app_secret(SECRET).domain(emulator.url)
           .log_level(lark.LogLevel.ERROR).build())
    form = json.dumps([{"id": "amt", "type": "amount", "value": 99.5}])
    body = (InstanceCreate.builder().approval_code(TEMPLATE).user_id("u_alice").form(form).uuid("sdk-doc-1")
            .node_approver_user_id_list([NodeApprover.builder().key("APPROVAL").value(["u_bob"]).build()]).build())
    created = sdk.approval.v4.instance.create(CreateInstanceRequest.builder().request_body(body).build())
    assert created.success(), (created.code, created.msg)
    code = created.data.instance_code
    assert code in emulator.instances and len(emulator.tokens) == 1  # it fetched a tenant token first

    got = sdk.approval.v4.instance.get(GetInstanceRequest.builder().instance_id(code).user_id_type("user_id").build())
    assert got.success(), (got.code, got.msg)
    assert (got.data.status, got.data.uuid, got.data.form) == ("PENDING", "sdk-doc-1", form)
    assert [t.user_id for t in got.data.task_list] == ["u_bob"]

    again = sdk.approval.v4.instance.create(CreateInstanceRequest.builder().request_body(body).build())
    assert (again.success(), again.code) == (False, 60012)
    unknown = sdk.approval.v4.instance.get(GetInstanceRequest.builder().instance_id("nope").build())
    assert (unknown.success(), unknown.code) == (False, 1390003)
