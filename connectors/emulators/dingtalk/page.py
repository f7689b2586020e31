"""Looking in: ``GET /_emulator/state`` (JSON) and ``GET /_emulator/`` (a page with approve/reject/cancel buttons)."""

from __future__ import annotations

import html

from werkzeug.wrappers import Request, Response

from connectors.emulators.base import json_response
from connectors.emulators.dingtalk.approvals import Approvals


class LookingIn(Approvals):
    def control_state(self, request: Request) -> Response:
        with self.lock:
            return json_response({"instances": [self._instance_view(i) | {"processInstanceId": i.id}
                                                for i in self.instances.values()],
                                  "messages": self.messages, "deliveries": self.deliveries,
                                  "token_requests": self.token_requests})

    def control_page(self, request: Request) -> Response:
        rows = []
        with self.lock:
            for instance in self.instances.values():
                buttons = "".join(
                    f'<form method="post" action="/_emulator/instances/{html.escape(instance.id)}/{a}" '
                    f'style="display:inline"><button>{a}</button></form>'
                    for a in ("approve", "reject", "cancel")) if instance.status == "RUNNING" else ""
                rows.append(f"<tr><td>{html.escape(instance.id)}</td><td>{html.escape(instance.title)}</td>"
                            f"<td>{instance.status} {instance.result}</td><td>{buttons}</td></tr>")
        page = ("<!doctype html><meta charset=utf-8><title>DingTalk emulator</title><h1>钉钉 approvals</h1>"
                f"<table border=1><tr><th>id</th><th>title</th><th>status</th><th></th></tr>{''.join(rows)}</table>")
        return Response(page, content_type="text/html; charset=utf-8")
