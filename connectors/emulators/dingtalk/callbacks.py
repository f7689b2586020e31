"""Callbacks: where to post them, sealing and posting each event, and DingTalk's retry of unacknowledged ones."""

from __future__ import annotations

import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from werkzeug.wrappers import Request, Response

import connectors.emulators.dingtalk as package
from connectors.emulators.base import json_response
from connectors.emulators.dingtalk.state import DingTalkState
from connectors.emulators.dingtalk.wire import read_json
from connectors.oa.dingtalk_callbacks import DingTalkCallbackConfig, reply_is_success
from connectors.oa.envelope import seal, sha1_signature


def reply_deadline() -> float:
    """How long DingTalk waits for an answer: read from the package at each use, where a test may scale it down."""
    return package.REPLY_DEADLINE_S


class Callbacks(DingTalkState):
    def control_callback(self, request: Request) -> Response:
        body = read_json(request)
        try:
            config = DingTalkCallbackConfig(app_key=self.app_key, token=str(body["token"]),
                                            encoding_aes_key=str(body["aes_key"]),
                                            receive_id=body.get("receive_id"), corp_id=self.corp_id)
            url = str(body["url"])
        except KeyError as exc:
            return json_response({"error": f"missing {exc.args[0]}"}, 400)
        if body.get("verify"):
            started = time.monotonic()
            delivery = self._post_event(config, url, {"EventType": "check_url"})
            if not delivery["acknowledged"] or time.monotonic() - started > reply_deadline():
                return json_response({"error": "the URL did not answer check_url with a sealed success in time",
                                      "delivery": delivery}, 400)
        with self.lock:
            self.callback, self.callback_url = config, url
        return json_response({"url": url, "receive_id": config.receiver})

    def _deliver_later(self, events: list[dict[str, Any]]) -> None:
        """Deliver ``events`` from a background thread: DingTalk calls back after answering the API call."""
        with self.lock:
            if self._sender is None:
                self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dingtalk callbacks")
            self._pending.append(self._sender.submit(self._deliver_all, events))

    def _deliver_all(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            self._deliver(event)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until the callbacks queued so far were delivered (tests; the approve/reject actions)."""
        with self.lock:
            pending, self._pending = self._pending, []
        for future in pending:
            future.result(timeout=timeout)

    def _deliver(self, event: dict[str, Any]) -> None:
        """Post ``event`` to the configured URL, as often as the faults say (not at all if dropped)."""
        config, url = self.callback, self.callback_url
        if config is None:
            return
        if self.faults.drop_callbacks:
            self.deliveries.append({"event": event, "dropped": True, "acknowledged": False})
            return
        for _ in range(1 + self.faults.duplicate_callbacks):
            self.deliveries.append(self._post_event(config, url, event))

    def control_redeliver(self, request: Request) -> Response:
        """DingTalk's retry: post again, in fresh envelopes, every event whose delivery was not acknowledged."""
        self.flush()
        with self.lock:
            failed = [d for d in self.deliveries if not d["acknowledged"] and not d.get("retried")]
            for delivery in failed:
                delivery["retried"] = True
        for delivery in failed:
            self._deliver(delivery["event"])
        return json_response({"redelivered": len(failed)})

    def _post_event(self, config: DingTalkCallbackConfig, url: str, event: dict[str, Any]) -> dict[str, Any]:
        """One delivery in a fresh envelope; whether the receiver acknowledged it as DingTalk requires."""
        timestamp, nonce = str(int(self.clock.now() * 1000)), secrets.token_urlsafe(6)
        encrypted = seal(config.encoding_aes_key, json.dumps(event, ensure_ascii=False).encode(), config.receiver)
        query = {"msg_signature": sha1_signature(config.token, timestamp, nonce, encrypted),
                 "timestamp": timestamp, "nonce": nonce}
        delivery: dict[str, Any] = {"event": event, "dropped": False, "acknowledged": False, "status": None}
        try:
            answer = self._post(url, params=query, json={"encrypt": encrypted}, timeout=reply_deadline())
        except requests.RequestException as exc:
            delivery["error"] = type(exc).__name__
            return delivery
        delivery["status"] = answer.status_code
        delivery["acknowledged"] = answer.status_code == 200 and reply_is_success(config, answer.content)
        return delivery
