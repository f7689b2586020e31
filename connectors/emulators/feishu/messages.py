"""Messages: the send API (text, post or card to a user id) and ``GET /_emulator/messages`` to see them."""

from __future__ import annotations

import json
import uuid

from werkzeug.wrappers import Request, Response

from connectors.emulators.base import json_response
from connectors.emulators.feishu.auth import TenantAuth
from connectors.emulators.feishu.replies import error, ok, read_body


class Messages(TenantAuth):
    def send_message(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused:
            return refused
        body = read_body(request)
        id_type, receive_id = request.args.get("receive_id_type"), str(body.get("receive_id", ""))
        if id_type not in ("user_id", "open_id"):  # Feishu also takes union_id, email and chat_id
            return error(99992402, "field validation failed: receive_id_type")
        with self.lock:
            person = self.people.get(receive_id) if id_type == "user_id" else next(
                (p for p in self.people.values() if p.open_id == receive_id), None)
        if person is None or not person.active:
            return error(230013, "Bot has NO availability to this user.")
        content = body.get("content")
        if body.get("msg_type") not in {"text", "post", "interactive"} or not isinstance(content, str):
            return error(230001, "Your request contains an invalid request parameter.")
        try:
            json.loads(content)
        except ValueError:
            return error(230001, "Your request contains an invalid request parameter: content is not JSON.")
        message = {"message_id": "om_" + uuid.uuid4().hex, "msg_type": body["msg_type"], "receive_id":
                   person.user_id, "create_time": str(int(self.clock.now() * 1000)), "body": {"content": content}}
        with self.lock:  # kept with how the sender named the person, for /_emulator/messages; not in the answer
            self.messages.append({**message, "receive_id_type": id_type, "open_id": person.open_id})
        return ok(message)

    def control_messages(self, request: Request) -> Response:
        with self.lock:
            return json_response({"messages": list(self.messages)})
