"""WeCom's callback check: the published vectors, wechatpy's messages, forgeries and replays."""

from __future__ import annotations

import base64
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from wechatpy.enterprise.crypto import WeChatCrypto

from connectors.oa.callbacks import MAX_BODY_BYTES, CallbackRejected, MemoryNonceStore
from connectors.oa.envelope import aes_key, seal
from connectors.oa.wecom_callbacks import WeComCallbackConfig, approval_change, check
from tests.oa_vendors.oa.test_envelope import WC_CORP, WC_ECHOSTR, WC_KEY, WC_MESSAGE, WC_TOKEN
from tests.oa_vendors.wecom.support import (
    CONFIG,
    CORP,
    KEY,
    NOW,
    OTHER_KEY,
    TOKEN,
    approval_xml,
    envelope,
    genuine,
    signed,
)

VECTOR_CONFIG = WeComCallbackConfig(corp_id=WC_CORP, token=WC_TOKEN, encoding_aes_key=WC_KEY)


def post(query: dict[str, str], body: bytes, nonces: MemoryNonceStore, *, now: float = NOW,
         config: WeComCallbackConfig = CONFIG):
    return check(config, method="POST", query=query, headers={}, body=body, now=now, nonces=nonces)


def test_the_published_url_check_vector_answers_its_plaintext():
    query = {"msg_signature": "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96", "timestamp": "1411443780",
             "nonce": "437374425", "echostr": WC_ECHOSTR}
    checked = check(VECTOR_CONFIG, method="GET", query=query, headers={}, body=b"", now=1411443780,
                    nonces=MemoryNonceStore())
    assert checked.handshake and checked.reply == b"5927782489442352469" and checked.kind == "url_verification"
    with pytest.raises(CallbackRejected) as refused:  # the same check one byte off
        check(VECTOR_CONFIG, method="GET", query={**query, "nonce": "437374426"}, headers={}, body=b"",
              now=1411443780, nonces=MemoryNonceStore())
    assert refused.value.reason == "bad_signature"


def test_the_published_message_vector_passes_the_check():
    query = {"msg_signature": "74d92dfeb87ba7c714f89d98870ae5eb62dff26d", "timestamp": "1411525903",
             "nonce": "461056294"}
    checked = post(query, envelope(WC_MESSAGE, corp=WC_CORP, agent="1"), MemoryNonceStore(), now=1411525903,
                   config=VECTOR_CONFIG)
    assert not checked.handshake and checked.kind == "text"
    assert checked.payload["Content"] == "test" and checked.payload["FromUserName"] == "messense"
    assert checked.event_key == "msg:4363689963896700987" and checked.reply == b""


def test_what_wechatpy_encrypts_passes_and_reads_as_an_approval_change():
    crypto = WeChatCrypto(TOKEN, KEY, CORP)
    sealed = crypto.encrypt_message(approval_xml("202612060001", 2, 2, NOW).decode(), "n-1", str(NOW))
    # wechatpy answers the passive-reply shape (Encrypt + MsgSignature + TimeStamp + Nonce); WeCom posts the same
    # Encrypt with the signature in the query.
    from lxml import etree
    encrypted = etree.fromstring(sealed.encode()).findtext("Encrypt")
    checked = post(signed(encrypted, NOW, "n-1"), envelope(encrypted), MemoryNonceStore())
    change = approval_change(checked)
    assert checked.kind == "sys_approval_change" and checked.event_key == f"202612060001:2:{NOW}:2"
    assert change is not None and change.instance_id == "202612060001" and change.status == "approved"
    assert change.terminal and change.applicant == "zhangsan" and change.change_event == 2
    assert checked.payload["ApprovalInfo"]["SpRecord"][0]["Details"][0]["Approver"]["UserId"] == "lisi"


