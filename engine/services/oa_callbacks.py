"""An OA callback, from the HTTP request to the stored event: check it, store it once, answer the vendor.

The web app hands every request on ``/callbacks/<vendor>`` here. Nothing is applied to a document here:
the event is stored in the callback inbox (once per vendor event) and answered at once, inside the vendor's
deadline (DingTalk gives 1,500 ms); the worker applies stored events afterwards. A callback that fails any
check changes nothing: not the inbox, not the replay guard (the vendors' checks take the nonce last).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from connectors.oa import dingtalk_callbacks, feishu_callbacks, wecom_callbacks
from connectors.oa.callbacks import MAX_BODY_BYTES, CallbackRejected, CheckedCallback, NonceStore
from engine.oa_settings import OaConnection

log = logging.getLogger("budgetflow.oa.callbacks")


class CallbackInbox(Protocol):
    def record(self, vendor: str, event_key: str, kind: str, payload: dict[str, Any]) -> bool:
        """Store the event; False if the same vendor event was stored before."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str


Check = Callable[..., CheckedCallback]


def _dingtalk(conn: OaConnection) -> tuple[Any, Check]:
    config = dingtalk_callbacks.DingTalkCallbackConfig(
        app_key=conn["app_key"], token=conn["callback_token"], encoding_aes_key=conn["encoding_aes_key"],
        corp_id=conn.get("corp_id"))
    return config, dingtalk_callbacks.check


def _wecom(conn: OaConnection) -> tuple[Any, Check]:
    config = wecom_callbacks.WeComCallbackConfig(
        corp_id=conn["corp_id"], token=conn["callback_token"], encoding_aes_key=conn["encoding_aes_key"],
        agent_id=conn.get("agent_id"))
    return config, wecom_callbacks.check


def _feishu(conn: OaConnection) -> tuple[Any, Check]:
    config = feishu_callbacks.FeishuCallbackConfig(
        app_id=conn["app_id"], verification_token=conn["verification_token"], encrypt_key=conn["encrypt_key"])
    return config, feishu_callbacks.check


CHECKS: dict[str, Callable[[OaConnection], tuple[Any, Check]]] = {
    "dingtalk": _dingtalk, "wecom": _wecom, "feishu": _feishu}


def _refusal(status: int, code: str, message: str) -> Answer:
    body = json.dumps({"code": code, "message": message}, ensure_ascii=False).encode()
    return Answer(status, body, "application/json; charset=utf-8")


def receive(connections: Mapping[str, OaConnection], vendor: str, *, method: str, query: Mapping[str, str],
            headers: Mapping[str, str], body: bytes, now: float, nonces: NonceStore, inbox: CallbackInbox,
            remote: str = "") -> Answer:
    """Check one callback request and store its event; the answer to send back to the vendor."""
    if vendor not in CHECKS or vendor not in connections:
        return _refusal(404, "OA_NOT_CONFIGURED", f"no OA connection for {vendor!r} is configured here")
    if len(body) > MAX_BODY_BYTES:
        log.warning("%s callback refused [oversized] from %s", vendor, remote or "?")
        return _refusal(413, "CALLBACK_REJECTED", f"the body is larger than {MAX_BODY_BYTES} bytes")
    config, check = CHECKS[vendor](connections[vendor])
    try:
        checked = check(config, method=method, query=query, headers=headers, body=body, now=now, nonces=nonces)
    except CallbackRejected as refused:  # the reason is logged; the body and the secrets never are
        log.warning("%s callback refused [%s] from %s: %s", vendor, refused.reason, remote or "?", refused)
        return _refusal(400, "CALLBACK_REJECTED", str(refused))
    if not checked.handshake:
        new = inbox.record(vendor, checked.event_key, checked.kind, checked.payload)
        log.info("%s callback %s [%s]%s", vendor, checked.event_key, checked.kind, "" if new else " (repeated)")
    return Answer(200, checked.reply, checked.content_type)
