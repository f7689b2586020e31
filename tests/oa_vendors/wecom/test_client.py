"""The WeCom client against the emulator over loopback: tokens, errors, approvals, messages, sign-in, directory."""

from __future__ import annotations

import logging

import pytest
import requests
from werkzeug.wrappers import Response

from connectors.base import ConnectorError
from connectors.emulators.wecom import AGENT_ID, APP_SECRET, CORP_ID, TEMPLATE_ID
from connectors.oa.http import MemoryTokenCache
from connectors.oa.wecom_client import WeComClient, WeComClientConfig, money
from tests.oa_vendors.wecom.support import expense_contents


def create(client: WeComClient, applicant: str = "zhangsan", **kwargs) -> str:
    return client.create_approval(user_id=applicant, template=TEMPLATE_ID, form=expense_contents(),
                                  summary=["差旅报销 1280.50 元"], **kwargs)


def gettoken_calls(session) -> int:
    return sum(path.startswith("cgi-bin/gettoken") for path in session.paths)


def test_the_token_is_fetched_once_and_reused_until_near_expiry(client, emulator, session):
    assert client.access_token() == client.access_token()
    client.departments()
    assert gettoken_calls(session) == 1
    emulator.clock.advance(7200 - 299)  # inside the refresh margin: fetched anew, and WeCom issues a new one
    old = emulator._tokens.copy()
    emulator.clock.advance(300)
    client.departments()
    assert gettoken_calls(session) == 2 and client.access_token() not in old


def test_an_expired_token_is_refreshed_once_and_the_call_retried(client, emulator, session):
    emulator.faults.expire_tokens = True  # each token serves one call, then answers 42001
    for _ in range(3):
        assert len(client.departments()) == 3
    assert gettoken_calls(session) == 3


def test_an_invalid_cached_token_is_dropped_and_replaced(emulator, running, session):
    tokens = MemoryTokenCache()
    tokens.put(f"wecom:{CORP_ID}:{AGENT_ID}", "not-a-token", emulator.clock.now() + 7200)
    client = WeComClient(WeComClientConfig(CORP_ID, APP_SECRET, AGENT_ID), base_url=running.url, tokens=tokens,
                         session=session, clock=emulator.clock.now, sleep=lambda s: None)
    assert client.users(2)[0]["user_id"] == "lisi"
    assert tokens.get(f"wecom:{CORP_ID}:{AGENT_ID}", emulator.clock.now()) != "not-a-token"


def test_a_token_refused_again_after_refresh_is_an_auth_failure(client, emulator):
    emulator.queued_errors.extend([40014, 40014])
    with pytest.raises(ConnectorError) as failed:
        client.departments()
    assert failed.value.code == "OA_AUTH_FAILED" and not failed.value.retryable


def test_throttling_and_busy_wait_with_the_injected_sleep_then_succeed(client, emulator, sleeps):
    emulator.faults.throttle_every = 2
    for _ in range(4):
        client.departments()
    emulator.faults.throttle_every = 0
    emulator.queued_errors.extend([-1, -1])
    client.departments()
    assert len(sleeps) >= 4 and all(0 < s <= 5 for s in sleeps)


def test_a_vendor_that_keeps_throttling_fails_as_retryable(client, emulator, sleeps):
    client.access_token()
    emulator.faults.throttle_every = 1
    with pytest.raises(ConnectorError) as failed:
        client.departments()
    assert failed.value.code == "OA_THROTTLED" and failed.value.retryable and len(sleeps) == 3


def test_the_approval_apis_have_a_per_minute_limit(client, emulator, sleeps):
    assert emulator.approval_calls_per_minute == 600  # WeCom's; lowered here to reach it quickly
    emulator.approval_calls_per_minute = 5
    sheets = [create(client) for _ in range(5)]
    with pytest.raises(ConnectorError) as failed:
        client.get_approval(sheets[0])
    assert failed.value.code == "OA_THROTTLED" and len(sleeps) == 3  # waited (injected) and retried, in vain
    emulator.clock.advance(61)
    assert client.get_approval(sheets[0])["status"] == "pending"
    with pytest.raises(ConnectorError) as unknown:
        client.get_approval("209901010001")
    assert unknown.value.code == "OA_UNKNOWN_INSTANCE"


