"""DingTalk's callback check: the published vectors, wechatpy's sealing, forgeries, replays and the reply.

DingTalk's own SDK (alibabacloud-dingtalk) has no callback cryptography, so the cross-check with code written by
others uses (1) the published test vectors of the dingtalk-sdk project and (2) wechatpy's ``WeChatCrypto`` (built
on its ``PrpCrypto``) with the app key in the corp id's place: DingTalk's envelope is WeCom's scheme (AES-256-CBC,
32-byte PKCS#7, receiver id appended, SHA-1 over the sorted four strings), only carried in JSON instead of XML
and with the timestamp in milliseconds.
"""

from __future__ import annotations

import base64
import json
import random
import struct
from collections import Counter

import pytest
import requests
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from lxml import etree
from wechatpy.enterprise.crypto import WeChatCrypto

from connectors.emulators.base import Running
from connectors.oa.callbacks import MAX_BODY_BYTES, CallbackRejected, MemoryNonceStore
from connectors.oa.dingtalk_callbacks import (
    DingTalkCallbackConfig,
    approval_change,
    check,
    event_key,
    reply_for,
    reply_is_success,
)
from connectors.oa.envelope import aes_key, seal, sha1_signature

from .conftest import Receiver

# the dingtalk-sdk project's crypto test (published vectors): a suite's URL check
V_TOKEN, V_KEY, V_RECEIVER = "123456", "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij", "suite4xxxxxxxxxxxxxxx"
V_TIMESTAMP, V_NONCE, V_SIGNATURE = "1445827045067", "nEXhMP4r", "5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0"
V_ENCRYPT = ("1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7gTRWVdUBmfxjZ8Ej23J"
             "VYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8PYrfgnNOS9PhSBdHlegK+AGGanfwjXuQ9+0p"
             "Zcy0w9lQ==")
V_PLAIN = b'{"EventType":"check_create_suite_url","Random":"LPIdSnlF","TestSuiteKey":"suite4xxxxxxxxxxxxxxx"}'

APP_KEY, TOKEN, KEY = "dingappkey0001", "tok-9f8e7d", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
CONFIG = DingTalkCallbackConfig(app_key=APP_KEY, token=TOKEN, encoding_aes_key=KEY, corp_id="dingcorp01")
NOW = 1_700_000_000.0


def instance_event(instance_id="proc-1", change="finish", result="agree", finish_ms=1_699_999_990_000):
    event = {"EventType": "bpms_instance_change", "processInstanceId": instance_id, "corpId": "dingcorp01",
             "type": change, "staffId": "manager01", "processCode": "PROC-X", "createTime": 1_699_999_000_000}
    if change != "start":
        event["finishTime"] = finish_ms
    if change == "finish":
        event["result"] = result
    return event


def sealed_request(event, *, nonce="n0", timestamp_ms=None, token=TOKEN, key=KEY, receiver=APP_KEY, plain=None):
    """(query, body) as DingTalk posts them."""
    timestamp = str(int(NOW * 1000) if timestamp_ms is None else timestamp_ms)
    encrypted = seal(key, plain if plain is not None else json.dumps(event).encode(), receiver)
    query = {"msg_signature": sha1_signature(token, timestamp, nonce, encrypted), "timestamp": timestamp,
             "nonce": nonce}
    return query, json.dumps({"encrypt": encrypted}).encode()


def run(query, body, *, config=CONFIG, nonces=None, now=NOW, method="POST"):
    return check(config, method=method, query=query, headers={}, body=body, now=now,
                 nonces=nonces if nonces is not None else MemoryNonceStore())


def test_the_published_vector_passes_the_check_as_the_handshake():
    config = DingTalkCallbackConfig(app_key="unused", token=V_TOKEN, encoding_aes_key=V_KEY, receive_id=V_RECEIVER)
    query = {"signature": V_SIGNATURE, "timestamp": V_TIMESTAMP, "nonce": V_NONCE}
    checked = run(query, json.dumps({"encrypt": V_ENCRYPT}).encode(), config=config, now=1445827045.067)
    assert checked.handshake and checked.kind == "check_create_suite_url"
    assert checked.payload == json.loads(V_PLAIN)
    assert reply_is_success(config, checked.reply)
    # and the vector's encrypting direction, through what our replies and the emulator use
    assert sha1_signature(V_TOKEN, V_TIMESTAMP, V_NONCE, seal(V_KEY, V_PLAIN, V_RECEIVER, prefix=b"1234567890123456")) \
        == "bcf6dcefa4ce2dbaf7b0666c7264d46fd9aad4bd"


