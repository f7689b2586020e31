"""``message/send``: application messages, kept for tests; unknown or disabled users come back in
``invaliduser``."""

from __future__ import annotations

import secrets

from werkzeug.wrappers import Request, Response

from connectors.emulators.wecom.access import Access
from connectors.emulators.wecom.replies import Invalid, ok
from connectors.emulators.wecom.validation import check_textcard


class Messages(Access):
    """The application message endpoint."""

    def message_send(self, request: Request) -> Response:
        return self._api(request, self._message_send)

    def _message_send(self, request: Request, agent_id: int) -> Response:
        body = self._body(request)
        if not isinstance(body.get("agentid"), int) or isinstance(body.get("agentid"), bool):
            raise Invalid(40056, "invalid agentid")  # an integer, says WeCom's reference
        if body["agentid"] != agent_id:
            raise Invalid(301002, "not allow operate another agent with this accesstoken")
        msgtype = body.get("msgtype")
        content = body.get(str(msgtype))
        if msgtype not in ("text", "textcard", "markdown", "news") or not isinstance(content, dict):
            raise Invalid(40008, "invalid message type")
        if msgtype == "textcard":
            check_textcard(content)
        wanted = [u for u in str(body.get("touser", "")).split("|") if u]
        if wanted == ["@all"]:
            wanted = [u for u, user in self.users.items() if user["status"] == 1]
        valid = [u for u in wanted if self.users.get(u, {}).get("status") == 1]
        invalid = [u for u in wanted if u not in valid]
        if not valid:
            raise Invalid(81013, "user & party & tag all invalid")
        msgid = secrets.token_urlsafe(24)
        with self.lock:
            self.messages.append({"msgid": msgid, "touser": valid, "msgtype": msgtype, msgtype: content,
                                  "agentid": agent_id, "sent_at": self.clock.now()})
        return ok(invaliduser="|".join(invalid), invalidparty="", invalidtag="", unlicenseduser="", msgid=msgid)
