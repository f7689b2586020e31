"""Kingdee's own Python SDK (``k3cloud_webapi_sdk``, test-only) works against the emulator, and our signed
headers are the SDK's: the emulator checks what the vendor's client sends, not only what ours does."""

from __future__ import annotations

import json

import pytest
from k3cloud_webapi_sdk.main import K3CloudApiSdk

from connectors.emulators.kingdee import ACCT_ID, APP_ID, APP_SECRET, USER_NAME
from connectors.kingdee.signing import signed_headers
from tests.erp_vendors.kingdee.support import model


@pytest.fixture
def sdk(running) -> K3CloudApiSdk:
    api = K3CloudApiSdk(running.url + "/k3cloud", timeout=10)
    api.InitConfig(ACCT_ID, USER_NAME, APP_ID, APP_SECRET, running.url + "/k3cloud", connect_timeout=5,
                   request_timeout=10)
    return api


def test_the_sdk_logs_in_saves_submits_and_audits_a_voucher(sdk, emulator):
    login = json.loads(sdk.Execute("Kingdee.BOS.WebApi.ServicesStub.AuthService.LoginByAppSecret", {
        "acctID": ACCT_ID, "username": USER_NAME, "appId": APP_ID, "appSecret": APP_SECRET, "lcid": 2052}))
    assert login["LoginResultType"] == 1 and sdk.cookiesStore.SID == login["KDSVCSessionId"]
    saved = json.loads(sdk.Save("GL_VOUCHER", {"Model": json.loads(json.dumps(model(), default=str))}))
    [entity] = saved["Result"]["ResponseStatus"]["SuccessEntitys"]
    for step in (sdk.Submit, sdk.Audit):
        answer = json.loads(step("GL_VOUCHER", {"Ids": str(entity["Id"])}))
        assert answer["Result"]["ResponseStatus"]["IsSuccess"] == "true", answer
    rows = json.loads(sdk.ExecuteBillQuery({"FormId": "GL_VOUCHER", "FieldKeys": "FBillNo,FDocumentStatus"}))
    assert rows == [[entity["Number"], "C"]] * 2 and emulator.book.all()[0].status == "audited"


def test_our_signed_headers_are_the_sdks(sdk, running):
    url = f"{running.url}/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc"
    theirs = sdk.BuildHeader(url)
    ours = signed_headers("/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc",
                          app_id=APP_ID, app_secret=APP_SECRET, acct_id=ACCT_ID, user_name=USER_NAME, lcid=2052,
                          org_num=0, timestamp=int(theirs["x-api-timestamp"]))
    assert ours == {key: theirs[key] for key in ours}