def test_a_url_check_wechatpy_would_accept_passes_ours():
    crypto = WeChatCrypto(TOKEN, KEY, CORP)
    echostr = seal(KEY, b"echo-1234", CORP)
    query = {**signed(echostr, NOW, "n-2"), "echostr": echostr}
    assert crypto.check_signature(query["msg_signature"], str(NOW), "n-2", echostr) == "echo-1234"
    checked = check(CONFIG, method="GET", query=query, headers={}, body=b"", now=NOW, nonces=MemoryNonceStore())
    assert checked.reply == b"echo-1234" and checked.handshake


def test_two_approvals_of_one_sheet_in_the_same_second_are_two_events():
    nonces = MemoryNonceStore()
    first = post(*genuine(approval_xml("7", 2, 1, NOW), NOW, "p"), nonces)  # lisi approves; wangwu's node is next
    last = post(*genuine(approval_xml("7", 2, 2, NOW), NOW, "q"), nonces)  # wangwu approves: the sheet is done
    again = post(*genuine(approval_xml("7", 2, 2, NOW), NOW, "r"), nonces)  # WeCom sends that one again
    assert first.event_key != last.event_key == again.event_key


def test_pending_and_terminal_statuses():
    nonces = MemoryNonceStore()
    submitted = approval_change(post(*genuine(approval_xml("1", 1, 1, NOW), NOW, "a"), nonces))
    cancelled = approval_change(post(*genuine(approval_xml("1", 6, 4, NOW + 1), NOW, "b"), nonces))
    assert submitted is not None and submitted.status == "pending" and not submitted.terminal
    assert cancelled is not None and cancelled.status == "cancelled" and cancelled.terminal


