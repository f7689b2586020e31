"""``FeishuEmulator``: the routes, each to a method of the mixin that serves it (state in ``state.py``)."""

from __future__ import annotations

from typing import ClassVar

from werkzeug.routing import Rule

from connectors.emulators.feishu.actions import Actions
from connectors.emulators.feishu.approvals import Approvals
from connectors.emulators.feishu.directory import Directory
from connectors.emulators.feishu.messages import Messages
from connectors.emulators.feishu.oauth import OAuth
from connectors.emulators.feishu.page import Page


class FeishuEmulator(Approvals, Messages, OAuth, Directory, Actions, Page):
    rules: ClassVar[list[Rule]] = [
        Rule("/open-apis/auth/v3/tenant_access_token/internal", endpoint="tenant_token", methods=["POST"]),
        Rule("/open-apis/approval/v4/instances", endpoint="create_instance", methods=["POST"]),
        Rule("/open-apis/approval/v4/instances", endpoint="list_instances", methods=["GET"]),
        Rule("/open-apis/approval/v4/instances/<code>", endpoint="get_instance", methods=["GET"]),
        Rule("/open-apis/approval/v4/approvals/<approval_code>/subscribe", endpoint="subscribe", methods=["POST"]),
        Rule("/open-apis/im/v1/messages", endpoint="send_message", methods=["POST"]),
        Rule("/open-apis/authen/v1/authorize", endpoint="authorize", methods=["GET"]),
        Rule("/open-apis/authen/v2/oauth/token", endpoint="oauth_token", methods=["POST"]),
        Rule("/open-apis/authen/v1/user_info", endpoint="user_info", methods=["GET"]),
        Rule("/open-apis/contact/v3/departments/<department_id>/children", endpoint="department_children",
             methods=["GET"]),
        Rule("/open-apis/contact/v3/users/find_by_department", endpoint="users_by_department", methods=["GET"]),
        Rule("/_emulator/", endpoint="control_page", methods=["GET"]),
        Rule("/_emulator/callback", endpoint="control_callback", methods=["POST"]),
        Rule("/_emulator/instances/<code>/<action>", endpoint="control_act", methods=["POST"]),
        Rule("/_emulator/oauth/code", endpoint="control_oauth_code", methods=["POST"]),
        Rule("/_emulator/directory/users", endpoint="control_user", methods=["POST"]),
        Rule("/_emulator/directory/departments", endpoint="control_department", methods=["POST"]),
        Rule("/_emulator/messages", endpoint="control_messages", methods=["GET"]),
    ]
