"""WeCom's callbacks: the URL check, the encrypted approval events, and what an approval event says.

WeCom signs with SHA-1 over the sorted (token, timestamp, nonce, encrypted text) and seals the message in the
DingTalk/WeCom AES envelope for the corp id (``connectors.oa.envelope``). Two shapes reach the callback URL:

- the URL check, ``GET ?msg_signature&timestamp&nonce&echostr``: the echostr is sealed; the answer is its
  plaintext (``handshake=True``, no effect);
- events, ``POST ?msg_signature&timestamp&nonce`` with ``<xml><ToUserName/><AgentID/><Encrypt/></xml>``; the
  decrypted XML of an approval says ``<Event>sys_approval_change</Event>`` and carries ``<ApprovalInfo>``.

Checks, cheapest refusal first, and the nonce recorded last so that a forgery never uses up a genuine nonce:
size, shape, signature (constant time), timestamp window (seconds), receiver, decryption, inner XML, nonce.
XML is parsed without DTDs, entities or network (a DOCTYPE is refused outright: XXE, billion laughs).

One approval sheet fires many callbacks (submitted, each approver's action, cancelled...), and WeCom may send
the same one again: ``event_key`` = SpNo + StatuChangeEvent + CreateTime names one change, the engine's
de-dup key. SpStatus is added to it: two approvers of one sheet acting within the same second would otherwise
share a key, and the second (the one that may finish the sheet) would be dropped as a duplicate; a redelivery
carries the same SpStatus, so it still collapses. ``approval_change`` reads the fields the engine needs out
of a checked event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from connectors.oa.callbacks import (
    MAX_BODY_BYTES,
    CallbackRejected,
    CheckedCallback,
    NonceStore,
    check_nonce,
    check_window,
)
from connectors.oa.envelope import EnvelopeError, open_sealed, sha1_signature, signature_matches

VENDOR = "wecom"
APPROVAL_EVENT = "sys_approval_change"

# sp_status: 1 审批中, 2 已通过, 3 已驳回, 4 已撤销, 6 通过后撤销, 7 已删除, 10 已支付
SP_STATUS = {1: "pending", 2: "approved", 3: "rejected", 4: "cancelled", 6: "cancelled", 7: "cancelled",
             10: "approved"}
TERMINAL_SP_STATUS = frozenset({2, 3, 4, 6, 7, 10})

_REPEATING = frozenset({"SpRecord", "Details", "Notifyer", "Comments", "Item"})  # lists even with one element
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                          huge_tree=False, remove_comments=True, remove_pis=True)


@dataclass(frozen=True)
class WeComCallbackConfig:
    """One company's WeCom callback settings: its corp id (the envelope's receiver), the app's callback Token and
    EncodingAESKey (secrets: kept out of the repr), and optionally the app's AgentID to refuse other apps' events."""

    corp_id: str
    token: str = field(repr=False)
    encoding_aes_key: str = field(repr=False)
    agent_id: str | None = None


@dataclass(frozen=True)
class ApprovalChange:
    """What one ``sys_approval_change`` callback says about a sheet."""

    instance_id: str  # the sheet's SpNo
    template_id: str
    status: str  # pending, approved, rejected or cancelled
    terminal: bool  # SpStatus in 2, 3, 4, 6, 7, 10
    sp_status: int
    change_event: int  # StatuChangeEvent: 1 提单, 2 同意, 3 驳回, 4 转审, 6 撤销, 8 通过后撤销, ...
    applicant: str
    staff_id: str  # who acted: the approver with the latest SpTime, else the applicant (submitted, cancelled)
    changed_at: int  # CreateTime, epoch seconds


def check(config: WeComCallbackConfig, *, method: str, query: Mapping[str, str], headers: Mapping[str, str],
          body: bytes, now: float, nonces: NonceStore) -> CheckedCallback:
    """The callback, if it is WeCom's and meant for this company; else ``CallbackRejected`` with the reason."""
    del headers  # WeCom puts everything in the query string and the body
    if len(body) > MAX_BODY_BYTES:
        raise CallbackRejected("oversized", f"the callback body is over {MAX_BODY_BYTES} bytes")
    if method.upper() == "GET":
        return _check_url(config, query, now, nonces)
    if method.upper() == "POST":
        return _check_event(config, query, body, now, nonces)
    raise CallbackRejected("malformed", f"WeCom does not call back with {method[:10]!r}")