def _sealed_raw(key: str, plain: bytes) -> str:
    """AES-CBC as WeCom does, over ``plain`` exactly as given (already padded, or not)."""
    raw = aes_key(key)
    encryptor = Cipher(algorithms.AES(raw), modes.CBC(raw[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def _framed(message: bytes, *, declared: int | None = None, receiver: str = CORP) -> bytes:
    return bytes(16) + struct.pack(">I", len(message) if declared is None else declared) + message + receiver.encode()


def _padded(plain: bytes) -> bytes:
    pad = 32 - len(plain) % 32
    return plain + bytes([pad]) * pad


XXE = (b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       b"<xml><ToUserName>&xxe;</ToUserName><Encrypt>x</Encrypt></xml>")
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
          b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><xml><Encrypt>&lol3;</Encrypt></xml>')

Forgery = tuple[str, dict[str, str], bytes]  # method, query, body


def _bad_signature(i: int, message: bytes, nonce: str) -> Forgery:
    query, body = genuine(message, NOW, nonce)
    return "POST", {**query, "msg_signature": f"{i:040x}"}, body


def _wrong_corp(i: int, message: bytes, nonce: str) -> Forgery:
    return ("POST", *genuine(message, NOW, nonce, receiver="wx0000000000000000"))


def _stale(i: int, message: bytes, nonce: str) -> Forgery:
    return ("POST", *genuine(message, NOW - 301 - i, nonce))


def _future(i: int, message: bytes, nonce: str) -> Forgery:
    return ("POST", *genuine(message, NOW + 301 + i, nonce))


def _wrong_key(i: int, message: bytes, nonce: str) -> Forgery:
    return ("POST", *genuine(message, NOW, nonce, key=OTHER_KEY))


def _wrong_token(i: int, message: bytes, nonce: str) -> Forgery:
    return ("POST", *genuine(message, NOW, nonce, token="not-the-token"))


def _bad_padding(i: int, message: bytes, nonce: str) -> Forgery:
    plain = _framed(message)
    encrypted = _sealed_raw(KEY, plain + bytes([0 if i % 2 else 33]) * (32 - len(plain) % 32))
    return "POST", signed(encrypted, NOW, nonce), envelope(encrypted)


def _truncated(i: int, message: bytes, nonce: str) -> Forgery:
    short = message[: i % len(message)] if i % 2 else b""
    encrypted = _sealed_raw(KEY, _padded(_framed(short, declared=len(message) + len(CORP) + 1, receiver="")))
    return "POST", signed(encrypted, NOW, nonce), envelope(encrypted)


def _cut_short(i: int, message: bytes, nonce: str) -> Forgery:
    encrypted = base64.b64encode(base64.b64decode(seal(KEY, message, CORP))[: 16 * (1 + i % 4)]).decode()
    return "POST", signed(encrypted, NOW, nonce), envelope(encrypted)


def _oversized(i: int, message: bytes, nonce: str) -> Forgery:
    query, body = genuine(message, NOW, nonce)
    return "POST", query, body.replace(b"</xml>", b" " * MAX_BODY_BYTES + b"</xml>")


def _not_xml(i: int, message: bytes, nonce: str) -> Forgery:
    encrypted = seal(KEY, message, CORP)
    return "POST", signed(encrypted, NOW, nonce), b'{"Encrypt": "' + encrypted.encode() + b'"}'


def _inner_not_xml(i: int, message: bytes, nonce: str) -> Forgery:
    return ("POST", *genuine(b'{"Event": "sys_approval_change"}', NOW, nonce))


def _xxe(i: int, message: bytes, nonce: str) -> Forgery:
    return "POST", signed("x", NOW, nonce), (XXE, LAUGHS)[i % 2]


def _inner_xxe(i: int, message: bytes, nonce: str) -> Forgery:
    return ("POST", *genuine((XXE, LAUGHS)[i % 2], NOW, nonce))


def _garbled_approval(i: int, message: bytes, nonce: str) -> Forgery:
    garbled = message.replace(b"<SpStatus>2</SpStatus>", b"<SpStatus>two</SpStatus>", 1) if i % 2 else \
        message.replace(b"<SpNoStr>", b"<Other>").replace(b"</SpNoStr>", b"</Other>").replace(b"<SpNo>", b"<X>") \
        .replace(b"</SpNo>", b"</X>")
    return ("POST", *genuine(garbled, NOW, nonce))


def _missing_query(i: int, message: bytes, nonce: str) -> Forgery:
    query, body = genuine(message, NOW, nonce)
    del query[("msg_signature", "timestamp", "nonce")[i % 3]]
    return "POST", query, body


def _other_app(i: int, message: bytes, nonce: str) -> Forgery:
    encrypted = seal(KEY, message, CORP)
    return "POST", signed(encrypted, NOW, nonce), envelope(encrypted, agent="999")


def _forged_url_check(i: int, message: bytes, nonce: str) -> Forgery:
    echostr = seal(OTHER_KEY, b"123", CORP)
    return "GET", {**signed(echostr, NOW, nonce), "echostr": echostr}, b""


FORGERIES = [_bad_signature, _wrong_corp, _stale, _future, _wrong_key, _wrong_token, _bad_padding, _truncated,
             _cut_short, _oversized, _not_xml, _inner_not_xml, _xxe, _inner_xxe, _garbled_approval, _missing_query,
             _other_app, _forged_url_check]


# Under a wrong key, or cut at a block boundary, the text decrypts to random bytes: now and then their last byte
# happens to be valid padding, and the refusal comes one check later.
GARBAGE = {"bad_padding", "truncated", "wrong_receiver"}
EXPECTED = {"_bad_signature": {"bad_signature"}, "_wrong_corp": {"wrong_receiver"}, "_stale": {"stale_timestamp"},
            "_future": {"stale_timestamp"}, "_wrong_key": GARBAGE, "_wrong_token": {"bad_signature"},
            "_bad_padding": {"bad_padding"}, "_truncated": {"truncated"}, "_cut_short": GARBAGE,
            "_oversized": {"oversized"}, "_not_xml": {"malformed"}, "_inner_not_xml": {"malformed"},
            "_xxe": {"malformed"}, "_inner_xxe": {"malformed"}, "_garbled_approval": {"malformed"},
            "_missing_query": {"malformed"}, "_other_app": {"wrong_app"}, "_forged_url_check": GARBAGE}


def test_a_thousand_forged_or_malformed_callbacks_are_all_refused_and_burn_no_nonce():
    nonces, accepted, reasons = MemoryNonceStore(), 0, {}
    for i in range(1000):
        forge = FORGERIES[i % len(FORGERIES)]
        method, query, body = forge(i, approval_xml(f"F{i}", 2, 2, NOW), f"forged-{i}")
        try:
            check(CONFIG, method=method, query=query, headers={}, body=body, now=NOW, nonces=nonces)
            accepted += 1
        except CallbackRejected as refused:
            reasons.setdefault(forge.__name__, set()).add(refused.reason)
    assert accepted == 0
    assert set(reasons) == set(EXPECTED) and all(reasons[name] <= EXPECTED[name] for name in EXPECTED)
    # the same store and nonces still take genuine callbacks: a forgery used up nothing
    checked = post(*genuine(approval_xml("G", 2, 2, NOW), NOW, "forged-0"), nonces)
    assert checked.event_key == f"G:2:{NOW}:2"
    replayed = genuine(approval_xml("G", 2, 2, NOW), NOW, "forged-1")
    post(*replayed, nonces)
    with pytest.raises(CallbackRejected) as again:
        post(*replayed, nonces)
    assert again.value.reason == "replayed_nonce"


def test_a_thousand_replays_of_a_hundred_genuine_events_have_exactly_a_hundred_effects():
    nonces, seen, effects, refused = MemoryNonceStore(), set(), 0, 0
    events = [approval_xml(f"2026120600{n:02d}", 1 + n % 3, 1 + n % 3, NOW - n) for n in range(100)]
    deliveries = []
    for n, message in enumerate(events):
        deliveries.append(genuine(message, NOW, f"first-{n}"))
    for k in range(900):  # the same bodies again, and the same events re-sent under new nonces
        n = k % 100
        deliveries.append(deliveries[n] if k % 2 else genuine(events[n], NOW + k % 200, f"again-{k}"))
    for query, body in deliveries:
        try:
            checked = post(query, body, nonces)
        except CallbackRejected as exc:
            assert exc.reason == "replayed_nonce"
            refused += 1
            continue
        if checked.event_key not in seen:
            seen.add(checked.event_key)
            effects += 1
    assert effects == 100 and refused == 450


def test_secrets_stay_out_of_the_config_repr_and_refusals():
    assert TOKEN not in repr(CONFIG) and KEY not in repr(CONFIG) and CORP in repr(CONFIG)
    query, body = genuine(approval_xml("S", 2, 2, NOW), NOW, "s", key=OTHER_KEY)
    with pytest.raises(CallbackRejected) as refused:
        post(query, body, MemoryNonceStore())
    assert TOKEN not in str(refused.value) and KEY not in str(refused.value)


@pytest.mark.parametrize("body", [XXE, LAUGHS, XXE.replace(b"DOCTYPE", b"doctype"),
                                  XXE.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
                                  .encode("utf-16")])
def test_doctype_and_entities_are_refused_as_malformed_outside_and_inside_the_envelope(body):
    with pytest.raises(CallbackRejected) as outside:
        post(signed("x", NOW, "x1"), body, MemoryNonceStore())
    with pytest.raises(CallbackRejected) as inside:
        post(*genuine(body, NOW, "x2"), MemoryNonceStore())
    assert outside.value.reason == inside.value.reason == "malformed"


def test_an_envelope_laid_out_on_several_lines_is_read_the_same():
    query, body = genuine(approval_xml("L", 1, 1, NOW), NOW, "layout")
    pretty = body.replace(b"><", b">\n  <").replace(b"<![CDATA[", b"\n<![CDATA[").replace(b"]]>", b"]]>\n")
    assert post(query, pretty, MemoryNonceStore()).event_key == f"L:1:{NOW}:1"
