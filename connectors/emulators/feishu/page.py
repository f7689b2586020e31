"""``GET /_emulator/``: an HTML page listing the approval instances, with approve / reject buttons."""

from __future__ import annotations

import html

from werkzeug.wrappers import Request, Response

from connectors.emulators.feishu.state import FeishuState


class Page(FeishuState):
    def control_page(self, request: Request) -> Response:
        with self.lock:
            rows = "".join(
                f"<tr><td>{html.escape(code)}</td><td>{html.escape(i['user_id'])}</td>"
                f"<td>{html.escape(i['status'])}</td><td>{self._buttons(code) if i['status'] == 'PENDING' else ''}"
                "</td></tr>" for code, i in self.instances.items())
        script = ("<script>for (const b of document.querySelectorAll('button')) b.onclick = () => fetch(b.dataset.to,"
                  " {method: 'POST', body: '{}'}).then(() => location.reload());</script>")
        return Response("<!doctype html><title>Feishu emulator</title><h1>Approval instances</h1><table>"
                        f"<tr><th>Instance</th><th>Applicant</th><th>Status</th><th></th></tr>{rows}</table>{script}",
                        content_type="text/html; charset=utf-8")

    @staticmethod
    def _buttons(code: str) -> str:
        quoted = html.escape(code)
        return "".join(f'<button data-to="/_emulator/instances/{quoted}/{action}">{action}</button>'
                       for action in ("approve", "reject"))
