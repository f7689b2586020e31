"""The emulator's answers in the vendors' shapes, asked with plain HTTP (no client of ours in between)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from decimal import Decimal
from typing import Any

import pytest
import requests

from connectors.emulators.yonyou import (
    APP_KEY,
    APP_SECRET,
    FROM_ACCOUNT,
    TENANT_ID,
    TO_ACCOUNT,
    U8_APP_KEY,
    U8_APP_SECRET,
    YonyouEmulator,
)
from connectors.emulators.yonyou.replies import encode

ADD = "/yonbip/fi/ficloud/openapi/voucher/addVoucher"
QUERY = "/yonbip/EFI/openapi/voucher/queryVouchers"
AMOUNT = Decimal("1200.00")


def yonbip_token(url: str) -> str:
    stamp = str(int(time.time() * 1000))
    signature = base64.b64encode(hmac.new(APP_SECRET.encode(), f"appKey{APP_KEY}timestamp{stamp}".encode(),
                                          hashlib.sha256).digest()).decode()
    gateway = requests.get(f"{url}/open-auth/dataCenter/getGatewayAddress", params={"tenantId": TENANT_ID},
                           timeout=5).json()
    assert gateway["code"] == "00000" and gateway["data"]["gatewayUrl"] == url
    answer = requests.get(f"{gateway['data']['tokenUrl']}/open-auth/selfAppAuth/base/v1/getAccessToken",
                          params={"appKey": APP_KEY, "timestamp": stamp, "signature": signature}, timeout=5).json()
    assert answer["code"] == "00000" and answer["data"]["expire"] == 7200
    return str(answer["data"]["access_token"])


def voucher(**changes: Any) -> dict[str, Any]:
    body = {"accbookCode": "BOOK01", "voucherTypeCode": "01", "period": "2026-09", "makeTime": "2026-09-11",
            "attachedBill": 2, "businessId": "EXP-20260911-0001", "srcSystemCode": "figl",
            "bodies": [{"accsubjectCode": "660201", "debitOriginal": AMOUNT, "debitOrg": AMOUNT,
                        "currencyCode": "CNY", "clientAuxiliaryList": [{"filedCode": "dept", "valueCode": "D01"}]},
                       {"accsubjectCode": "1002", "creditOriginal": AMOUNT, "creditOrg": AMOUNT}]}
    body.update(changes)
    return body


def add(url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = requests.post(url + ADD, params={"access_token": token}, data=encode(body), timeout=5)
    assert answer.status_code == 200
    return dict(answer.json(parse_float=Decimal))


def test_yonbip_accepts_the_documented_example(emulator: YonyouEmulator, url: str) -> None:
    answer = add(url, yonbip_token(url), voucher())
    assert answer["code"] == "200" and answer["data"]["voucherStatus"] == "01"
    [booked] = emulator.book.all()
    assert booked.voucher_no == answer["data"]["voucherId"] and booked.lines[0].dimension("department") == "D01"


def test_yonbip_refuses_a_voucher_without_a_book_in_its_documented_words(url: str) -> None:
    assert add(url, yonbip_token(url), voucher(accbookCode="")) == {
        "code": "404", "message": "凭证保存不成功,账簿code不能为空！"}


@pytest.mark.parametrize(("body", "message"), [
    ({"accsubjectCode": "999999", "debitOriginal": Decimal("1200.00")},
     "凭证保存不成功,bodies[0].accsubjectCode:科目编码[999999]不存在或已停用"),
    ({"accsubjectCode": "660201", "debitOriginal": Decimal("1200.00"), "creditOriginal": Decimal("5.00")},
     "凭证保存不成功,bodies[0]:借方和贷方必须且只能填写一方;借贷不平衡:借方合计1200.00,贷方合计1205.00"),
    ({"accsubjectCode": "660201", "debitOriginal": Decimal("1200.001")},
     "凭证保存不成功,bodies[0].debitOriginal:金额[1200.001]精度不能超过2位小数;"
     "借贷不平衡:借方合计1200.001,贷方合计1200.00"),
    ({"accsubjectCode": "660201", "debitOriginal": Decimal("1200.00"), "clientAuxiliaryList": [{"filedCode": "x"}]},
     "凭证保存不成功,bodies[0].clientAuxiliaryList:辅助核算项[x]不存在"),
])
def test_yonbip_names_the_body_field_of_each_refusal(url: str, body: dict[str, Any], message: str) -> None:
    bodies = [body, {"accsubjectCode": "1002", "creditOriginal": Decimal("1200.00")}]
    assert add(url, yonbip_token(url), voucher(bodies=bodies)) == {"code": "404", "message": message}


def test_yonbip_answers_a_repeated_business_id_naming_the_first_voucher(emulator: YonyouEmulator, url: str) -> None:
    token = yonbip_token(url)
    first = add(url, token, voucher())["data"]["voucherId"]
    assert add(url, token, voucher()) == {
        "code": "999", "message": f"凭证保存不成功,businessId[EXP-20260911-0001]已存在,凭证ID:{first}"}
    assert len(emulator.book.all()) == 1


def test_yonbip_platform_refusals(emulator: YonyouEmulator, url: str) -> None:
    assert requests.post(url + ADD, data=encode(voucher()), timeout=5).json()["code"] == "310001"
    assert requests.post(url + ADD, params={"access_token": "forged"}, data=encode(voucher()),
                         timeout=5).json() == {"code": "310036", "message": "非法token"}
    read = requests.post(url + QUERY, params={"access_token": "forged"}, json={}, timeout=5)
    assert read.headers["Content-Type"].startswith("text/plain") and read.text == "非法token"
    missing = requests.post(url + "/yonbip/nothing/here", timeout=5)
    assert missing.status_code == 404 and missing.json()["code"] == "310404"
    bad_key = requests.get(f"{url}/open-auth/selfAppAuth/base/v1/getAccessToken",
                           params={"appKey": "nobody", "timestamp": "1", "signature": "x"}, timeout=5)
    assert bad_key.json()["code"] == "10018"
    token = yonbip_token(url)
    emulator.faults.throttle_every = 1
    assert add(url, token, voucher())["code"] == "310039"
    emulator.faults.throttle_every = 0
    emulator.erp_faults.error_5xx_ratio = 1
    down = requests.post(url + ADD, params={"access_token": token}, data=encode(voucher()), timeout=5)
    assert down.status_code == 503 and down.json()["code"] == "503"
    assert emulator.book.all() == []


def test_yonbip_query_pages_and_refuses_oversized_pages(emulator: YonyouEmulator, url: str) -> None:
    token = yonbip_token(url)
    for n in range(5):
        add(url, token, voucher(businessId=f"K{n}"))
    page = requests.post(url + QUERY, params={"access_token": token}, json={
        "accbookCode": "BOOK01", "makeTimeStart": "2026-09-01", "makeTimeEnd": "2026-09-30", "pageIndex": 2,
        "pageSize": 2}, timeout=5).json()["data"]
    assert (page["pageCount"], page["recordCount"]) == (3, 5)
    assert [r["businessId"] for r in page["recordList"]] == ["K2", "K3"]
    assert page["recordList"][0]["bodies"][0]["debitOriginal"] == Decimal("1200.00")
    too_big = requests.post(url + QUERY, params={"access_token": token}, json={"pageSize": 501}, timeout=5).json()
    assert too_big["code"] == "999"


def u8_token(url: str) -> str:
    answer = requests.get(f"{url}/system/token", params={"from_account": FROM_ACCOUNT, "app_key": U8_APP_KEY,
                                                          "app_secret": U8_APP_SECRET}, timeout=5).json()
    assert answer["errcode"] == "0" and answer["token"]["expiresIn"] == 7200
    return str(answer["token"]["id"])


def u8_add(url: str, token: str, body: dict[str, Any], **params: str) -> requests.Response:
    query = {"from_account": FROM_ACCOUNT, "to_account": TO_ACCOUNT, "app_key": U8_APP_KEY, "token": token,
             "ds_sequence": "1", "biz_id": "10001", "sync": "1", **params}
    return requests.post(f"{url}/api/voucher/add", params=query, data=encode(body), timeout=5)


def u8_voucher(debit_account: str = "660201", **changes: Any) -> dict[str, Any]:
    body = {"voucher_type": "记", "fiscal_year": "2026", "accounting_period": "9", "date": "2026-09-11",
            "enter": "demo", "attachment_volume": 1, "voucher_making_system": "CDM", "reserve2": "10001",
            "debit": {"entry": [{"entry_id": 1, "account_code": debit_account, "abstract": "差旅费",
                                 "natural_debit_currency": Decimal("300.00"), "dept_id": "D01"}]},
            "credit": {"entry": [{"entry_id": 2, "account_code": "2241", "abstract": "应付",
                                  "natural_credit_currency": Decimal("300.00")}]}}
    body.update(changes)
    return {"voucher": body}


def test_u8_accepts_a_voucher_and_answers_the_same_voucher_for_its_biz_id(emulator: YonyouEmulator,
                                                                         url: str) -> None:
    token = u8_token(url)
    first = u8_add(url, token, u8_voucher()).json()
    assert first["errcode"] == "0" and first["id"] == emulator.book.all()[0].voucher_no and first["tradeid"]
    assert u8_add(url, token, u8_voucher()).json()["id"] == first["id"]
    assert len(emulator.book.all()) == 1


@pytest.mark.parametrize(("body", "params", "errmsg"), [
    (u8_voucher("999999"), {}, "凭证保存失败:第1行(account_code)科目编码[999999]不存在或已停用"),
    (u8_voucher(enter=""), {"ds_sequence": ""}, "凭证保存失败:(ds_sequence)账簿code不能为空！;(enter)制单人不能为空"),
    (u8_voucher(accounting_period="10"), {},
     "凭证保存失败:(accounting_period)会计期间[2026-10]与凭证日期[2026-09-11]不一致"),
    (u8_voucher(credit={"entry": [{"entry_id": 2, "account_code": "2241",
                                   "natural_credit_currency": Decimal("299.00")}]}), {},
     "凭证保存失败:借贷不平衡:借方合计300.00,贷方合计299.00"),
    (u8_voucher(credit={"entry": [{"entry_id": 2, "account_code": "2241",
                                   "natural_debit_currency": Decimal("300.00")}]}), {},
     "凭证保存失败:第2行(entry)借方和贷方必须且只能填写一方;借贷不平衡:借方合计600.00,贷方合计0"),
])
def test_u8_names_the_row_and_field_of_each_refusal(url: str, body: dict, params: dict, errmsg: str) -> None:
    answer = u8_add(url, u8_token(url), body, **params).json()
    assert answer == {"errcode": "20002", "errmsg": errmsg}


def test_u8_platform_refusals(emulator: YonyouEmulator, url: str) -> None:
    assert u8_add(url, "forged", u8_voucher()).json()["errcode"] == "30004"
    assert u8_add(url, "forged", u8_voucher(), app_key="nobody").json()["errcode"] == "30002"
    assert u8_add(url, "forged", u8_voucher(), to_account="nobody").json()["errcode"] == "30001"
    assert requests.get(f"{url}/system/token", params={"from_account": FROM_ACCOUNT, "app_key": U8_APP_KEY,
                                                       "app_secret": "wrong"}, timeout=5).json()["errcode"] == "30003"
    token = u8_token(url)
    emulator.erp_faults.error_5xx_ratio = 1
    down = u8_add(url, token, u8_voucher())
    assert down.status_code == 500 and down.json()["errcode"] == "99999"
    assert emulator.book.all() == []


def test_u8_batch_get_answers_one_row_per_entry_in_pages(emulator: YonyouEmulator, url: str) -> None:
    token = u8_token(url)
    for n in range(3):
        u8_add(url, token, u8_voucher(reserve2=f"X{n}"), biz_id=f"B{n}")
    query = {"from_account": FROM_ACCOUNT, "to_account": TO_ACCOUNT, "app_key": U8_APP_KEY, "token": token,
             "ds_sequence": "1", "date_begin": "2026-09-01", "date_end": "2026-09-30", "page_index": "2",
             "rows_per_page": "4"}
    page = requests.get(f"{url}/api/voucherdetails/batch_get", params=query, timeout=5).json()
    assert (page["errcode"], page["page_count"], page["row_count"]) == ("0", "2", "6")
    assert [(r["coutno_id"], r["inid"]) for r in page["voucherdetails"]] == [("X2", "1"), ("X2", "2")]
    assert page["voucherdetails"][0]["md"] == "300.00" and page["voucherdetails"][0]["cdept_id"] == "D01"
