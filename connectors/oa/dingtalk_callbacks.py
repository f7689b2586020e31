"""DingTalk's HTTP callbacks: the check_url handshake, the encrypted events, and the encrypted reply it wants.

DingTalk posts ``{"encrypt": "..."}`` to the callback URL with ``msg_signature`` (older setups: ``signature``),
``timestamp`` (or ``timeStamp``; epoch **milliseconds**) and ``nonce`` in the query string. The signature is
SHA-1 over the sorted (token, timestamp, nonce, encrypt); the message is sealed in the DingTalk/WeCom AES
envelope (``connectors.oa.envelope``) for the receive id: the app key for internal apps, the corp id for
older corp-wide callbacks, the suite key for ISV suites (``DingTalkCallbackConfig.receive_id``).

Checks, cheapest refusal first, and the nonce recorded last so that a forgery never uses up a genuine nonce:
method, size, query shape, JSON shape, signature (constant time), timestamp window, decryption and receiver,
inner JSON, corp id (if configured), nonce. The official sample compares signatures with ``!=`` and keeps no
window or nonce store; a recorded callback replayed later would be accepted there, here it is not.

Every accepted callback, the ``check_url`` handshake included, is answered with an encrypted ``"success"``
(``reply_for``) within 1,500 ms, else DingTalk counts a failure (and, at registration, refuses the URL): the
endpoint answers first and processes afterwards.

DingTalk may deliver one change more than once with a fresh envelope (new nonce), so the nonce store does not
catch those: ``event_key`` names the change itself (instance, change type, result, time; for task events the
task and approver too) and is the engine's de-dup key. ``approval_change`` reads what the engine needs.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.oa.callbacks import (
    MAX_BODY_BYTES,
    CallbackRejected,
    CheckedCallback,
    NonceStore,
    check_nonce,
    check_window,
    json_object,
)
from connectors.oa.envelope import EnvelopeError, open_sealed, seal, sha1_signature, signature_matches

VENDOR = "dingtalk"
INSTANCE_EVENT = "bpms_instance_change"
TASK_EVENT = "bpms_task_change"
# check_url for apps; the suite variants are what ISV suites receive when their URL is registered or changed
HANDSHAKE_EVENTS = frozenset({"check_url", "check_create_suite_url", "check_update_suite_url"})
REPLY_TEXT = b"success"
JSON_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class DingTalkCallbackConfig:
    """One company's DingTalk callback settings.

    ``app_key``: the app's AppKey, the envelope's receiver for internal apps; ``token`` and ``encoding_aes_key``:
    the callback's Token and 43-character aes_key (secrets: kept out of the repr); ``receive_id``: set it to the
    corp id (older corp callbacks) or the suite key (ISV suites) when the receiver is not the app key;
    ``corp_id``: if set, an event naming another corp is refused even when it decrypts.
    """

    app_key: str
    token: str = field(repr=False)
    encoding_aes_key: str = field(repr=False)
    receive_id: str | None = None
    corp_id: str | None = None

    @property
    def receiver(self) -> str:
        return self.receive_id or self.app_key


@dataclass(frozen=True)
class ApprovalChange:
    """What one ``bpms_instance_change`` or ``bpms_task_change`` callback says about an approval instance."""

    instance_id: str
    process_code: str
    status: str  # pending, approved, rejected or cancelled (of the instance, as far as this event tells)
    terminal: bool  # True when the instance is finished or terminated
    change: str  # the event's type: start, finish, terminate (instance); start, finish, comment, cancel (task)
    result: str  # agree, refuse, redirect or "" (only finished ones have one)
    staff_id: str  # who acted: the originator, the approver, or whoever terminated it
    changed_at: int  # finishTime, else createTime: epoch milliseconds
    task_id: str = ""  # task events only


def check(config: DingTalkCallbackConfig, *, method: str, query: Mapping[str, str], headers: Mapping[str, str],
          body: bytes, now: float, nonces: NonceStore) -> CheckedCallback:
    """The callback, if it is DingTalk's and meant for this company; else ``CallbackRejected`` with the reason."""
    del headers  # DingTalk puts everything in the query string and the body
    if method.upper() != "POST":
        raise CallbackRejected("malformed", f"DingTalk calls back with POST, not {method[:10]!r}")
    if len(body) > MAX_BODY_BYTES:
        raise CallbackRejected("oversized", f"the callback body is over {MAX_BODY_BYTES} bytes")
    signature, timestamp, nonce = _query_fields(query)
    encrypted = json_object(body, "the callback body").get("encrypt")
    if not isinstance(encrypted, str) or not encrypted:
        raise CallbackRejected("malformed", "the callback body has no encrypt field")
    if not signature_matches(sha1_signature(config.token, timestamp, nonce, encrypted), signature):
        raise CallbackRejected("bad_signature", "the callback's signature does not match")
    check_window(int(timestamp) / 1000, now)
    try:
        plain = open_sealed(config.encoding_aes_key, encrypted, config.receiver)
    except EnvelopeError as exc:
        raise CallbackRejected(exc.reason, str(exc)) from None
    event = json_object(plain, "the decrypted event")
    kind = event.get("EventType")
    if not isinstance(kind, str) or not kind:
        raise CallbackRejected("malformed", "the decrypted event has no EventType")
    if config.corp_id and "corpId" in event and event["corpId"] != config.corp_id:
        raise CallbackRejected("wrong_corp", "the event is about another corp")
    check_nonce(nonces, VENDOR, nonce, now)
    reply = reply_for(config, None, now)
    if kind in HANDSHAKE_EVENTS:
        return CheckedCallback(VENDOR, f"{kind}:{nonce}", kind, event, reply, JSON_TYPE, handshake=True)
    return CheckedCallback(VENDOR, event_key(event), kind, event, reply, JSON_TYPE)


