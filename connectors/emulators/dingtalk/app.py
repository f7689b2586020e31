"""The DingTalk emulator: its routes, each served by the part of the package that owns that idea."""

from __future__ import annotations

from werkzeug.routing import Rule

from connectors.emulators.dingtalk.approver import Approver
from connectors.emulators.dingtalk.directory import Directory
from connectors.emulators.dingtalk.messages import Messages
from connectors.emulators.dingtalk.page import LookingIn
from connectors.emulators.dingtalk.signin import SignIn


class DingTalkEmulator(Approver, LookingIn, Messages, SignIn, Directory):
    rules = [
        Rule("/v1.0/oauth2/accessToken", endpoint="new_token", methods=["POST"]),
        Rule("/gettoken", endpoint="legacy_token", methods=["GET"]),
        Rule("/v1.0/workflow/processInstances", endpoint="create_instance", methods=["POST"]),
        Rule("/v1.0/workflow/processInstances", endpoint="get_instance", methods=["GET"]),
        Rule("/topapi/processinstance/listids", endpoint="list_instance_ids", methods=["POST"]),
        Rule("/topapi/message/corpconversation/asyncsend_v2", endpoint="send_message", methods=["POST"]),
        Rule("/topapi/v2/user/getuserinfo", endpoint="user_for_code", methods=["POST"]),
        Rule("/oauth2/auth", endpoint="web_authorize", methods=["GET"]),
        Rule("/v1.0/oauth2/userAccessToken", endpoint="web_user_token", methods=["POST"]),
        Rule("/v1.0/contact/users/me", endpoint="web_me", methods=["GET"]),
        Rule("/topapi/user/getbyunionid", endpoint="userid_for_unionid", methods=["POST"]),
        Rule("/topapi/v2/department/listsub", endpoint="list_departments", methods=["POST"]),
        Rule("/topapi/v2/department/get", endpoint="get_department", methods=["POST"]),
        Rule("/topapi/v2/user/list", endpoint="list_users", methods=["POST"]),
        Rule("/topapi/v2/user/get", endpoint="get_user", methods=["POST"]),
        Rule("/_emulator/", endpoint="control_page", methods=["GET"]),
        Rule("/_emulator/state", endpoint="control_state", methods=["GET"]),
        Rule("/_emulator/callback", endpoint="control_callback", methods=["POST"]),
        Rule("/_emulator/redeliver", endpoint="control_redeliver", methods=["POST"]),
        Rule("/_emulator/instances/<instance_id>/<action>", endpoint="control_act", methods=["POST"]),
        Rule("/_emulator/oauth/code", endpoint="control_code", methods=["POST"]),
        Rule("/_emulator/users", endpoint="control_user", methods=["POST"]),
        Rule("/_emulator/users/<userid>/leave", endpoint="control_leave", methods=["POST"]),
        Rule("/_emulator/departments", endpoint="control_department", methods=["POST"]),
    ]
