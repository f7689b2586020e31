"""Feishu's callback check: the official vector, lark-oapi's cipher, every refusal, forgeries and replays."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import secrets

import pytest
from Crypto.Cipher import AES  # pycryptodome: the AES lark-oapi itself is built on
from Crypto.Util.Padding import pad
from lark_oapi.core.utils import AESCipher

from connectors.oa.callbacks import MAX_BODY_BYTES, CallbackRejected, MemoryNonceStore
from connectors.oa.feishu_callbacks import ACK, FeishuCallbackConfig, check, decrypt, encrypt

from .helpers import APP_ID, CONFIG, KEY, NOW, TOKEN, post, sign, v1_event, v2_event


def run(headers: dict[str, str], body: bytes, *, nonces: MemoryNonceStore | None = None, now: float = NOW,
        config: FeishuCallbackConfig = CONFIG):
    return check(config, method="POST", query={}, headers=headers, body=body, now=now,
                 nonces=nonces or MemoryNonceStore())


def refusal(headers: dict[str, str], body: bytes, **kwargs) -> str:
    with pytest.raises(CallbackRejected) as refused:
        run(headers, body, **kwargs)
    return refused.value.reason


def test_the_official_vector_decrypts_and_our_envelope_of_it_round_trips():
    assert decrypt("test key", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=") == b"hello world"
    iv = base64.b64decode("P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=")[:16]
    assert encrypt("test key", b"hello world", iv=iv) == "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk="


def test_what_lark_oapis_aes_seals_we_open_and_what_we_seal_lark_oapi_opens():
    # lark-oapi only decrypts, so "theirs" is Feishu's recipe on the very AES library lark-oapi uses.
    event = json.dumps(v1_event()).encode()
    iv = os.urandom(16)
    theirs = base64.b64encode(iv + AES.new(hashlib.sha256(KEY.encode()).digest(), AES.MODE_CBC, iv)
                              .encrypt(pad(event, 16))).decode()
    headers, body = sign(json.dumps({"encrypt": theirs}).encode())
    assert run(headers, body).payload == json.loads(event)
    assert AESCipher(KEY).decrypt_str(encrypt(KEY, "审批 approved".encode())) == "审批 approved"


def test_a_genuine_v1_event_is_accepted_with_its_uuid_as_key():
    event = v1_event()
    checked = run(*post(event))
    assert (checked.vendor, checked.event_key, checked.kind) == ("feishu", event["uuid"], "approval_instance")
    assert checked.payload["event"]["status"] == "APPROVED" and checked.reply == ACK and not checked.handshake


def test_a_genuine_v2_event_is_accepted_with_its_event_id_as_key():
    event = v2_event()
    checked = run(*post(event))
    assert (checked.event_key, checked.kind) == (event["header"]["event_id"], "approval_instance")


def test_header_names_are_matched_whatever_their_case():
    headers, body = post(v1_event())
    assert run({name.lower(): value for name, value in headers.items()}, body).kind == "approval_instance"


def test_url_verification_unsigned_but_encrypted_answers_the_challenge_and_needs_our_token():
    checked = run(*post({"challenge": "ch-123", "token": TOKEN, "type": "url_verification"}, signed=False))
    assert checked.handshake and json.loads(checked.reply) == {"challenge": "ch-123"}
    assert "json" in checked.content_type
    wrong = {"challenge": "ch-123", "token": "another", "type": "url_verification"}
    assert refusal(*post(wrong, signed=False)) == "wrong_token"


@pytest.mark.parametrize(("make", "reason"), [
    (lambda: post(v1_event(token="another-token")), "wrong_token"),
    (lambda: post(v2_event(token="another-token")), "wrong_token"),
    (lambda: post(v1_event(app_id="cli_other")), "wrong_app"),
    (lambda: post(v2_event(app_id="cli_other")), "wrong_app"),
    (lambda: post(v1_event(), timestamp=NOW - 301), "stale_timestamp"),
    (lambda: post(v1_event(), timestamp=NOW + 301), "stale_timestamp"),
    (lambda: post(v1_event(), key="another key"), "bad_signature"),
    (lambda: post(v1_event(), signed=False), "bad_signature"),
    (lambda: ({}, json.dumps(v1_event()).encode()), "not_encrypted"),
    (lambda: sign(b"not json"), "malformed"),
    (lambda: sign(b"[1, 2]"), "malformed"),
    (lambda: sign(b'{"encrypt": "***"}'), "malformed"),
    (lambda: sign(json.dumps({"encrypt": base64.b64encode(bytes(40)).decode()}).encode()), "malformed"),
    # a fixed IV: with a random one, 1 time in about 256 the wrong key still yields valid padding
    (lambda: sign(json.dumps({"encrypt": encrypt("another key", b"{}", iv=bytes(16))}).encode()), "bad_padding"),
    (lambda: post(b"plain text"), "malformed"),
    (lambda: post({"type": "something_else"}), "malformed"),
    (lambda: post({"uuid": "u1", "token": TOKEN, "type": "event_callback"}), "malformed"),
    (lambda: post({**v1_event(), "uuid": ""}), "malformed"),
    (lambda: sign(b" " * (MAX_BODY_BYTES + 1)), "oversized"),
])
def test_each_kind_of_bad_post_is_refused_with_its_reason(make, reason):
    assert refusal(*make()) == reason


def test_a_tampered_signature_or_body_is_refused_and_the_timestamp_must_be_a_number():
    headers, body = post(v1_event())
    assert refusal({**headers, "X-Lark-Signature": "0" * 64}, body) == "bad_signature"
    assert refusal(headers, body.replace(b'"}', b'" }')) == "bad_signature"
    assert refusal({**headers, "X-Lark-Request-Timestamp": "17e8"}, body) == "malformed"
    assert run(headers, body).kind == "approval_instance"  # the untouched post passes


def test_a_replayed_post_is_refused_but_a_forged_one_does_not_use_up_its_nonce():
    nonces = MemoryNonceStore()
    headers, body = post(v1_event())
    assert refusal({**headers, "X-Lark-Signature": "0" * 64}, body, nonces=nonces) == "bad_signature"
    assert run(headers, body, nonces=nonces).kind == "approval_instance"
    assert refusal(headers, body, nonces=nonces) == "replayed_nonce"


def test_the_config_repr_shows_no_secret():
    config = FeishuCallbackConfig(app_id=APP_ID, verification_token="tok-SECRET", encrypt_key="key-SECRET")
    assert "SECRET" not in repr(config) and APP_ID in repr(config)


def _forgeries(rng: random.Random, replayable: tuple[dict[str, str], bytes]):
    """Endless forged or malformed posts, one kind after another."""
    kinds = [
        lambda: post(v1_event(), key="k" + secrets.token_hex(4)),  # wrong key
        lambda: ({**post(v1_event())[0], "X-Lark-Signature": secrets.token_hex(32)}, post(v1_event())[1]),
        lambda: post(v1_event(token=secrets.token_hex(6))),
        lambda: post(v1_event(app_id="cli_" + secrets.token_hex(4))),
        lambda: post(v2_event(app_id="cli_" + secrets.token_hex(4))),
        lambda: post(v1_event(), timestamp=NOW + rng.choice([-1, 1]) * rng.randint(301, 10**6)),
        lambda: replayable,
        lambda: sign(json.dumps({"encrypt": encrypt("k" + secrets.token_hex(4), b"{}")}).encode()),  # bad padding
        lambda: sign(post(v1_event())[1][:rng.randint(1, 60)]),  # truncated
        lambda: sign(b"x" * (MAX_BODY_BYTES + rng.randint(1, 100))),  # oversized
        lambda: sign(secrets.token_bytes(rng.randint(1, 200))),  # not JSON
        lambda: post(v1_event(), signed=False),
        lambda: ({}, json.dumps(v1_event()).encode()),  # plaintext
        lambda: post({"challenge": "c", "token": "nope", "type": "url_verification"}, signed=False),
    ]
    while True:
        yield rng.choice(kinds)()


def test_a_thousand_forged_or_malformed_posts_are_all_refused_while_a_genuine_one_passes():
    nonces, rng = MemoryNonceStore(), random.Random(10)
    replayable = post(v1_event())
    assert run(*replayable, nonces=nonces).kind == "approval_instance"  # genuine, and now spent
    accepted, reasons = 0, set()
    forgeries = _forgeries(rng, replayable)
    for _ in range(1000):
        try:
            run(*next(forgeries), nonces=nonces)
            accepted += 1
        except CallbackRejected as refused:
            reasons.add(refused.reason)
    assert accepted == 0
    assert reasons >= {"bad_signature", "wrong_token", "wrong_app", "stale_timestamp", "replayed_nonce",
                       "bad_padding", "malformed", "oversized", "not_encrypted"}
    assert run(*post(v2_event()), nonces=nonces).kind == "approval_instance"  # and a genuine one still passes


def test_a_thousand_deliveries_of_a_hundred_genuine_events_have_exactly_a_hundred_effects():
    nonces, rng, effects = MemoryNonceStore(), random.Random(11), []
    events = [v1_event() if i % 2 else v2_event() for i in range(100)]
    sent = [post(event) for event in events]
    seen: set[str] = set()
    deliveries = [*sent, *(rng.choice(sent) for _ in range(450)),  # the same post again (an attacker's replay)
                  *(post(rng.choice(events)) for _ in range(450))]  # re-signed: Feishu's own retries
    rng.shuffle(deliveries)
    assert len(deliveries) == 1000
    for headers, body in deliveries:
        try:
            checked = run(headers, body, nonces=nonces)
        except CallbackRejected as refused:
            assert refused.reason == "replayed_nonce"
            continue
        if checked.event_key not in seen:
            seen.add(checked.event_key)
            effects.append(checked.event_key)
    assert len(effects) == 100 and len(set(effects)) == 100
