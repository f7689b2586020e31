"""DingTalk's official SDK (alibabacloud-dingtalk, test-only) pointed at the emulator: a token, an approval created
and read back, and the vendor's error shapes as the SDK reads them.

The SDK is pointed at loopback through its ``Config``: ``endpoint`` is ``host:port`` (it becomes the Host header
and the URL's authority) and ``protocol='http'`` (the default is https).
"""

from __future__ import annotations

import pytest
import requests
from alibabacloud_dingtalk.contact_1_0 import models as contact_models
from alibabacloud_dingtalk.contact_1_0.client import Client as ContactClient
from alibabacloud_dingtalk.oauth2_1_0 import models as oauth_models
from alibabacloud_dingtalk.oauth2_1_0.client import Client as OAuthClient
from alibabacloud_dingtalk.workflow_1_0 import models as workflow_models
from alibabacloud_dingtalk.workflow_1_0.client import Client as WorkflowClient
from alibabacloud_tea_openapi import models as openapi_models
from alibabacloud_tea_util import models as util_models
from Tea.exceptions import TeaException

Approvers = workflow_models.StartProcessInstanceRequestApprovers
Component = workflow_models.StartProcessInstanceRequestFormComponentValues


def sdk_config(running):
    return openapi_models.Config(endpoint=running.url.removeprefix("http://"), protocol="http")


def sdk_token(running, emulator, secret=None):
    request = oauth_models.GetAccessTokenRequest(app_key=emulator.app_key, app_secret=secret or emulator.app_secret)
    return OAuthClient(sdk_config(running)).get_access_token(request)


def test_the_sdk_fetches_a_token_creates_an_approval_and_reads_it_back(emulator, running):
    token = sdk_token(running, emulator)
    assert token.status_code == 200 and token.body.expire_in == 7200 and token.body.access_token
    assert sdk_token(running, emulator).body.access_token == token.body.access_token  # the same, extended

    workflow = WorkflowClient(sdk_config(running))
    start = workflow_models.StartProcessInstanceRequest(
        originator_user_id="sales01", process_code="PROC-BUDGETFLOW-EXPENSE", dept_id=3,
        approvers=[Approvers(action_type="NONE", user_ids=["manager01"])],
        form_component_values=[Component(name="金额(元)", value="1200.00"), Component(name="事由", value="差旅")])
    created = workflow.start_process_instance_with_options(
        start, workflow_models.StartProcessInstanceHeaders(x_acs_dingtalk_access_token=token.body.access_token),
        util_models.RuntimeOptions())
    instance_id = created.body.instance_id
    assert instance_id in emulator.instances

    requests.post(f"{running.url}/_emulator/instances/{instance_id}/approve", json={}, timeout=10)
    read = workflow.get_process_instance_with_options(
        workflow_models.GetProcessInstanceRequest(process_instance_id=instance_id),
        workflow_models.GetProcessInstanceHeaders(x_acs_dingtalk_access_token=token.body.access_token),
        util_models.RuntimeOptions())
    result = read.body.result
    assert read.body.success and (result.status, result.result) == ("COMPLETED", "agree")
    assert {c.name: c.value for c in result.form_component_values} == {"金额(元)": "1200.00", "事由": "差旅"}
    assert result.tasks[0].user_id == "manager01" and isinstance(result.tasks[0].task_id, int)
    assert result.operation_records[-1].result == "AGREE" and result.business_id


def test_the_sdk_reads_the_vendor_error_shapes(emulator, running):
    with pytest.raises(TeaException) as bad_secret:
        sdk_token(running, emulator, secret="wrong")
    assert bad_secret.value.code == "invalidClientIdOrSecret"
    workflow = WorkflowClient(sdk_config(running))
    with pytest.raises(TeaException) as bad_token:
        workflow.get_process_instance_with_options(
            workflow_models.GetProcessInstanceRequest(process_instance_id="x"),
            workflow_models.GetProcessInstanceHeaders(x_acs_dingtalk_access_token="not-a-token"),
            util_models.RuntimeOptions())
    assert bad_token.value.code == "InvalidAuthentication" and bad_token.value.data["statusCode"] == 400


def test_the_sdk_completes_the_browser_sign_in_against_the_emulator(emulator, running):
    """The browser sign-in's two new-API calls as the SDK makes them: authCode → the person's token → unionId."""
    code = requests.post(f"{running.url}/_emulator/oauth/code", json={"user_id": "finance01", "web": True},
                         timeout=10).json()["code"]
    person = OAuthClient(sdk_config(running)).get_user_token(oauth_models.GetUserTokenRequest(
        client_id=emulator.app_key, client_secret=emulator.app_secret, code=code, grant_type="authorization_code"))
    assert person.body.expire_in == 7200 and person.body.corp_id == emulator.corp_id
    me = ContactClient(sdk_config(running)).get_user_with_options(
        "me", contact_models.GetUserHeaders(x_acs_dingtalk_access_token=person.body.access_token),
        util_models.RuntimeOptions())
    assert me.body.union_id == emulator.users["finance01"]["unionid"] and me.body.nick == "李会计"
