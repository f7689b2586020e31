"""The emulator answers in Kingdee's shapes: each refusal, the status steps, the query, the gateway and sessions."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import requests

from connectors.emulators.kingdee import ACCT_ID, APP_ID, APP_SECRET, SESSION_IDLE, USER_NAME
from connectors.kingdee import jsonwire
from tests.erp_vendors.kingdee.conftest import set_faults
from tests.erp_vendors.kingdee.support import SERVICE, model, signed_call, status_of

LOGIN = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.AuthService.LoginByAppSecret.common.kdsvc"


def save(running, **changes):
    return jsonwire.loads(signed_call(running.url, "Save", {"formid": "GL_VOUCHER", "data": {
        "Model": model(**changes)}}).content)


def errors_of(answer) -> list[tuple[str | None, int, str]]:
    return [(e["FieldName"], e["DIndex"], e["Message"]) for e in status_of(answer)["Errors"]]


def test_save_answers_the_new_vouchers_id_and_number_and_saves_the_same_body_twice(running, emulator):
    first, second = save(running), save(running)
    for answer in (first, second):
        status = status_of(answer)
        assert status["IsSuccess"] is True and status["Errors"] == [] and status["MsgCode"] == 0
    ids = [status_of(a)["SuccessEntitys"][0]["Id"] for a in (first, second)]
    assert ids[0] != ids[1] and len(emulator.book.all()) == 2  # Kingdee has no idempotency: two vouchers
    assert [v.reference for v in emulator.book.all()] == ["EC-T-1", "EC-T-1"]


def test_a_header_missing_its_required_fields_is_refused_field_by_field(running, emulator):
    answer = save(running, FAccountBookID={}, FDate="", FVOUCHERGROUPID={"FNumber": "PRE999"}, FEntity=[])
    status = status_of(answer)
    assert status["IsSuccess"] is False and status["ErrorCode"] == 500 and status["SuccessEntitys"] == []
    assert [e[0] for e in errors_of(answer)] == ["FAccountBookID", "FVOUCHERGROUPID", "FDate", "FEntity"]
    bare = model()
    del bare["FVOUCHERGROUPNO"], bare["FDocumentStatus"]
    answer = jsonwire.loads(signed_call(running.url, "Save", {"formid": "GL_VOUCHER", "data": {"Model": bare}}).content)
    assert [e[0] for e in errors_of(answer)] == ["FVOUCHERGROUPNO", "FDocumentStatus"]
    assert emulator.book.all() == []


def test_entry_refusals_name_the_field_and_the_entry_index(running, emulator):
    entries = model()["FEntity"]
    entries[1] = {**entries[1], "FACCOUNTID": {"FNumber": "9999"},
                  "FDetailID": {"FDETAILID__FFLEX99": {"FNumber": "x"}}}
    entries[0] = {**entries[0], "FCREDIT": Decimal("100.00"), "FCURRENCYID": {"FNumber": "XXX"}}
    answer = save(running, FEntity=entries)
    assert [(field, index) for field, index, _ in errors_of(answer)] == [
        ("FCURRENCYID", 0), ("FDEBIT", 0), ("FACCOUNTID", 1), ("FDETAILID__FFLEX99", 1)]
    assert "9999" in errors_of(answer)[2][2]


def test_unbalanced_sub_cent_and_closed_period_vouchers_are_refused(running, emulator):
    entries = model()["FEntity"]
    unbalanced = save(running, FEntity=[entries[0], {**entries[1], "FCREDIT": Decimal("99.99")}])
    assert [(f, m[:5]) for f, _, m in errors_of(unbalanced)] == [(None, "借贷不平衡")]
    sub_cent = save(running, FEntity=[{**entries[0], "FDEBIT": Decimal("100.001")}, entries[1]])
    assert [f for f, _, _ in errors_of(sub_cent)] == ["FDEBIT"]
    emulator.closed_through = date(2026, 9, 30)
    assert [f for f, _, _ in errors_of(save(running))] == ["FDate"]
    assert emulator.book.all() == []


def test_the_status_runs_saved_submitted_audited_and_audit_needs_a_submit(running, emulator):
    voucher_id = status_of(save(running))["SuccessEntitys"][0]["Id"]
    ids = {"formid": "GL_VOUCHER", "data": {"Ids": str(voucher_id)}}

    def step(op):
        return status_of(jsonwire.loads(signed_call(running.url, op, ids).content))

    early = step("Audit")
    assert early["IsSuccess"] is False and "未提交" in early["Errors"][0]["Message"]
    assert step("Submit")["IsSuccess"] == "true"  # the text form of success
    assert step("Delete")["IsSuccess"] is False  # a submitted voucher is not deleted
    assert step("CancelAssign")["IsSuccess"] == "true" and step("Submit")["IsSuccess"] == "true"
    audited = step("Audit")
    assert audited["IsSuccess"] == "true" and audited["SuccessEntitys"][0]["Id"] == voucher_id
    assert emulator.book.all()[0].status == "audited"
    assert step("Delete")["IsSuccess"] is False and len(emulator.book.all()) == 1


def test_execute_bill_query_answers_rows_and_wraps_its_errors_in_two_lists(running, emulator):
    save(running)
    body = {"data": {"FormId": "GL_VOUCHER", "FieldKeys": "FBillNo,FACCOUNTID.FNumber,FDEBIT,FDETAILID__FFLEX5.FNumber",
                     "FilterString": "FEXPLANATION like '#EC[-]T_1 %' and FDate >= '2026-09-11'",
                     "StartRow": 1, "Limit": 1}}
    rows = jsonwire.loads(signed_call(running.url, "ExecuteBillQuery", body).content)
    assert rows == [["GLV00000001", "2241", Decimal("0.00"), None]]
    body["data"]["FieldKeys"] = "FNoSuchField"
    [[wrapped]] = jsonwire.loads(signed_call(running.url, "ExecuteBillQuery", body).content)
    assert status_of(wrapped)["IsSuccess"] is False and "FNoSuchField" in status_of(wrapped)["Errors"][0]["Message"]


def test_the_gateway_refuses_stale_timestamps_and_wrong_secrets_with_http_519(running):
    stale = signed_call(running.url, "Save", {}, timestamp=int(time.time()) - 13 * 60)
    assert stale.status_code == 519 and stale.json()["errcode"] == 100002
    wrong = signed_call(running.url, "Save", {}, app_secret="not-the-secret")
    assert wrong.status_code == 519 and wrong.json()["errcode"] == 100001


def test_sessions_log_in_and_expire_when_idle(running, emulator):
    url = running.url
    refused = requests.post(url + LOGIN, json={"acctID": ACCT_ID, "username": USER_NAME, "appId": APP_ID,
                                               "appSecret": "wrong", "lcid": 2052}, timeout=5).json()
    assert refused["LoginResultType"] == 0 and "KDSVCSessionId" not in refused
    login = requests.post(url + LOGIN, json={"parameters": [ACCT_ID, USER_NAME, APP_ID, APP_SECRET, 2052]}, timeout=5)
    session_id = login.json()["KDSVCSessionId"]
    assert login.json()["LoginResultType"] == 1 and login.cookies["kdservice-sessionid"] == session_id
    query = {"data": {"FormId": "GL_VOUCHER", "FieldKeys": "FBillNo"}}
    path = url + SERVICE.format(op="ExecuteBillQuery")
    assert requests.post(path, json=query, headers={"kdservice-sessionid": session_id}, timeout=5).json() == []
    emulator.clock.advance(SESSION_IDLE + 1)
    [[lost]] = requests.post(path, json=query, headers={"kdservice-sessionid": session_id}, timeout=5).json()
    assert status_of(lost)["MsgCode"] == 1 and status_of(lost)["IsSuccess"] is False


def test_a_server_error_is_http_500_with_a_response_status(running, emulator):
    set_faults(running, error_5xx_ratio=1)
    failed = signed_call(running.url, "Save", {"formid": "GL_VOUCHER", "data": {"Model": model()}})
    assert failed.status_code == 500 and status_of(failed.json())["IsSuccess"] is False
    assert emulator.book.all() == []
