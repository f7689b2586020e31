"""Callbacks: ``POST /_emulator/callback`` (where events go, how they are sealed, the URL verification) and
delivering an event: v1 or v2 envelope, encrypted and signed, with the drop/duplicate faults and retries."""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any

import requests
from werkzeug.wrappers import Request, Response

from connectors.emulators.base import json_response
from connectors.emulators.feishu.replies import read_body
from connectors.emulators.feishu.state import CallbackTarget, FeishuState
from connectors.oa import feishu_callbacks
from connectors.oa.http import TIMEOUT

RETRIES = 2  # more posts of an event its receiver did not answer with HTTP 200


class Callbacks(FeishuState):
    def control_callback(self, request: Request) -> Response:
        body = read_body(request)
        try:
            target = CallbackTarget(str(body["url"]), str(body["encrypt_key"]), str(body["verification_token"]),
                                    str(body.get("schema", "1.0")))
        except KeyError as missing:
            return json_response({"error": f"missing {missing}"}, 400)
        with self.lock:
            self.callback = target
        if not body.get("verify"):
            return json_response({"configured": True})
        challenge = secrets.token_hex(8)
        plain = {"challenge": challenge, "token": target.verification_token, "type": "url_verification"}
        answer = self._post(target, plain, signed=False)
        verified = answer is not None and answer.status_code == 200 and _json(answer).get("challenge") == challenge
        return json_response({"configured": True, "verified": verified})

    def _deliver(self, event: dict[str, Any]) -> list[int]:
        """Post one event (again for each duplicate, as Feishu's retries do: same event id, fresh nonce)."""
        target = self.callback
        if target is None or event["approval_code"] not in self.subscribed or self.faults.drop_callbacks:
            return []
        envelope = self._envelope(target, event)
        statuses: list[int] = []
        for _ in range(1 + self.faults.duplicate_callbacks):
            for _attempt in range(1 + RETRIES):  # Feishu retries a post that got no 200 (here without the wait)
                answer = self._post(target, envelope, signed=True)
                statuses.append(answer.status_code if answer is not None else 0)
                if statuses[-1] == 200:
                    break
        return statuses

    def _envelope(self, target: CallbackTarget, event: dict[str, Any]) -> dict[str, Any]:
        event_id = str(uuid.uuid4())
        if target.schema == "2.0":
            header = {"event_id": event_id, "token": target.verification_token, "event_type": event["type"],
                      "create_time": str(int(self.clock.now() * 1000)), "app_id": self.app_id,
                      "tenant_key": "emulator-tenant"}
            return {"schema": "2.0", "header": header, "event": event}
        return {"uuid": event_id, "token": target.verification_token, "ts": f"{self.clock.now():.3f}",
                "type": "event_callback", "event": event}

    def _post(self, target: CallbackTarget, plain: dict[str, Any], *, signed: bool) -> requests.Response | None:
        encrypted = feishu_callbacks.encrypt(target.encrypt_key, json.dumps(plain, ensure_ascii=False).encode())
        body = json.dumps({"encrypt": encrypted}).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if signed:
            timestamp, nonce = str(int(self.clock.now())), secrets.token_hex(8)
            headers |= {"X-Lark-Request-Timestamp": timestamp, "X-Lark-Request-Nonce": nonce,
                        "X-Lark-Signature": feishu_callbacks.signature(timestamp, nonce, target.encrypt_key, body)}
        try:
            return requests.post(target.url, data=body, headers=headers, timeout=TIMEOUT)
        except requests.RequestException:
            return None


def _json(answer: requests.Response) -> dict[str, Any]:
    try:
        found = answer.json()
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
