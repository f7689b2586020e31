"""wechatpy's enterprise client, pointed at the emulator, speaks to it without error: the emulator answers
WeCom's shapes, not only our client's."""

from __future__ import annotations

import pytest
import requests
from wechatpy.enterprise import WeChatClient

from connectors.emulators.wecom import AGENT_ID, APP_SECRET, CORP_ID, TEMPLATE_ID
from tests.oa_vendors.wecom.support import expense_contents

# wechatpy's API helpers go through its own deprecated _get/_post
pytestmark = pytest.mark.filterwarnings("ignore:`_(get|post)` method of `WeChatClient` is deprecated")


class EmulatedWeChatClient(WeChatClient):
    """wechatpy's client with the emulator's address where WeCom's would be."""

    def __init__(self, base_url: str, corp_id: str, secret: str) -> None:
        self.API_BASE_URL = f"{base_url}/cgi-bin/"
        super().__init__(corp_id, secret)

    def fetch_access_token(self):
        return self._fetch_access_token(url=f"{self.API_BASE_URL}gettoken",
                                        params={"corpid": self.corp_id, "corpsecret": self.secret})


@pytest.fixture
def sdk(running) -> EmulatedWeChatClient:
    return EmulatedWeChatClient(running.url, CORP_ID, APP_SECRET)


def test_wechatpy_fetches_a_token_submits_an_approval_and_reads_it_back(sdk, emulator):
    token = sdk.fetch_access_token()
    assert token["errcode"] == 0 and token["expires_in"] == 7200
    summary = [{"summary_info": [{"text": "差旅报销 1280.50 元", "lang": "zh_CN"}]}]
    submitted = sdk.OA.apply_event("zhangsan", TEMPLATE_ID, 1, None, {"contents": expense_contents()}, summary)
    sp_no = submitted["sp_no"]
    detail = sdk.OA.get_approval_detail(sp_no)["info"]
    assert detail["sp_no"] == sp_no and detail["sp_status"] == 1 and detail["template_id"] == TEMPLATE_ID
    assert detail["applyer"]["userid"] == "zhangsan"
    now = int(emulator.clock.now())
    listed = sdk.OA.get_approval_info(now - 60, now + 60, 0)  # wechatpy's older cursor/filter shape
    assert listed["sp_no_list"] == [sp_no] and listed["next_cursor"] == 0
    template = sdk.OA.get_template_detail(TEMPLATE_ID)
    assert {c["property"]["id"] for c in template["template_content"]["controls"]} >= {"Money-1640339319583"}


def test_wechatpy_sends_a_card_signs_someone_in_and_reads_the_directory(sdk, emulator, running):
    sent = sdk.message.send_text_card(AGENT_ID, ["lisi"], "报销待审批", "金额 1280.50 元", "https://budgetflow.example/")
    assert sent["errcode"] == 0 and emulator.messages[-1]["touser"] == ["lisi"]
    code = requests.post(f"{running.url}/_emulator/oauth/code", json={"userid": "lisi"}, timeout=5).json()["code"]
    assert sdk.oauth.get_user_info(code)["UserId"] == "lisi"  # wechatpy uses the legacy path
    assert {d["id"] for d in sdk.department.get()} == {1, 2, 3}
    assert [u["userid"] for u in sdk.user.list(2)] == ["lisi", "wangwu"]


def test_wechatpy_refreshes_an_expired_token_by_itself(sdk, emulator):
    sdk.fetch_access_token()
    emulator.faults.expire_tokens = True
    emulator.clock.advance(7201)
    assert {d["id"] for d in sdk.department.get()} == {1, 2, 3}