def test_the_published_vector_is_refused_for_another_receiver_or_out_of_its_window():
    query = {"msg_signature": V_SIGNATURE, "timeStamp": V_TIMESTAMP, "nonce": V_NONCE}
    body = json.dumps({"encrypt": V_ENCRYPT}).encode()
    for_app = DingTalkCallbackConfig(app_key="dingappkey", token=V_TOKEN, encoding_aes_key=V_KEY)
    with pytest.raises(CallbackRejected) as refused:
        run(query, body, config=for_app, now=1445827045.067)
    assert refused.value.reason == "wrong_receiver"
    for_suite = DingTalkCallbackConfig(app_key="x", token=V_TOKEN, encoding_aes_key=V_KEY, receive_id=V_RECEIVER)
    with pytest.raises(CallbackRejected) as stale:
        run(query, body, config=for_suite, now=1445827045.067 + 301)
    assert stale.value.reason == "stale_timestamp"
    assert run(query, body, config=for_suite, now=1445827045.067 + 299).handshake


def test_what_wechatpy_seals_for_the_app_key_we_accept_and_our_reply_wechatpy_opens():
    theirs = WeChatCrypto(TOKEN, KEY, APP_KEY)
    timestamp = str(int(NOW * 1000))
    xml = etree.fromstring(theirs.encrypt_message(json.dumps(instance_event()), "wxnonce", timestamp).encode())
    query = {"msg_signature": xml.findtext("MsgSignature"), "timestamp": timestamp, "nonce": "wxnonce"}
    checked = run(query, json.dumps({"encrypt": xml.findtext("Encrypt")}).encode())
    assert checked.kind == "bpms_instance_change" and approval_change(checked).status == "approved"
    reply = json.loads(checked.reply)
    assert set(reply) == {"msg_signature", "timeStamp", "nonce", "encrypt"}
    envelope = f"<xml><Encrypt><![CDATA[{reply['encrypt']}]]></Encrypt></xml>"
    assert theirs.decrypt_message(envelope, reply["msg_signature"], reply["timeStamp"], reply["nonce"]) == "success"


def test_the_reply_is_fixed_by_its_random_parts_and_tampering_shows():
    first = reply_for(CONFIG, None, NOW, nonce="abc", prefix=b"1234567890123456")
    assert first == reply_for(CONFIG, None, NOW, nonce="abc", prefix=b"1234567890123456")
    assert json.loads(first)["timeStamp"] == str(int(NOW * 1000))
    assert reply_is_success(CONFIG, first)
    tampered = json.loads(first) | {"nonce": "abd"}
    assert not reply_is_success(CONFIG, json.dumps(tampered).encode())
    assert not reply_is_success(CONFIG, b"success")


@pytest.mark.parametrize(("change", "result", "status", "terminal"), [
    ("start", None, "pending", False), ("finish", "agree", "approved", True), ("finish", "refuse", "rejected", True),
    ("terminate", None, "cancelled", True)])
def test_instance_events_read_as_the_engine_needs(change, result, status, terminal):
    query, body = sealed_request(instance_event(change=change, result=result))
    found = approval_change(run(query, body))
    assert (found.status, found.terminal, found.change, found.instance_id) == (status, terminal, change, "proc-1")


def test_task_events_keep_the_instance_pending_and_name_the_task():
    event = {"EventType": "bpms_task_change", "processInstanceId": "proc-1", "type": "finish", "result": "agree",
             "staffId": "manager01", "taskId": 60001, "createTime": 1, "finishTime": 2, "corpId": "dingcorp01"}
    found = approval_change(run(*sealed_request(event)))
    assert (found.status, found.terminal, found.task_id, found.result) == ("pending", False, "60001", "agree")