def test_an_untrusted_ip_is_an_auth_failure_naming_the_fix(client, emulator):
    emulator.trusted_ips = {"10.1.2.3"}
    with pytest.raises(ConnectorError) as failed:
        client.departments()
    assert failed.value.code == "OA_AUTH_FAILED" and "trusted IP" in str(failed.value)
    emulator.trusted_ips = {"127.0.0.1"}
    assert client.departments()


def test_secrets_never_reach_errors_reprs_or_logs(emulator, running, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = WeComClient(WeComClientConfig(CORP_ID, "wrong-secret-abcdefghij", AGENT_ID), base_url=running.url,
                        tokens=MemoryTokenCache(), clock=emulator.clock.now)
    with pytest.raises(ConnectorError) as failed:
        wrong.departments()
    assert failed.value.code == "OA_AUTH_FAILED" and "wrong-secret" not in str(failed.value)
    right = WeComClient(WeComClientConfig(CORP_ID, APP_SECRET, AGENT_ID), base_url=running.url,
                        tokens=MemoryTokenCache(), clock=emulator.clock.now)
    token = right.access_token()
    code = emulator._issue_code({"userid": "lisi"})
    assert right.user_for_code(code) == "lisi"
    with pytest.raises(ConnectorError) as reused:
        right.user_for_code(code)
    emulator.queued_errors.append(301025)
    with pytest.raises(ConnectorError) as bad:
        right.departments()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "cgi-bin/gettoken" in logged  # urllib3 did log the request lines, masked
    for secret in (APP_SECRET, "wrong-secret", token, code):
        for text in (logged, str(failed.value), str(reused.value), str(bad.value), repr(right), repr(right.config)):
            assert secret not in text


def test_unreachable_and_slow_vendors_fail_as_retryable(emulator, running):
    closed = WeComClient(WeComClientConfig(CORP_ID, APP_SECRET, AGENT_ID), base_url="http://127.0.0.1:9",
                         tokens=MemoryTokenCache())
    with pytest.raises(ConnectorError) as unreachable:
        closed.departments()
    assert unreachable.value.code == "OA_UNREACHABLE" and unreachable.value.retryable

    class Impatient(requests.Session):
        def request(self, *args, **kwargs):
            return super().request(*args, **{**kwargs, "timeout": 0.1})

    slow = WeComClient(WeComClientConfig(CORP_ID, APP_SECRET, AGENT_ID), base_url=running.url,
                       tokens=MemoryTokenCache(), session=Impatient(), clock=emulator.clock.now)
    emulator.faults.slow_seconds = 0.3
    with pytest.raises(ConnectorError) as timed_out:
        slow.departments()
    assert timed_out.value.code == "OA_TIMEOUT" and timed_out.value.retryable


def test_create_and_read_back_and_duplicates_are_not_deduplicated(client, emulator):
    first, second = create(client), create(client)
    assert first != second and len(first) == 12  # YYYYMMDD + sequence: the same request made two sheets
    sheet = client.get_approval(first)
    assert sheet["status"] == "pending" and not sheet["terminal"] and sheet["instance_id"] == first
    contents = sheet["raw"]["apply_data"]["contents"]
    assert contents[1]["value"] == {"new_money": "1280.50"}
    assert [r["details"][0]["approver"]["userid"] for r in sheet["raw"]["sp_record"]] == ["lisi", "wangwu"]


def test_the_client_reaches_every_status(client, emulator, running):
    def act(sp_no, action):
        return requests.post(f"{running.url}/_emulator/approvals/{sp_no}/{action}", json={}, timeout=5)

    approved, rejected, cancelled, own = create(client), create(client), create(client), create(
        client, approvers=[["wangwu"]])
    assert act(approved, "approve").json()["sp_status"] == 1  # lisi approved; wangwu's node is next
    assert act(approved, "approve").json()["sp_status"] == 2
    act(rejected, "reject")
    act(cancelled, "cancel")
    act(own, "approve")
    assert [client.get_approval(n)["status"] for n in (approved, rejected, cancelled, own)] == [
        "approved", "rejected", "cancelled", "approved"]
    assert act(approved, "cancel").json()["sp_status"] == 6  # 通过后撤销
    assert client.get_approval(approved)["status"] == "cancelled"
    assert act(rejected, "approve").status_code == 409


@pytest.mark.parametrize(("change", "fragment"), [
    (lambda c: c[1].update(value={"new_money": 1280.5}), "decimal string"),
    (lambda c: c[0].update(id="Text-999"), "does not match"),
    (lambda c: c[0].update(control="Textarea"), "does not match"),
    (lambda c: c[4]["value"].update(children=[]), "at least one row"),
    (lambda c: c[4]["value"]["children"][0]["list"].pop(), "has no value"),
    (lambda c: c.append({"control": "File", "id": "File-1640339319589",
                         "value": {"files": [{"file_id": str(n)} for n in range(7)]}}), "at most 6 files"),
    (lambda c: c.pop(1), "Money-1640339319583 has no value"),
    (lambda c: c[2]["value"]["date"].update(s_timestamp=1764547200), "s_timestamp as a string"),
])
def test_creation_is_validated_as_wecom_does_with_its_errmsg(client, change, fragment):
    contents = expense_contents()
    change(contents)
    with pytest.raises(ConnectorError) as refused:
        client.create_approval(user_id="zhangsan", template=TEMPLATE_ID, form=contents, summary=["x"])
    assert refused.value.code == "OA_BAD_REQUEST" and fragment in str(refused.value)
    assert refused.value.payload["vendor_code"] == 301025 and not refused.value.retryable
    files = {"control": "File", "id": "File-1640339319589", "value": {"files": [{"file_id": str(n)} for n in range(6)]}}
    assert create(client) and client.create_approval(user_id="zhangsan", template=TEMPLATE_ID,
                                                     form=[*expense_contents(), files], summary=["a", "b", "c"])


def test_summary_and_template_and_applicant_are_checked(client, emulator):
    with pytest.raises(ConnectorError, match="1 to 3 summary"):
        client.create_approval(user_id="zhangsan", template=TEMPLATE_ID, form=expense_contents(),
                               summary=["a", "b", "c", "d"])
    for applicant, template in (("nobody", TEMPLATE_ID), ("zhangsan", "no-such-template")):
        with pytest.raises(ConnectorError) as refused:
            client.create_approval(user_id=applicant, template=template, form=expense_contents(),
                                   summary=["a"])
        assert refused.value.code == "OA_BAD_REQUEST"
    with pytest.raises(TypeError):
        money("Money-1", 12.5)  # type: ignore[arg-type]


def test_reconciliation_pages_by_cursor_across_more_than_31_days(client, emulator):
    start = emulator.clock.now()
    for _ in range(3):
        create(client, applicant="zhaoliu")
    emulator.clock.advance(40 * 86400)
    mine = [create(client) for _ in range(102)]
    others = create(client, applicant="zhaoliu")
    found = client.approval_ids(TEMPLATE_ID, start - 10, creator="zhangsan")
    assert found == mine
    everyone = client.approval_ids(None, start - 10, emulator.clock.now() + 10)
    assert len(everyone) == 106 and others in everyone
    with pytest.raises(ConnectorError, match="31 days"):
        client._call("POST", "/cgi-bin/oa/getapprovalinfo", body={"starttime": "0", "endtime": str(32 * 86400)})


def test_application_messages_report_who_could_not_be_reached(emulator, running):
    client = WeComClient(WeComClientConfig(CORP_ID, APP_SECRET, str(AGENT_ID)), base_url=running.url,
                         tokens=MemoryTokenCache(), clock=emulator.clock.now)  # the agent id as settings give it
    requests.post(f"{running.url}/_emulator/users", json={"userid": "zhaoliu", "status": 2}, timeout=5)
    invalid = client.send_message(["lisi", "ghost", "zhaoliu"], "报销待审批 " * 30, "金额 1280.50 元",
                                  "https://budgetflow.example/sso/wecom?next=/inbox")
    assert invalid == ["ghost", "zhaoliu"]
    sent = emulator.messages[-1]
    assert sent["touser"] == ["lisi"] and sent["textcard"]["url"].startswith("https://budgetflow.example/")
    assert len(sent["textcard"]["title"].encode()) <= 128
    with pytest.raises(ConnectorError) as nobody:
        client.send_message(["ghost"], "t", "d", "https://x.example/")
    assert nobody.value.code == "OA_BAD_REQUEST"


def test_sign_in_codes_are_single_use_and_expire(client, emulator, running):
    code = requests.post(f"{running.url}/_emulator/oauth/code", json={"userid": "wangwu"}, timeout=5).json()["code"]
    assert client.user_for_code(code) == "wangwu"
    with pytest.raises(ConnectorError) as reused:
        client.user_for_code(code)
    assert reused.value.code == "OA_SSO_CODE_INVALID"
    late = emulator._issue_code({"userid": "wangwu"})
    emulator.clock.advance(301)
    with pytest.raises(ConnectorError, match="invalid, used or expired"):
        client.user_for_code(late)
    emulator.legacy_userinfo = True
    assert client.user_for_code(emulator._issue_code({"userid": "lisi"})) == "lisi"  # the legacy UserId key
    with pytest.raises(ConnectorError) as outsider:
        client.user_for_code(emulator._issue_code({"openid": "oAbc"}))
    assert outsider.value.code == "OA_SSO_UNKNOWN_USER"


def test_the_sign_in_page_redirects_back_with_a_code(emulator, running):
    client = WeComClient(WeComClientConfig(CORP_ID, APP_SECRET, AGENT_ID), base_url=running.url,
                         tokens=MemoryTokenCache(), clock=emulator.clock.now, sign_in_base_url=running.url)
    url = client.authorize_url("https://budgetflow.example/sso/wecom?next=/inbox", "s1")
    assert url.startswith(f"{running.url}/connect/oauth2/authorize?appid={CORP_ID}&") and "snsapi_base" in url
    picker = requests.get(url, timeout=5)
    assert "zhangsan" in picker.text and "wangwu" in picker.text  # the emulator's stand-in for WeCom's page
    answer = requests.get(url.split("#")[0] + "&userid=zhangsan", allow_redirects=False, timeout=5)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(
        "https://budgetflow.example/sso/wecom?next=/inbox&code=")
    location = requests.utils.urlparse(answer.headers["Location"])
    query = dict(pair.split("=") for pair in location.query.split("&"))
    assert query["state"] == "s1" and client.user_for_code(query["code"]) == "zhangsan"


def test_the_directory_follows_changes_made_in_the_oa(client, emulator, running):
    control = f"{running.url}/_emulator"
    assert {d["department_id"]: d["parent_id"] for d in client.departments()} == {"1": "0", "2": "1", "3": "1"}
    requests.post(f"{control}/departments", json={"id": 4, "name": "华东销售", "parentid": 3}, timeout=5)
    requests.post(f"{control}/departments", json={"id": 2, "name": "财务中心"}, timeout=5)
    requests.post(f"{control}/users", json={"userid": "sunqi", "name": "孙七", "department": [4]}, timeout=5)
    requests.post(f"{control}/users", json={"userid": "zhaoliu", "department": [4], "name": "赵六六"}, timeout=5)
    requests.post(f"{control}/users", json={"userid": "lisi", "status": 2}, timeout=5)
    departments = {d["department_id"]: d for d in client.departments()}
    assert departments["4"]["parent_id"] == "3" and departments["2"]["name"] == "财务中心"
    east = {u["user_id"]: u for u in client.users(4)}
    assert set(east) == {"sunqi", "zhaoliu"} and east["zhaoliu"]["name"] == "赵六六"
    assert east["zhaoliu"]["department_ids"] == ["4"] and east["sunqi"]["active"]
    finance = {u["user_id"]: u for u in client.users("2")}
    assert not finance["lisi"]["active"] and finance["wangwu"]["active"]
    assert finance["wangwu"]["position"] == "财务总监" and finance["lisi"]["status"] == 2  # WeCom's own fields too
    assert {u["user_id"] for u in client.users(3, with_subdepartments=True)} == {"zhangsan", "sunqi", "zhaoliu"}
    with pytest.raises(ConnectorError) as unknown:
        client.users(99)
    assert unknown.value.payload["vendor_code"] == 60123


@pytest.mark.parametrize("body", [
    {"creator_userid": "zhangsan", "template_id": TEMPLATE_ID, "apply_data": []},
    {"creator_userid": "zhangsan", "template_id": TEMPLATE_ID, "use_template_approver": 0, "approver": ["x"]},
    {"starttime": "1", "endtime": "2", "new_cursor": "not-a-cursor"},
    [1, 2, 3],
])
def test_a_body_of_the_wrong_shape_is_an_errcode_never_a_crash(client, running, body):
    for path in ("oa/applyevent", "oa/getapprovalinfo", "oa/getapprovaldetail"):
        answer = requests.post(f"{running.url}/cgi-bin/{path}", params={"access_token": client.access_token()},
                               json=body, timeout=5)
        assert answer.status_code == 200 and answer.json()["errcode"] != 0


@pytest.mark.parametrize(("status", "body", "code"), [
    (200, b"<html>portal login</html>", "OA_BAD_RESPONSE"),  # a captive proxy
    (200, b'{"errcode": 0, "errmsg": "ok"}', "OA_BAD_RESPONSE"),  # no access_token in it
    (502, b"bad gateway", "OA_UNAVAILABLE"),
])
def test_an_answer_that_is_not_wecoms_fails_as_retryable(_receiver_server, status, body, code):
    switch, served = _receiver_server
    switch.app = Response(body, status)
    client = WeComClient(WeComClientConfig(CORP_ID, APP_SECRET, AGENT_ID), base_url=served.url,
                         tokens=MemoryTokenCache())
    with pytest.raises(ConnectorError) as failed:
        client.departments()
    assert failed.value.code == code and failed.value.retryable


def test_40001_is_a_refused_token_on_a_call_and_a_refused_secret_on_gettoken(client, emulator, session):
    client.access_token()
    emulator.queued_errors.append(40001)
    assert client.departments()  # dropped the token, fetched another, retried
    assert gettoken_calls(session) == 2


def test_a_create_retried_with_its_key_answers_the_sheet_the_first_try_made(client, emulator):
    form = expense_contents()  # its Text control says 北京出差; the engine puts the document number there
    first = create(client)
    with pytest.raises(ConnectorError, match="Text control"):
        client.create_approval(user_id="zhangsan", template=TEMPLATE_ID, form=form, summary=["x"], key="BX-1")
    form[0]["value"]["text"] = "BX-2026-0042"
    keyed = client.create_approval(user_id="zhangsan", template=TEMPLATE_ID, form=form, summary=["x"],
                                   key="BX-2026-0042")
    assert keyed != first
    emulator.clock.advance(3600)  # the outbox retries an hour later, not knowing the first try got through
    again = client.create_approval(user_id="zhangsan", template=TEMPLATE_ID, form=form, summary=["x"],
                                   key="BX-2026-0042")
    assert again == keyed and len(emulator.instances) == 2
    other = client.create_approval(user_id="zhaoliu", template=TEMPLATE_ID, form=form, summary=["x"],
                                   key="BX-2026-0042")
    assert other not in (keyed, first) and len(emulator.instances) == 3  # another applicant's sheet is not it
