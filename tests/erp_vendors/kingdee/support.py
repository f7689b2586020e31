"""Vouchers to post, and a raw signed call for the emulator's own tests."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from typing import Any

import requests

from connectors.emulators.kingdee import ACCT_ID, APP_ID, APP_SECRET, USER_NAME
from connectors.erp import VoucherDraft, VoucherLine
from connectors.kingdee import jsonwire
from connectors.kingdee.signing import signed_headers

SERVICE = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.{op}.common.kdsvc"
DAY = date(2026, 9, 11)


def travel_claim(key: str, amount: str = "1280.50", *, account: str = "6602.02", when: date = DAY,
                 currency: str = "CNY", rate: str = "1") -> VoucherDraft:
    """Travel expense net of deductible VAT, the VAT on its own line, the employee payable on the credit side."""
    total, vat = Decimal(amount), Decimal("72.48")
    return VoucherDraft(key, currency, (
        VoucherLine(account, total - vat, Decimal(0), "差旅费", (("cost_center", "CC10"), ("department", "D01"))),
        VoucherLine("2221.01.01", vat, Decimal(0), "进项税额", ()),
        VoucherLine("2241", Decimal(0), total, "", (("employee", "E0042"),)),
    ), when, summary=f"报销 {key} 张伟 差旅费", attachments=3, exchange_rate=Decimal(rate))


def signed_call(base_url: str, op: str, body: dict[str, Any], *, app_secret: str = APP_SECRET,
                timestamp: int | None = None) -> requests.Response:
    path = SERVICE.format(op=op)
    headers = signed_headers(path, app_id=APP_ID, app_secret=app_secret, acct_id=ACCT_ID, user_name=USER_NAME,
                             lcid=2052, org_num=0, timestamp=int(time.time()) if timestamp is None else timestamp)
    return requests.post(base_url + path, data=jsonwire.dumps(body).encode(), timeout=5,
                         headers={**headers, "Content-Type": "application/json"})


def model(**changes: Any) -> dict[str, Any]:
    """A valid two-line Save model (100.00 travel expense against the payable), with ``changes`` applied."""
    entry = {"FEXPLANATION": "#EC-T-1 差旅费", "FACCOUNTID": {"FNumber": "6602.02"},
             "FCURRENCYID": {"FNumber": "PRE001"}, "FEXCHANGERATETYPE": {"FNumber": "HLTX01_SYS"},
             "FEXCHANGERATE": 1}
    return {"FAccountBookID": {"FNumber": "001"}, "FDate": "2026-09-11", "FVOUCHERGROUPID": {"FNumber": "PRE001"},
            "FVOUCHERGROUPNO": "", "FATTACHMENTS": 1, "FDocumentStatus": "",
            "FEntity": [{**entry, "FDEBIT": Decimal("100.00"), "FCREDIT": 0},
                        {**entry, "FACCOUNTID": {"FNumber": "2241"}, "FDEBIT": 0, "FCREDIT": Decimal("100.00")}],
            **changes}


def status_of(answer: Any) -> dict[str, Any]:
    return dict(answer["Result"]["ResponseStatus"])
