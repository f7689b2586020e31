"""``WeComEmulator``: the routes WeCom serves (and the emulator's own), each to the mixin method that answers it."""

from __future__ import annotations

from werkzeug.routing import Rule

from connectors.emulators.wecom.approvals import Approvals
from connectors.emulators.wecom.control import Control
from connectors.emulators.wecom.directory import Directory
from connectors.emulators.wecom.messages import Messages
from connectors.oa.http import redact_secret_params

redact_secret_params("werkzeug")  # the served requests' log lines carry the token, secret or code in the query


class WeComEmulator(Approvals, Messages, Directory, Control):
    """One WeCom corp with one self-built app, an expense template and a small directory."""

    rules = [
        Rule("/cgi-bin/gettoken", endpoint="gettoken", methods=["GET"]),
        Rule("/cgi-bin/oa/applyevent", endpoint="applyevent", methods=["POST"]),
        Rule("/cgi-bin/oa/getapprovaldetail", endpoint="getapprovaldetail", methods=["POST"]),
        Rule("/cgi-bin/oa/getapprovalinfo", endpoint="getapprovalinfo", methods=["POST"]),
        Rule("/cgi-bin/oa/gettemplatedetail", endpoint="gettemplatedetail", methods=["POST"]),
        Rule("/cgi-bin/message/send", endpoint="message_send", methods=["POST"]),
        Rule("/cgi-bin/auth/getuserinfo", endpoint="auth_getuserinfo", methods=["GET"]),
        Rule("/cgi-bin/user/getuserinfo", endpoint="legacy_getuserinfo", methods=["GET"]),
        Rule("/cgi-bin/department/list", endpoint="department_list", methods=["GET"]),
        Rule("/cgi-bin/user/list", endpoint="user_list", methods=["GET"]),
        Rule("/cgi-bin/user/get", endpoint="user_get", methods=["GET"]),
        Rule("/connect/oauth2/authorize", endpoint="oauth_authorize", methods=["GET"]),
        Rule("/_emulator/", endpoint="control_page", methods=["GET"]),
        Rule("/_emulator/state", endpoint="control_state", methods=["GET"]),
        Rule("/_emulator/callback", endpoint="control_callback", methods=["POST"]),
        Rule("/_emulator/callback/release", endpoint="control_release", methods=["POST"]),
        Rule("/_emulator/approvals/<sp_no>/<action>", endpoint="control_act", methods=["POST"]),
        Rule("/_emulator/oauth/code", endpoint="control_code", methods=["POST"]),
        Rule("/_emulator/users", endpoint="control_user", methods=["POST"]),
        Rule("/_emulator/departments", endpoint="control_department", methods=["POST"]),
    ]