def reply_for(config: DingTalkCallbackConfig, checked: CheckedCallback | None, now: float, *,
              nonce: str | None = None, prefix: bytes | None = None) -> bytes:
    """The answer DingTalk expects to any accepted callback: ``"success"`` sealed for the receiver and signed.

    It is the same for every callback (``checked`` is there for the shape all vendors share; ``check`` already
    put one in ``CheckedCallback.reply``): call it again for a reply stamped later, e.g. after queueing the event.
    ``nonce`` and ``prefix`` (the envelope's 16 random bytes) are random unless a test fixes them."""
    del checked
    timestamp = str(int(now * 1000))
    nonce = nonce or secrets.token_urlsafe(6)
    encrypted = seal(config.encoding_aes_key, REPLY_TEXT, config.receiver, prefix=prefix)
    reply = {"msg_signature": sha1_signature(config.token, timestamp, nonce, encrypted), "timeStamp": timestamp,
             "nonce": nonce, "encrypt": encrypted}
    return json.dumps(reply).encode()


def reply_is_success(config: DingTalkCallbackConfig, reply: bytes) -> bool:
    """Whether ``reply`` is a correctly signed, sealed ``"success"`` (what DingTalk checks of our answer)."""
    try:
        answer = json.loads(reply)
        encrypted, timestamp, nonce = answer["encrypt"], str(answer["timeStamp"]), answer["nonce"]
        if not signature_matches(sha1_signature(config.token, timestamp, nonce, encrypted), answer["msg_signature"]):
            return False
        return open_sealed(config.encoding_aes_key, encrypted, config.receiver) == REPLY_TEXT
    except (ValueError, KeyError, TypeError, EnvelopeError):
        return False


def event_key(event: Mapping[str, Any]) -> str:
    """The de-dup key of one change: the same change delivered again has the same key, another change another."""
    kind = str(event.get("EventType", ""))
    if kind in (INSTANCE_EVENT, TASK_EVENT):
        when = event.get("finishTime") or event.get("createTime") or ""
        parts = [kind, event.get("processInstanceId", ""), event.get("type", ""), event.get("result", ""), when]
        if kind == TASK_EVENT:
            parts += [event.get("taskId", ""), event.get("staffId", "")]
        return ":".join(str(part) for part in parts)
    # org and other events carry no id of their own: their canonical content names them
    canonical = json.dumps(dict(event), sort_keys=True, ensure_ascii=False).encode()
    return f"{kind}:{hashlib.sha256(canonical).hexdigest()[:32]}"


def approval_change(checked: CheckedCallback) -> ApprovalChange | None:
    """The approval change a checked callback reports, or None if it is not an approval event."""
    event = checked.payload
    if checked.kind not in (INSTANCE_EVENT, TASK_EVENT):
        return None
    change, result = str(event.get("type", "")), str(event.get("result", ""))
    status, terminal = "pending", False
    if checked.kind == INSTANCE_EVENT and change == "finish":
        status, terminal = ("approved" if result == "agree" else "rejected"), True
    elif checked.kind == INSTANCE_EVENT and change == "terminate":
        status, terminal = "cancelled", True
    return ApprovalChange(
        instance_id=str(event.get("processInstanceId", "")), process_code=str(event.get("processCode", "")),
        status=status, terminal=terminal, change=change, result=result, staff_id=str(event.get("staffId", "")),
        changed_at=int(event.get("finishTime") or event.get("createTime") or 0),
        task_id=str(event.get("taskId", "")) if checked.kind == TASK_EVENT else "")


def _query_fields(query: Mapping[str, str]) -> tuple[str, str, str]:
    signature = query.get("msg_signature") or query.get("signature") or ""
    timestamp = query.get("timestamp") or query.get("timeStamp") or ""
    nonce = query.get("nonce") or ""
    if not signature or len(signature) > 64:
        raise CallbackRejected("malformed", "the callback has no usable signature")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 16:
        raise CallbackRejected("malformed", "the callback's timestamp is not epoch milliseconds")
    if not nonce or len(nonce) > 128:
        raise CallbackRejected("malformed", "the callback has no usable nonce")
    return signature, timestamp, nonce