def _signed_query(query: Mapping[str, str], *names: str) -> tuple[str, ...]:
    values = tuple(query.get(name, "") for name in names)
    if not all(values):
        raise CallbackRejected("malformed", f"the callback lacks one of {', '.join(names)} in its query")
    return values


def _timestamp(value: str) -> int:
    if not value.isdigit() or len(value) > 12:
        raise CallbackRejected("malformed", "the callback's timestamp is not epoch seconds")
    return int(value)


def _verify(config: WeComCallbackConfig, signature: str, timestamp: str, nonce: str, encrypted: str,
            now: float) -> None:
    if not signature_matches(sha1_signature(config.token, timestamp, nonce, encrypted), signature):
        raise CallbackRejected("bad_signature", "the callback's msg_signature does not match")
    check_window(_timestamp(timestamp), now)


def _open(config: WeComCallbackConfig, encrypted: str) -> bytes:
    try:
        return open_sealed(config.encoding_aes_key, encrypted, config.corp_id)
    except EnvelopeError as exc:
        raise CallbackRejected(exc.reason, str(exc)) from None


def _check_url(config: WeComCallbackConfig, query: Mapping[str, str], now: float,
               nonces: NonceStore) -> CheckedCallback:
    signature, timestamp, nonce, echostr = _signed_query(query, "msg_signature", "timestamp", "nonce", "echostr")
    _verify(config, signature, timestamp, nonce, echostr, now)
    plain = _open(config, echostr)
    check_nonce(nonces, f"{VENDOR}:{config.corp_id}", nonce, now)
    return CheckedCallback(vendor=VENDOR, event_key=f"url_verification:{nonce}", kind="url_verification",
                           payload={}, reply=plain, handshake=True)


def _check_event(config: WeComCallbackConfig, query: Mapping[str, str], body: bytes, now: float,
                 nonces: NonceStore) -> CheckedCallback:
    signature, timestamp, nonce = _signed_query(query, "msg_signature", "timestamp", "nonce")
    outer = parse_xml(body)
    encrypted = (outer.findtext("Encrypt") or "").strip()
    if not encrypted:
        raise CallbackRejected("malformed", "the callback body has no Encrypt element")
    _verify(config, signature, timestamp, nonce, encrypted, now)
    receiver = outer.findtext("ToUserName")
    if receiver is not None and receiver.strip() != config.corp_id:
        raise CallbackRejected("wrong_receiver", "the callback is addressed to another corp")
    agent = (outer.findtext("AgentID") or "").strip()
    if config.agent_id and agent and agent != str(config.agent_id):
        raise CallbackRejected("wrong_app", "the callback is for another app of the corp")
    payload = xml_to_dict(parse_xml(_open(config, encrypted)))
    if not isinstance(payload, dict):
        raise CallbackRejected("malformed", "the decrypted callback is not an XML message")
    if payload.get("Event") == APPROVAL_EVENT:
        _check_approval_fields(payload)
    check_nonce(nonces, f"{VENDOR}:{config.corp_id}", nonce, now)
    return CheckedCallback(vendor=VENDOR, event_key=event_key(payload), kind=_kind(payload), payload=payload,
                           reply=b"")