def test_event_keys_name_the_change_not_the_delivery():
    finish = instance_event()
    assert event_key(finish) == event_key(dict(reversed(finish.items())))
    assert event_key(finish) != event_key(instance_event(result="refuse"))
    assert event_key(finish) != event_key(instance_event(change="start"))
    assert event_key(finish) != event_key(instance_event(instance_id="proc-2"))
    org = {"EventType": "user_modify_org", "UserId": ["u1"], "CorpId": "c"}
    assert event_key(org) == event_key(dict(org)) != event_key(org | {"UserId": ["u2"]})


def test_other_events_pass_with_their_type_and_no_approval_change():
    checked = run(*sealed_request({"EventType": "user_leave_org", "UserId": ["sales02"], "CorpId": "dingcorp01"}))
    assert checked.kind == "user_leave_org" and not checked.handshake and approval_change(checked) is None


def test_the_config_keeps_its_secrets_out_of_its_repr():
    shown = repr(CONFIG)
    assert APP_KEY in shown and TOKEN not in shown and KEY not in shown


# ---- 1,000 forgeries: none accepted, no nonce used up ------------------------------------------------------------

def _raw_seal(plain_with_header: bytes, pad_bytes: bytes, key=KEY) -> str:
    """Seal with padding of our choosing (to forge bad padding under the right key)."""
    raw = aes_key(key)
    encryptor = Cipher(algorithms.AES(raw), modes.CBC(raw[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain_with_header + pad_bytes) + encryptor.finalize()).decode()


def _signed(encrypted: str, nonce: str, timestamp: str | None = None, token: str = TOKEN):
    timestamp = timestamp or str(int(NOW * 1000))
    query = {"msg_signature": sha1_signature(token, timestamp, nonce, encrypted), "timestamp": timestamp,
             "nonce": nonce}
    return query, json.dumps({"encrypt": encrypted}).encode()


def _forgeries(rng: random.Random, nonce: str):
    """One forged or malformed callback of each kind, all using ``nonce``."""
    event = instance_event(instance_id=f"p{rng.randrange(10**6)}")
    plain = json.dumps(event).encode()
    genuine_query, genuine_body = sealed_request(event, nonce=nonce)
    genuine_encrypt = json.loads(genuine_body)["encrypt"]
    header = bytes(16) + struct.pack(">I", len(plain)) + plain + APP_KEY.encode()
    pad = 32 - len(header) % 32
    offset_s = rng.choice([-1, 1]) * rng.randint(301, 10**6)
    flipped = genuine_query["msg_signature"][:-1] + ("0" if genuine_query["msg_signature"][-1] != "0" else "1")
    yield "bad_signature", (genuine_query | {"msg_signature": flipped}, genuine_body)
    yield "bad_signature", (genuine_query | {"msg_signature": f"{rng.getrandbits(160):040x}"}, genuine_body)
    yield "wrong_token", sealed_request(event, nonce=nonce, token="not-the-token")
    yield "wrong_receiver", sealed_request(event, nonce=nonce, receiver="dingotherapp")
    yield "wrong_key", sealed_request(event, nonce=nonce, key="a" * 43)
    yield "stale", sealed_request(event, nonce=nonce, timestamp_ms=int((NOW + offset_s) * 1000))
    yield "seconds_not_ms", sealed_request(event, nonce=nonce, timestamp_ms=int(NOW))
    yield "bad_padding_zero", _signed(_raw_seal(header + b"\0" * (pad - 1), b"\0"), nonce)
    yield "bad_padding_mixed", _signed(_raw_seal(header + bytes([pad]) * (pad - 1), bytes([pad % 31 + 1])), nonce)
    yield "truncated_blocks", _signed(base64.b64encode(base64.b64decode(genuine_encrypt)[:-16]).decode(), nonce)
    yield "truncated_bytes", _signed(genuine_encrypt[: rng.randrange(4, len(genuine_encrypt) - 4)], nonce)
    lying = bytes(16) + struct.pack(">I", 10**6) + plain
    lie_pad = 32 - len(lying) % 32
    yield "length_lies", _signed(_raw_seal(lying, bytes([lie_pad]) * lie_pad), nonce)
    yield "inner_not_json", sealed_request(None, nonce=nonce, plain=b"<xml>not json</xml>")
    yield "inner_no_type", sealed_request({"processInstanceId": "p"}, nonce=nonce)
    yield "wrong_corp", sealed_request(event | {"corpId": "dingothercorp"}, nonce=nonce)
    yield "oversized", (genuine_query, json.dumps({"encrypt": genuine_encrypt, "pad": "x" * MAX_BODY_BYTES}).encode())
    yield "not_json", (genuine_query, b"encrypt=" + genuine_encrypt.encode())
    yield "json_array", (genuine_query, json.dumps([genuine_encrypt]).encode())
    yield "encrypt_not_text", (genuine_query, json.dumps({"encrypt": 12345}).encode())
    yield "no_signature", ({k: v for k, v in genuine_query.items() if k != "msg_signature"}, genuine_body)
    yield "timestamp_not_digits", (genuine_query | {"timestamp": "17e11"}, genuine_body)
    yield "no_nonce", (genuine_query | {"nonce": ""}, genuine_body)
    yield "binary_body", (genuine_query, bytes(rng.getrandbits(8) for _ in range(64)))


def test_a_thousand_forged_or_malformed_callbacks_are_all_refused_and_use_up_no_nonce():
    rng = random.Random(20261206)
    nonces = MemoryNonceStore()
    reasons: Counter[str] = Counter()
    tried = accepted = 0
    while tried < 1000:
        nonce = f"forged-{tried}"
        for _kind, (query, body) in _forgeries(rng, nonce):
            tried += 1
            try:
                run(query, body, nonces=nonces)
                accepted += 1
            except CallbackRejected as exc:
                reasons[exc.reason] += 1
        # the forgeries used this nonce; a genuine callback with it still passes (nothing was recorded)
        assert run(*sealed_request(instance_event(), nonce=nonce), nonces=nonces).kind == "bpms_instance_change"
        with pytest.raises(CallbackRejected):  # and then it is spent
            run(*sealed_request(instance_event(), nonce=nonce), nonces=nonces)
    assert tried >= 1000 and accepted == 0
    assert {"bad_signature", "wrong_receiver", "stale_timestamp", "bad_padding", "truncated", "malformed",
            "oversized", "wrong_corp"} <= set(reasons), reasons
    with pytest.raises(CallbackRejected) as wrong_method:
        run(*sealed_request(instance_event(), nonce="get"), method="GET")
    assert wrong_method.value.reason == "malformed"


def test_a_thousand_replays_of_a_hundred_genuine_events_have_exactly_a_hundred_effects():
    rng = random.Random(7)
    nonces, seen = MemoryNonceStore(), set()
    events = [instance_event(instance_id=f"proc-{i}", result=rng.choice(["agree", "refuse"])) for i in range(100)]
    deliveries = []
    for number, event in enumerate(events):
        first = sealed_request(event, nonce=f"first-{number}")
        deliveries.append(first)
        for copy in range(10):  # a verbatim replay of the recorded request, or DingTalk's retry in a fresh envelope
            deliveries.append(first if copy % 2 else sealed_request(event, nonce=f"retry-{number}-{copy}",
                                                                  timestamp_ms=int(NOW * 1000) + copy * 1000))
    rng.shuffle(deliveries)
    effects, refused = 0, Counter()
    for query, body in deliveries:
        try:
            checked = run(query, body, nonces=nonces)
        except CallbackRejected as exc:
            refused[exc.reason] += 1
            continue
        if checked.event_key not in seen:
            seen.add(checked.event_key)
            effects += 1
    assert len(deliveries) == 1100 and effects == 100
    assert refused == {"replayed_nonce": 500}  # the verbatim replays; the fresh envelopes are de-duplicated by key


def test_over_http_forgeries_get_403_and_change_nothing_while_a_genuine_one_takes_effect():
    receiver = Receiver(CONFIG, lambda: NOW)
    with Running(receiver) as served:
        url = f"{served.url}/callbacks/dingtalk"
        kinds = 0
        for _kind, (query, body) in _forgeries(random.Random(3), "over-http"):
            answer = requests.post(url, params=query, data=body, timeout=10)
            kinds += 1
            assert answer.status_code == 403 and b"success" not in answer.content
        assert kinds > 20 and receiver.accepted == [] and len(receiver.refused) == kinds
        query, body = sealed_request(instance_event(), nonce="over-http")
        answer = requests.post(url, params=query, data=body, timeout=10)
        assert answer.status_code == 200 and reply_is_success(CONFIG, answer.content)
        assert [c.kind for c in receiver.effects] == ["bpms_instance_change"]
