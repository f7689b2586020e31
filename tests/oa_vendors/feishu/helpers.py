"""What the Feishu tests share: an app's settings and genuine posts built as Feishu builds them."""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any

from connectors.oa.feishu_callbacks import FeishuCallbackConfig, encrypt, signature

APP_ID = "cli_emulator0001"
TOKEN = "verification-token-6Qx"  # noqa: S105 - a test app's
KEY = "encrypt-key-Zr7pWq"
CONFIG = FeishuCallbackConfig(app_id=APP_ID, verification_token=TOKEN, encrypt_key=KEY)
NOW = 1_760_000_000.0


def v1_event(*, token: str = TOKEN, app_id: str = APP_ID, status: str = "APPROVED") -> dict[str, Any]:
    return {"uuid": str(uuid.uuid4()), "token": token, "ts": f"{NOW:.3f}", "type": "event_callback",
            "event": {"type": "approval_instance", "app_id": app_id, "instance_code": "INST-1", "status": status,
                      "instance_operate_time": "1760000000000", "approval_code": "BUDGETFLOW-APPROVAL-0001"}}


def v2_event(*, token: str = TOKEN, app_id: str = APP_ID) -> dict[str, Any]:
    return {"schema": "2.0", "header": {"event_id": uuid.uuid4().hex, "token": token,
                                        "event_type": "approval_instance", "create_time": "1760000000000",
                                        "app_id": app_id, "tenant_key": "t1"},
            "event": {"instance_code": "INST-2", "status": "REJECTED"}}


def post(plain: dict[str, Any] | bytes, *, key: str = KEY, timestamp: float = NOW, nonce: str | None = None,
         signed: bool = True) -> tuple[dict[str, str], bytes]:
    """Headers and body of a post Feishu would make for ``plain``."""
    raw = plain if isinstance(plain, bytes) else json.dumps(plain).encode()
    body = json.dumps({"encrypt": encrypt(key, raw)}).encode()
    return sign(body, key=key, timestamp=timestamp, nonce=nonce) if signed else ({}, body)


def sign(body: bytes, *, key: str = KEY, timestamp: float = NOW, nonce: str | None = None
         ) -> tuple[dict[str, str], bytes]:
    stamp, nonce = str(int(timestamp)), nonce or secrets.token_hex(8)
    return {"X-Lark-Request-Timestamp": stamp, "X-Lark-Request-Nonce": nonce,
            "X-Lark-Signature": signature(stamp, nonce, key, body)}, body
