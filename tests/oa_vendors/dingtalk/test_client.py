"""The DingTalk client against the emulator over loopback HTTP: tokens, approvals, errors, SSO, the directory."""

from __future__ import annotations

import logging
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

import connectors.oa.dingtalk_client as dingtalk_client
from connectors.base import ConnectorError
from connectors.emulators.base import Running
from connectors.oa.dingtalk_client import DingTalkClient, DingTalkClientConfig
from connectors.oa.http import THROTTLE_RETRIES, MemoryTokenCache

EXPENSE = "PROC-BUDGETFLOW-EXPENSE"


def control(running, path, body=None):
    answer = requests.post(f"{running.url}/_emulator/{path}", json=body or {}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def create(client, **overrides):
    arguments = {"process_code": EXPENSE, "originator_user_id": "sales01", "approvers": ["manager01"],
                 "form": {"金额(元)": Decimal("1200.50"), "事由": "客户拜访"}} | overrides
    return client.create_approval(**arguments)


# ---- tokens ---------------------------------------------------------------------------------------------------

def test_the_token_is_cached_and_a_repeat_request_gets_the_same_token_extended(client, emulator):
    first = client.access_token()
    assert client.access_token() == first and emulator.token_requests == 1
    emulator.clock.advance(7200 - 200)  # inside the refresh margin: the client asks again
    assert client.access_token() == first and emulator.token_requests == 2
    assert emulator.tokens[first] == pytest.approx(emulator.clock.now() + 7200, abs=5)


def test_a_token_the_vendor_calls_expired_is_refreshed_once_and_the_call_succeeds(client, emulator, running):
    client.clock = lambda: 0.0  # the client believes its cached token is young; DingTalk knows better
    instance_id = create(client)
    emulator.clock.advance(7201)
    assert client.get_approval(instance_id)["status"] == "pending"
    assert emulator.token_requests == 2


def test_a_fresh_token_refused_again_fails_as_not_retryable(client, emulator, running):
    control(running, "faults", {"expire_tokens": True})
    with pytest.raises(ConnectorError) as failed:
        client.departments()
    assert failed.value.code == "OA_AUTH_FAILED" and not failed.value.retryable
    assert emulator.token_requests == 2  # the first token, then exactly one refresh
    control(running, "faults", {"expire_tokens": False})
    assert client.departments()


def test_a_wrong_secret_fails_without_showing_the_secret(emulator, running, caplog):
    secret = "s3cr3t-that-must-not-leak"
    config = DingTalkClientConfig(app_key=emulator.app_key, app_secret=secret, agent_id=1)
    client = DingTalkClient(config, base_url=running.url, tokens=MemoryTokenCache(), sleep=lambda _s: None)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConnectorError) as failed:
        client.get_approval("whatever")
    assert failed.value.code == "OA_AUTH_FAILED" and not failed.value.retryable
    shown = [str(failed.value), repr(failed.value), repr(failed.value.payload), repr(config), repr(client),
             caplog.text]  # the secret travels in a JSON body: no library logs it either
    assert all(secret not in text for text in shown)
    assert emulator.app_key in repr(config)


def test_no_token_or_code_appears_in_errors_or_logs(client, emulator, running, caplog):
    """Every log line but the emulator's own access log (it stands in for DingTalk's servers): the topapi takes
    the token in the query string, which urllib3 logs at DEBUG, masked by the client's filter."""
    caplog.set_level(logging.DEBUG)
    token = client.access_token()
    code = control(running, "oauth/code", {"user_id": "sales01"})["code"]
    client.user_for_code(code)
    with pytest.raises(ConnectorError) as used:
        client.user_for_code(code)
    with pytest.raises(ConnectorError) as unknown:
        client.get_approval("no-such-instance")
    for failure in (used.value, unknown.value):
        assert token not in str(failure) and code not in str(failure) and token not in repr(failure.payload)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != "werkzeug")
    assert "refused" in ours and "access_token=***" in ours and token not in ours and code not in ours


# ---- throttling and transport failures ------------------------------------------------------------------------

def test_throttled_calls_wait_and_succeed(client, emulator, running, sleeps):
    control(running, "faults", {"throttle_every": 2})
    instance_id = create(client)
    for _ in range(4):
        assert client.get_approval(instance_id)["status"] == "pending"
    assert client.departments() and client.users(3)
    assert sleeps and all(0 < wait <= 5 for wait in sleeps)