def parse_xml(data: bytes) -> Any:
    """The root element of ``data``, parsed with no DTD, no entities and no network; ``CallbackRejected``
    (malformed) for anything else, including any DOCTYPE or entity declaration."""
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise CallbackRejected("malformed", "the callback body declares a DOCTYPE or entities")
    try:
        root = etree.fromstring(data, _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        raise CallbackRejected("malformed", "the callback body is not well-formed XML") from None
    if root is None or root.getroottree().docinfo.doctype or any(
            isinstance(node, etree._Entity) for node in root.iter()):
        raise CallbackRejected("malformed", "the callback body declares a DOCTYPE or entities")
    return root


def xml_to_dict(element: Any) -> Any:
    """An element as plain data: text for a leaf, a dict of children otherwise; a repeated child (or one of the
    approval's list elements: SpRecord, Details, ...) becomes a list."""
    children = [child for child in element if isinstance(child.tag, str)]
    if not children:
        return (element.text or "").strip()
    result: dict[str, Any] = {}
    for child in children:
        value = xml_to_dict(child)
        if child.tag in _REPEATING:
            result.setdefault(child.tag, []).append(value)
        elif child.tag in result:
            if not isinstance(result[child.tag], list):
                result[child.tag] = [result[child.tag]]
            result[child.tag].append(value)
        else:
            result[child.tag] = value
    return result


def _kind(payload: Mapping[str, Any]) -> str:
    return str(payload.get("Event") or payload.get("MsgType") or "unknown")


def _sp_no(info: Mapping[str, Any]) -> str:
    return str(info.get("SpNoStr") or info.get("SpNo") or "")


def event_key(payload: Mapping[str, Any]) -> str:
    """The de-dup key: SpNo + StatuChangeEvent + CreateTime (+ SpStatus) for an approval change, the MsgId of a
    message, else the event type, sender and time."""
    info = payload.get("ApprovalInfo")
    if payload.get("Event") == APPROVAL_EVENT and isinstance(info, dict):
        return (f"{_sp_no(info)}:{info.get('StatuChangeEvent', '')}:{payload.get('CreateTime', '')}:"
                f"{info.get('SpStatus', '')}")
    if payload.get("MsgId"):
        return f"msg:{payload['MsgId']}"
    return f"{_kind(payload)}:{payload.get('FromUserName', '')}:{payload.get('CreateTime', '')}"


def _check_approval_fields(payload: Mapping[str, Any]) -> None:
    """An approval event names its sheet and says its status and change in numbers, or it is refused."""
    info = payload.get("ApprovalInfo")
    if not isinstance(info, dict):
        raise CallbackRejected("malformed", "the approval event has no ApprovalInfo")
    numbers = (info.get("SpStatus"), info.get("StatuChangeEvent"), payload.get("CreateTime"))
    if not _sp_no(info) or not all(isinstance(n, str) and n.isdigit() for n in numbers):
        raise CallbackRejected("malformed", "the approval event lacks its sheet number or numeric status fields")


def approval_change(checked: CheckedCallback) -> ApprovalChange | None:
    """The approval change a checked callback reports; None for any other event."""
    info = checked.payload.get("ApprovalInfo")
    if checked.kind != APPROVAL_EVENT or not isinstance(info, dict):
        return None
    sp_status, change_event = int(info["SpStatus"]), int(info["StatuChangeEvent"])
    applyer = info.get("Applyer")
    applicant = str(applyer.get("UserId", "")) if isinstance(applyer, dict) else ""
    acted = change_event not in (1, 6, 8)  # submitting and cancelling are the applicant's
    return ApprovalChange(instance_id=_sp_no(info), template_id=str(info.get("TemplateId", "")),
                          status=SP_STATUS.get(sp_status, "pending"), terminal=sp_status in TERMINAL_SP_STATUS,
                          sp_status=sp_status, change_event=change_event, applicant=applicant,
                          staff_id=(_latest_approver(info) if acted else "") or applicant,
                          changed_at=int(checked.payload["CreateTime"]))


def _latest_approver(info: Mapping[str, Any]) -> str:
    details = [d for record in info.get("SpRecord") or [] if isinstance(record, dict)
               for d in record.get("Details") or [] if isinstance(d, dict)]
    acted = [d for d in details if str(d.get("SpTime", "0")).isdigit() and int(d.get("SpTime", "0")) > 0]
    latest = max(reversed(acted), key=lambda d: int(d["SpTime"]), default=None)  # a tie: the later node acted
    approver = latest.get("Approver") if latest else None
    return str(approver.get("UserId", "")) if isinstance(approver, dict) else ""


def reply_for(config: WeComCallbackConfig, checked: CheckedCallback | None, now: float) -> bytes:
    """The answer WeCom expects to an accepted callback: the echostr's plaintext for the URL check, nothing for
    an event (WeCom wants an HTTP 200 within about 5 s; a passive reply is not used for approval events). For
    the shape all vendors share; ``check`` already put it in ``CheckedCallback.reply``."""
    del config, now
    return checked.reply if checked is not None else b""
