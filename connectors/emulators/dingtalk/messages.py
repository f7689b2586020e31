"""Work notifications (``asyncsend_v2``): checked as DingTalk checks them, and kept for ``/_emulator/state``."""

from __future__ import annotations

import uuid

from werkzeug.wrappers import Request, Response

from connectors.emulators.base import json_response
from connectors.emulators.dingtalk.tokens import Tokens
from connectors.emulators.dingtalk.wire import legacy_error, read_json


class Messages(Tokens):
    def send_message(self, request: Request) -> Response:
        refused = self._legacy_guard(request)
        if refused:
            return refused
        body = read_json(request)
        if str(body.get("agent_id")) != str(self.agent_id):
            return legacy_error(88, "ding talk error[subcode=40004,submsg=不合法的agentid]")
        msg, userids = body.get("msg"), [u for u in str(body.get("userid_list", "")).split(",") if u]
        if not isinstance(msg, dict) or not msg.get("msgtype") or msg["msgtype"] not in msg:
            return legacy_error(40035, "缺少参数 msg 或 msgtype")
        if not userids and not body.get("dept_id_list") and not body.get("to_all_user"):
            return legacy_error(40035, "缺少参数 userid_list")
        with self.lock:
            self.messages.append({"task_id": len(self.messages) + 1000, "userids": userids, "msg": msg})
            task_id = self.messages[-1]["task_id"]
        return json_response({"errcode": 0, "errmsg": "ok", "task_id": task_id, "request_id": uuid.uuid4().hex})