def test_a_vendor_that_keeps_throttling_fails_as_retryable(client, running, sleeps):
    client.access_token()
    control(running, "faults", {"throttle_every": 1})
    for call in (lambda: client.get_approval("x"), lambda: client.users(1)):  # new API 403, legacy 90018
        sleeps.clear()
        with pytest.raises(ConnectorError) as failed:
            call()
        assert failed.value.code == "OA_THROTTLED" and failed.value.retryable
        assert len(sleeps) == THROTTLE_RETRIES


def test_an_unreachable_vendor_and_a_slow_one(client, emulator, running, monkeypatch):
    config = DingTalkClientConfig(app_key="k", app_secret="s")
    with Running(emulator) as gone:
        url = gone.url
    with pytest.raises(ConnectorError) as unreachable:
        DingTalkClient(config, base_url=url, tokens=MemoryTokenCache()).access_token()
    assert unreachable.value.code == "OA_UNREACHABLE" and unreachable.value.retryable
    client.access_token()
    monkeypatch.setattr(dingtalk_client, "TIMEOUT", (0.5, 0.2))
    control(running, "faults", {"slow_seconds": 0.4})
    with pytest.raises(ConnectorError) as slow_read:
        client.get_approval("x")
    assert slow_read.value.code == "OA_TIMEOUT" and slow_read.value.retryable
    with pytest.raises(ConnectorError) as slow_create:  # it may have been created: not blindly retryable
        create(client)
    assert slow_create.value.code == "OA_TIMEOUT" and not slow_create.value.retryable
    assert slow_create.value.payload["outcome_unknown"]


# ---- approvals ------------------------------------------------------------------------------------------------

def test_create_sends_money_as_exact_strings_and_reads_back_pending(client, emulator):
    instance_id = create(client)
    found = client.get_approval(instance_id)
    assert found["status"] == "pending" and not found["terminal"] and found["instance_id"] == instance_id
    form = {c["name"]: c["value"] for c in found["raw"]["formComponentValues"]}
    assert form == {"金额(元)": "1200.50", "事由": "客户拜访"}
    assert [t["userId"] for t in found["raw"]["tasks"]] == ["manager01"]
    with pytest.raises(TypeError):
        create(client, form={"金额(元)": 1200.5})
    with pytest.raises(ValueError):
        create(client, form={"金额(元)": Decimal("NaN")})


@pytest.mark.parametrize(("action", "status"), [("approve", "approved"), ("reject", "rejected"),
                                                ("cancel", "cancelled")])
def test_what_the_oa_approver_does_reads_back_normalised(client, running, action, status):
    instance_id = create(client)
    control(running, f"instances/{instance_id}/{action}")
    found = client.get_approval(instance_id)
    assert found["status"] == status and found["terminal"]
    assert found["raw"]["status"] == {"cancel": "TERMINATED"}.get(action, "COMPLETED")


def test_all_approvers_must_agree_unless_any_one_may(client, running):
    both = create(client, approvers=["manager01", "finance01"])
    control(running, f"instances/{both}/approve", {"user_id": "finance01"})
    assert client.get_approval(both)["status"] == "pending"
    control(running, f"instances/{both}/approve", {"user_id": "manager01"})
    assert client.get_approval(both)["status"] == "approved"
    either = create(client, approvers=["manager01", "finance01"], approval_mode="OR")
    control(running, f"instances/{either}/approve", {"user_id": "finance01"})
    assert client.get_approval(either)["status"] == "approved"


def test_validation_errors_are_bad_requests_and_unknown_instances_are_named(client):
    for wrong in ({"form": {"不存在的字段": "1"}}, {"process_code": "PROC-NOPE"}, {"originator_user_id": "nobody"},
                  {"form": {"金额(元)": "twelve"}}, {"approvers": ["ghost"]}):
        with pytest.raises(ConnectorError) as refused:
            create(client, **wrong)
        assert refused.value.code == "OA_BAD_REQUEST" and not refused.value.retryable
        assert refused.value.payload["vendor_code"] == "paramError"
    with pytest.raises(ConnectorError) as unknown:
        client.get_approval("no-such-instance")
    assert unknown.value.code == "OA_UNKNOWN_INSTANCE" and not unknown.value.retryable


def test_the_same_create_twice_makes_two_instances_and_reconciling_lists_them(client, emulator):
    start_ms = int(emulator.clock.now() * 1000) - 1000
    first, second = create(client), create(client)
    assert first != second
    assert set(client.approval_ids(EXPENSE, start_ms)) == {first, second}
    assert client.approval_ids("PROC-BUDGETFLOW-TRAVEL", start_ms) == []


# ---- notifications and SSO ------------------------------------------------------------------------------------

