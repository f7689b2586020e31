"""notify/Send through the OA suites: a work notification with a link that signs the person in.

Who: the diagram's ``to`` (``lane:<lane>``, ``role:<role>`` or an employee code), or ``task:<guid>`` for the
notification of a task that opened (engine/services/task_opened.py), resolved to active employees. How: each
person once, through the first configured suite (by name) whose user id the data dictionary gives for them;
people no suite knows, or whom the suite refuses (not in its directory), are reported as unreachable, not
failed; a vendor that is busy or away fails the job, and the outbox retries it.
The link goes through ``/login/oa/<vendor>``, so a tap inside the OA app signs them in and opens the document.

Delivery is at least once: a vendor error the outbox retries may repeat a message already delivered through
another suite (DingTalk and WeCom offer no idempotency key for messages); a lost notification is worse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from connectors.base import ConnectorError
from connectors.oa.http import TokenCache
from engine.oa_settings import OaConnection
from engine.services.oa_clients import client_for

TEMPLATES = {  # template -> (title, text); OA messages are read in Chinese first, English after
    "approval_reminder": ("催办 Reminder: {document_no}",
                          "{document_no} 等待您审批已 {overdue}。"
                          "{document_no} has waited {overdue} for your approval."),
    "approval_overdue": ("审批超时 Approval overdue: {document_no}",
                         "{document_no} 的审批已超时，请处理。The approval of {document_no} is overdue."),
    "task_waiting": ("待办 To do: {document_no}", "{document_no} 等待您处理。{document_no} is waiting for you."),
    "task_opened": ("待办 To do: {document_no} · {task}",
                    "{document_no} 的「{task}」等待您处理。{task} of {document_no} is waiting for you."),
    "expense_claim_paid": ("已付款 Paid: {document_no}",
                           "{document_no} 已付款（凭证 {voucher_no}）。"
                           "{document_no} has been paid (voucher {voucher_no})."),
}
FALLBACK = ("budgetflow: {document_no}", "{document_no}: {template}")


@dataclass(frozen=True)
class OaNotifier:
    connections: Mapping[str, OaConnection]
    tokens: TokenCache
    public_url: str
    recipients: Callable[[str, str | None], list[str]]  # (to, document_no) -> active employee codes
    oa_ids: Callable[[list[str], str], dict[str, str]]  # (codes, vendor) -> employee code -> OA user id

    def send(self, params: Mapping[str, Any]) -> dict[str, Any]:
        document_no = str(params.get("document_no") or "")
        people = self.recipients(str(params.get("to") or ""), document_no or None)
        title, text = _render(params, document_no)
        waiting, via, refused = list(people), {}, {}
        for vendor, conn in sorted(self.connections.items()):
            ids = self.oa_ids(waiting, vendor)
            if not ids:
                continue
            try:
                client_for(conn, self.tokens).send_message(sorted(ids.values()), title, text,
                                                          self._link(vendor, document_no))
            except ConnectorError as exc:
                if exc.retryable:  # the vendor is busy or away: the outbox tries the whole notification again
                    raise
                refused[vendor] = exc.code  # e.g. none of them is in the vendor's directory: try the next suite
                continue
            via[vendor] = sorted(ids)
            waiting = [code for code in waiting if code not in ids]
        result: dict[str, Any] = {"sent": bool(via), "to": people, "via": via, "unreachable": waiting}
        if refused:
            result["refused"] = refused
        return result

    def _link(self, vendor: str, document_no: str) -> str:
        target = f"/documents/{quote(document_no)}" if document_no else "/inbox"
        return f"{self.public_url}/login/oa/{vendor}?{urlencode({'next': target})}"


def _render(params: Mapping[str, Any], document_no: str) -> tuple[str, str]:
    title, text = TEMPLATES.get(str(params.get("template")), FALLBACK)
    values = {"document_no": document_no, "overdue": params.get("overdue") or "-",
              "template": params.get("template") or "-", "task": params.get("task") or "-",
              "voucher_no": params.get("voucher_no") or "-"}
    return title.format(**values)[:120], text.format(**values)[:500]
