"""The Feishu client against the emulator over loopback HTTP: tokens, approvals, errors, messages, sign-in,
contacts."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from decimal import Decimal

import pytest
import requests

from connectors.base import ConnectorError
from connectors.oa.feishu_client import FeishuClient, FeishuClientConfig, _checked, _data, _field
from connectors.oa.http import TIMEOUT, MemoryTokenCache

from .conftest import SECRET, TEMPLATE

FORM = [{"id": "amt", "type": "amount", "value": Decimal("1234.56"), "currency": "CNY"},
        {"id": "why", "type": "input", "value": "Trip to 杭州"}]


def refused(call) -> ConnectorError:
    with pytest.raises(ConnectorError) as caught:
        call()
    return caught.value


def test_the_token_is_cached_then_renewed_in_its_last_half_hour_while_the_old_one_stays_valid(client, emulator):
    first = client.access_token()
    assert client.access_token() == first and len(emulator.tokens) == 1
    emulator.clock.advance(7200 - 1700)  # inside the last 30 minutes, past the cache's margin too
    emulator.clock.advance(1400)
    second = client.access_token()
    assert second != first and len(emulator.tokens) == 2
    old = requests.get(f"{emulator.url}/open-apis/approval/v4/instances/none", timeout=5,
                       headers={"Authorization": f"Bearer {first}"})
    assert old.json()["code"] == 1390003  # the old token still works: the instance is what is unknown
    emulator.clock.advance(400)
    gone = requests.get(f"{emulator.url}/open-apis/approval/v4/instances/none", timeout=5,
                        headers={"Authorization": f"Bearer {first}"})
    assert (gone.status_code, gone.json()["code"]) == (400, 99991663)


def test_a_refused_token_is_dropped_and_the_call_retried_once_with_a_fresh_one(client, emulator):
    client.tokens.put(f"feishu:{emulator.app_id}", "t-stale", emulator.clock.now() + 3600)
    instance = client.create_approval(template=TEMPLATE, user_id="u_alice", form=FORM, key="doc-1")
    assert client.get_approval(instance)["status"] == "pending"
    assert client.access_token() != "t-stale"


def test_a_token_refused_again_after_the_refresh_fails_for_good(client, emulator):
    client.access_token()
    emulator.faults.expire_tokens = True
    error = refused(lambda: client.get_approval("x"))
    assert (error.code, error.retryable) == ("OA_AUTH_FAILED", False)
    assert len(emulator.tokens) == 2  # exactly one refresh


def test_wrong_credentials_fail_without_showing_the_secret(emulator, caplog):
    caplog.set_level(logging.DEBUG)
    config = FeishuClientConfig(app_id=emulator.app_id, app_secret="wrong-SECRET-value")
    bad = FeishuClient(config, base_url=emulator.url, tokens=MemoryTokenCache())
    error = refused(bad.access_token)
    assert (error.code, error.retryable) == ("OA_AUTH_FAILED", False)
    code = requests.post(f"{emulator.url}/_emulator/oauth/code", json={"user_id": "u_bob"}, timeout=5).json()["code"]
    sso = refused(lambda: bad.user_for_code(code))
    assert (sso.code, sso.retryable) == ("OA_AUTH_FAILED", False)
    for text in (str(error), repr(error), str(sso), repr(bad), repr(config), caplog.text):
        assert "wrong-SECRET-value" not in text and SECRET not in text and code not in text


def test_no_token_or_code_appears_in_errors_or_logs(client, emulator, caplog):
    caplog.set_level(logging.DEBUG)
    token = client.access_token()
    error = refused(lambda: client.get_approval("missing"))
    code = requests.post(f"{emulator.url}/_emulator/oauth/code", json={"user_id": "u_bob"}, timeout=5).json()["code"]
    client.user_for_code(code)
    sso = refused(lambda: client.user_for_code(code))
    for text in (str(error), repr(error), str(sso), caplog.text):
        assert token not in text and code not in text


def test_throttling_waits_the_reset_feishu_names_then_succeeds_or_gives_up_as_retryable(client, emulator, slept):
    client.access_token()
    emulator.faults.throttle_every = 2
    emulator.calls = 0
    assert client.get_approval(client.create_approval(template=TEMPLATE, user_id="u_alice", form=FORM,
                                                      key="doc-t"))["status"] == "pending"
    assert slept and set(slept) == {1.0}
    emulator.faults.throttle_every = 1
    error = refused(lambda: client.get_approval("x"))
    assert (error.code, error.retryable) == ("OA_THROTTLED", True)


def test_create_sends_the_form_as_a_json_string_and_reads_back_the_status(client, emulator):
    instance = client.create_approval(template=TEMPLATE, user_id="u_alice", form=FORM, key="doc-2",
                                      approvers={"APPROVAL": ["u_carol"]})
    got = client.get_approval(instance)
    assert (got["instance_id"], got["status"]) == (instance, "pending")
    assert json.loads(got["raw"]["form"])[0]["value"] == 1234.56 and '"value": 1234.56' in got["raw"]["form"]
    assert got["raw"]["task_list"][0]["user_id"] == "u_carol"
    requests.post(f"{emulator.url}/_emulator/instances/{instance}/reject", json={}, timeout=5)
    assert client.get_approval(instance)["status"] == "rejected"


def test_creating_twice_with_one_key_gives_one_instance(client, emulator):
    first = client.create_approval(template=TEMPLATE, user_id="u_alice", form=FORM, key="doc-3")
    client.create_approval(template=TEMPLATE, user_id="u_bob", form=FORM, key="doc-4")
    again = client.create_approval(template=TEMPLATE, user_id="u_alice", form=FORM, key="doc-3")
    assert again == first and len(emulator.instances) == 2


@pytest.mark.parametrize(("change", "code"), [
    ({"user_id": "u_nobody"}, "OA_BAD_REQUEST"),
    ({"template": "NO-SUCH-APPROVAL"}, "OA_BAD_REQUEST"),
    ({"key": "k" * 65}, "OA_BAD_REQUEST"),
    ({"approvers": {"APPROVAL": ["u_nobody"]}}, "OA_BAD_REQUEST"),
    ({"form": [{"id": "amt", "type": "amount", "value": Decimal("12345678901234.567")}]}, "OA_BAD_REQUEST"),
])
def test_invalid_creates_are_refused_as_bad_requests(client, change, code):
    args = {"template": TEMPLATE, "user_id": "u_alice", "form": FORM, "key": "doc-5", **change}
    error = refused(lambda: client.create_approval(**args))
    assert (error.code, error.retryable) == (code, False)
    assert client.create_approval(template=TEMPLATE, user_id="u_alice", form=FORM, key="doc-5")  # valid: passes


def test_the_emulator_refuses_a_form_that_is_not_a_json_string(client, emulator):
    answer = requests.post(f"{emulator.url}/open-apis/approval/v4/instances", timeout=5,
                           headers={"Authorization": f"Bearer {client.access_token()}"},
                           json={"approval_code": TEMPLATE, "user_id": "u_alice", "form": [{"id": "a"}]})
    assert (answer.status_code, answer.json()["code"]) == (400, 1390001)
    missing = requests.get(f"{emulator.url}/open-apis/approval/v4/instances/x", timeout=5)
    assert (missing.status_code, missing.json()["code"]) == (400, 99991661)


def test_an_unknown_instance_and_an_unreachable_feishu(client):
    error = refused(lambda: client.get_approval("NO-SUCH"))
    assert (error.code, error.retryable) == ("OA_UNKNOWN_INSTANCE", False)
    gone = FeishuClient(FeishuClientConfig("cli_x", "s"), base_url="http://127.0.0.1:9", tokens=MemoryTokenCache())
    error = refused(gone.access_token)
    assert (error.code, error.retryable) == ("OA_UNREACHABLE", True)


class _SlowSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.timeouts = []

    def request(self, method, url, **kwargs):
        self.timeouts.append(kwargs.get("timeout"))
        raise requests.ReadTimeout("no answer")


def test_every_call_has_a_timeout_and_a_timeout_is_retryable(emulator):
    session = _SlowSession()
    slow = FeishuClient(FeishuClientConfig(emulator.app_id, SECRET), base_url=emulator.url,
                        tokens=MemoryTokenCache(), session=session)
    error = refused(slow.access_token)
    assert (error.code, error.retryable) == ("OA_TIMEOUT", True)
    refused(lambda: slow.user_for_code("c"))
    assert session.timeouts == [TIMEOUT, TIMEOUT]
    session.close()


def _answer(status: int, body: object, headers: dict[str, str] | None = None) -> requests.Response:
    answer = requests.Response()
    answer.status_code, answer._content = status, json.dumps(body).encode()
    answer.headers.update(headers or {})
    return answer


@pytest.mark.parametrize(("status", "code", "expected", "retryable"), [
    (400, 1395001, "OA_UNAVAILABLE", True),
    (400, 1390001, "OA_BAD_REQUEST", False),
    (400, 99991672, "OA_REJECTED", False),
    (502, 0, "OA_UNAVAILABLE", True),
])
def test_feishu_error_codes_map_to_connector_errors(status, code, expected, retryable):
    error = refused(lambda: _checked(_answer(status, {"code": code, "msg": "m", "data": {}}), frozenset()))
    assert (error.code, error.retryable) == (expected, retryable)
    assert _checked(_answer(200, {"code": 0, "msg": "ok", "data": {}}), frozenset())["code"] == 0


def test_an_answer_missing_its_data_or_id_is_a_retryable_bad_response():
    for call in (lambda: _data({"code": 0, "msg": "ok"}), lambda: _field({"instance_code": ""}, "instance_code")):
        error = refused(call)
        assert (error.code, error.retryable) == ("OA_BAD_RESPONSE", True)
    assert _field(_data({"code": 0, "data": {"instance_code": "I-1"}}), "instance_code") == "I-1"


def test_messages_are_cards_with_the_link(client, emulator):
    ids = client.send_message(["u_alice", "u_bob"], "Approve EXP-7", "¥1,234.56 for a trip", "https://bf.example/d/7",
                              id_type="user_id")
    sent = requests.get(f"{emulator.url}/_emulator/messages", timeout=5).json()["messages"]
    assert [m["message_id"] for m in sent] == ids and [m["receive_id"] for m in sent] == ["u_alice", "u_bob"]
    card = json.loads(sent[0]["body"]["content"])
    assert card["header"]["title"]["content"] == "Approve EXP-7"
    assert card["elements"][1]["actions"][0]["url"] == "https://bf.example/d/7"
    error = refused(lambda: client.send_message(["u_nobody"], "t", "x", "https://bf.example", id_type="user_id"))
    assert (error.code, error.retryable) == ("OA_REJECTED", False)


def test_messages_go_by_open_id_by_default_the_id_the_data_dictionary_keeps(client, emulator):
    alice = requests.post(f"{emulator.url}/_emulator/directory/users", json={"user_id": "u_alice"}, timeout=5).json()
    client.send_message([alice["open_id"]], "Approve EXP-8", "text", "https://bf.example/d/8")
    [sent] = requests.get(f"{emulator.url}/_emulator/messages", timeout=5).json()["messages"]
    assert (sent["receive_id"], sent["receive_id_type"]) == ("u_alice", "open_id")
    error = refused(lambda: client.send_message(["u_alice"], "t", "x", "https://bf.example"))  # a user id
    assert (error.code, error.retryable) == ("OA_REJECTED", False)


def test_sign_in_codes_work_once_and_expire_after_five_minutes(client, emulator):
    redirect = "https://bf.example/sso/feishu"
    page = requests.get(client.authorize_url(redirect, "st-1") + "&user_id=u_carol", allow_redirects=False,
                        timeout=5)
    assert page.status_code == 302 and page.headers["Location"].startswith(redirect + "?code=")
    assert page.headers["Location"].endswith("&state=st-1")
    code = page.headers["Location"].split("code=")[1].split("&")[0]
    assert client.user_for_code(code, redirect) == emulator.people["u_carol"].open_id
    assert refused(lambda: client.user_for_code(code, redirect)).code == "OA_SSO_CODE_INVALID"
    late = requests.post(f"{emulator.url}/_emulator/oauth/code", json={"user_id": "u_bob"}, timeout=5).json()["code"]
    emulator.clock.advance(301)
    error = refused(lambda: client.user_for_code(late))
    assert (error.code, error.retryable) == ("OA_SSO_CODE_INVALID", False)
    assert refused(lambda: client.user_for_code("never-issued")).code == "OA_SSO_CODE_INVALID"
    answer = requests.post(f"{emulator.url}/open-apis/authen/v2/oauth/token", timeout=5,
                           json={"grant_type": "authorization_code", "client_id": emulator.app_id,
                                 "client_secret": SECRET, "code": "never-issued"})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_contacts_follow_the_directory_as_it_changes(client, emulator):
    assert {d["department_id"]: d["parent_id"] for d in client.departments()} == {"D100": "0", "D200": "0"}
    assert [(u["user_id"], u["active"]) for u in client.users("D100")] == [("u_alice", True), ("u_carol", True)]
    control = f"{emulator.url}/_emulator/directory"
    requests.post(f"{control}/departments", json={"department_id": "D110", "name": "Audit", "parent_id": "D100"},
                  timeout=5)
    requests.post(f"{control}/users", json={"user_id": "u_alice", "name": "Alice Wang", "department_ids": ["D110"]},
                  timeout=5)
    requests.post(f"{control}/users", json={"user_id": "u_carol", "active": False}, timeout=5)
    for i in range(60):  # more than a page
        requests.post(f"{control}/users", json={"user_id": f"u_new{i}", "department_ids": ["D200"]}, timeout=5)
    assert {d["department_id"] for d in client.departments()} == {"D100", "D110", "D200"}
    assert [(u["user_id"], u["name"]) for u in client.users("D110")] == [("u_alice", "Alice Wang")]
    assert [(u["user_id"], u["active"]) for u in client.users("D100")] == [("u_carol", False)]
    assert len(client.users("D200")) == 61
    requests.post(f"{control}/departments", json={"department_id": "D110", "deleted": True}, timeout=5)
    assert "D110" not in {d["department_id"] for d in client.departments()}


def test_the_emulator_runs_from_the_command_line():
    process = subprocess.Popen([sys.executable, "-m", "connectors.emulators", "feishu"], stdout=subprocess.PIPE,
                               text=True)
    try:
        url = process.stdout.readline().split(" on ")[1].strip()
        answer = requests.post(f"{url}/open-apis/auth/v3/tenant_access_token/internal", timeout=5,
                               json={"app_id": "cli_emulator0001", "app_secret": SECRET})
        assert answer.json()["tenant_access_token"].startswith("t-")
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