def test_a_work_notification_reaches_the_vendor_as_an_action_card(client, emulator):
    [task_id] = client.send_message(["manager01", "finance01"], "待审批: 报销单 R-1", "**金额** 1,200.50 元",
                                    "https://budgetflow.example/inbox/1")
    assert task_id.isdigit() and emulator.messages[-1]["task_id"] == int(task_id)
    sent = emulator.messages[-1]
    assert sent["userids"] == ["manager01", "finance01"]
    assert sent["msg"]["action_card"]["single_url"] == "https://budgetflow.example/inbox/1"


def test_a_notification_needs_the_agent_id_and_a_recipient(emulator, running):
    config = DingTalkClientConfig(app_key=emulator.app_key, app_secret=emulator.app_secret)
    without_agent = DingTalkClient(config, base_url=running.url, tokens=MemoryTokenCache())
    with pytest.raises(ConnectorError) as unconfigured:
        without_agent.send_message(["manager01"], "t", "x", "https://e/1")
    assert unconfigured.value.code == "OA_NOT_CONFIGURED"
    wrong_agent = DingTalkClient(DingTalkClientConfig(emulator.app_key, emulator.app_secret, agent_id=42),
                                 base_url=running.url, tokens=MemoryTokenCache())
    with pytest.raises(ConnectorError) as refused:
        wrong_agent.send_message(["manager01"], "t", "x", "https://e/1")
    assert refused.value.code == "OA_REJECTED" and refused.value.payload["vendor_code"] == 88


def test_a_sign_in_code_works_once_and_not_after_five_minutes(client, emulator, running):
    code = control(running, "oauth/code", {"user_id": "finance01"})["code"]
    assert client.user_for_code(code) == "finance01"
    with pytest.raises(ConnectorError) as reused:
        client.user_for_code(code)
    assert reused.value.code == "OA_SSO_CODE_INVALID" and not reused.value.retryable
    late = control(running, "oauth/code", {"user_id": "finance01"})["code"]
    emulator.clock.advance(301)
    with pytest.raises(ConnectorError) as expired:
        client.user_for_code(late)
    assert expired.value.code == "OA_SSO_CODE_INVALID"


# ---- the directory --------------------------------------------------------------------------------------------

def test_departments_and_users_follow_the_directory_as_it_changes(client, running):
    departments = {d["department_id"]: d for d in client.departments()}
    assert {d["name"] for d in departments.values()} == {"Emulated Corp", "财务部", "销售部"}
    assert departments["1"]["parent_id"] is None and departments["2"]["parent_id"] == "1"
    sales = {u["user_id"]: u for u in client.users(3)}
    assert set(sales) == {"sales01", "sales02"} and sales["sales01"]["department_ids"] == ["3"]
    assert sales["sales01"]["active"] is True and sales["sales01"]["name"] == "张三"

    control(running, "departments", {"dept_id": 4, "name": "华东销售", "parent_id": 3})
    control(running, "departments", {"dept_id": 2, "name": "财务与预算部"})
    control(running, "users", {"userid": "sales01", "name": "张三丰", "dept_id_list": [4]})
    control(running, "users", {"userid": "new01", "name": "新人", "dept_id_list": [3]})
    control(running, "users/sales02/leave")
    control(running, "users", {"userid": "finance01", "active": False})

    departments = {d["department_id"]: d for d in client.departments()}
    assert departments["4"]["parent_id"] == "3" and departments["2"]["name"] == "财务与预算部"
    assert [d["department_id"] for d in client.departments()].index("3") < \
        [d["department_id"] for d in client.departments()].index("4")  # parents first
    assert {u["user_id"] for u in client.users(3)} == {"new01"}
    assert [(u["user_id"], u["name"]) for u in client.users(4)] == [("sales01", "张三丰")]
    assert [u["active"] for u in client.users(2)] == [False]


def test_users_are_read_page_by_page(client, emulator):
    for number in range(230):
        emulator._upsert_user({"userid": f"bulk{number:03d}", "name": f"员工{number}", "dept_id_list": [2]})
    people = client.users(2)
    assert len(people) == 231 and len({p["user_id"] for p in people}) == 231


def test_processes_sharing_the_cache_share_the_token_and_a_refused_one_is_replaced(emulator, running):
    cache = MemoryTokenCache()
    config = DingTalkClientConfig(app_key=emulator.app_key, app_secret=emulator.app_secret, agent_id=1)
    web, worker = (DingTalkClient(config, base_url=running.url, tokens=cache) for _ in range(2))
    assert web.access_token() == worker.access_token() and emulator.token_requests == 1
    cache.put(f"dingtalk:{emulator.app_key}", "revoked-token", 10**12)  # e.g. left by an older deployment
    assert worker.users(3) and cache.get(f"dingtalk:{emulator.app_key}", 0) != "revoked-token"
    assert web.get_approval(create(web))["status"] == "pending" and emulator.token_requests == 2


def _browser_sign_in(client, running, user_id, state="st-1"):
    """What a browser does: open the login page, pick the person, follow DingTalk back to us with authCode."""
    redirect_uri = "https://budgetflow.example/sso/dingtalk"
    url = client.authorize_url(redirect_uri, state)
    assert url.startswith(f"{running.url}/oauth2/auth?") and "client_id=dingemulatorappkey" in url
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and user_id in page.text
    back = requests.get(url + f"&user_id={user_id}", timeout=10, allow_redirects=False)
    assert back.status_code == 302
    location = urlsplit(back.headers["Location"])
    query = dict(parse_qsl(location.query))
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri and query["state"] == state
    return query["authCode"], redirect_uri


def test_the_browser_sign_in_goes_code_to_person_token_to_union_id_to_user_id(client, running):
    code, redirect_uri = _browser_sign_in(client, running, "finance01")
    assert client.user_for_code(code, redirect_uri) == "finance01"
    with pytest.raises(ConnectorError) as reused:
        client.user_for_code(code, redirect_uri)
    assert reused.value.code == "OA_SSO_CODE_INVALID" and code not in str(reused.value)
    in_app = control(running, "oauth/code", {"user_id": "finance01"})["code"]
    with pytest.raises(ConnectorError) as wrong_flow:  # an in-app code is no browser authCode
        client.user_for_code(in_app, redirect_uri)
    assert wrong_flow.value.code == "OA_SSO_CODE_INVALID"


def test_a_browser_sign_in_code_expires_and_a_person_outside_the_company_is_refused(client, emulator, running):
    late, redirect_uri = _browser_sign_in(client, running, "sales01")
    emulator.clock.advance(301)
    with pytest.raises(ConnectorError) as expired:
        client.user_for_code(late, redirect_uri)
    assert expired.value.code == "OA_SSO_CODE_INVALID"
    code = control(running, "oauth/code", {"user_id": "sales02", "web": True})["code"]

    def leaves_meanwhile(response, *args, **kwargs):  # the person left between the two look-ups
        if response.url.endswith("/v1.0/contact/users/me"):
            emulator.users.pop("sales02", None)
    client.session.hooks["response"].append(leaves_meanwhile)
    with pytest.raises(ConnectorError) as outsider:
        client.user_for_code(code, redirect_uri)
    assert outsider.value.code == "OA_SSO_UNKNOWN_USER" and not outsider.value.retryable


class _Interposed(requests.Session):
    """A session that answers the next calls itself (what the emulator cannot produce), then goes through."""

    def __init__(self, answers):
        super().__init__()
        self.answers = list(answers)

    def request(self, method, url, *args, **kwargs):
        if "/oauth2/accessToken" in url or not self.answers:
            return super().request(method, url, *args, **kwargs)
        status, body = self.answers.pop(0)
        response = requests.Response()
        response.status_code, response._content, response.url = status, body, url
        return response


def test_the_per_ip_ban_page_waits_and_a_failing_vendor_is_retryable(emulator, running, sleeps):
    config = DingTalkClientConfig(app_key=emulator.app_key, app_secret=emulator.app_secret, agent_id=1)
    ban = (200, b'{"status":1111,"wait":5,"punish":"deny","message":"ip banned"}')
    banned = DingTalkClient(config, base_url=running.url, tokens=MemoryTokenCache(), sleep=sleeps.append,
                            session=_Interposed([ban]))
    assert banned.users(3)  # waited (capped), then served
    assert sleeps == [5.0]
    failing = DingTalkClient(config, base_url=running.url, tokens=MemoryTokenCache(), sleep=sleeps.append,
                             session=_Interposed([(502, b"<html>bad gateway</html>")]))
    with pytest.raises(ConnectorError) as unavailable:
        failing.get_approval("x")
    assert unavailable.value.code == "OA_UNAVAILABLE" and unavailable.value.retryable
    quota = DingTalkClient(config, base_url=running.url, tokens=MemoryTokenCache(), sleep=sleeps.append,
                           session=_Interposed([(200, b'{"errcode":90020,"errmsg":"quota"}')]))
    with pytest.raises(ConnectorError) as exhausted:
        quota.users(3)
    assert exhausted.value.code == "OA_QUOTA_EXHAUSTED" and not exhausted.value.retryable
