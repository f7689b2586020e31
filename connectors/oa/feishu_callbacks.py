"""Feishu's callback check: the signature header, the AES envelope, the verification token and the app id.

Feishu posts ``{"encrypt": base64}``: the key is SHA-256 of the app's Encrypt Key, the first 16 bytes of the
decoded text are the IV, the rest is AES-256-CBC with PKCS#7 padding (16-byte blocks, so ``cryptography``'s
unpadder does it). Event posts carry ``X-Lark-Request-Timestamp`` (seconds), ``X-Lark-Request-Nonce`` and
``X-Lark-Signature`` = hex SHA-256 of timestamp + nonce + encrypt key + the raw body; the signature is compared
in constant time, the timestamp must be within the shared window and the nonce unused, so a captured post
cannot be replayed. Inside, the verification token (v1 ``token``, v2 ``header.token``) must be this app's,
and an app id, where the event names one, must be this app's.

Feishu does not sign the URL verification post (sent when the callback address is saved in the developer
console), so that one is accepted unsigned, but only if it decrypts under our key and carries our token; it
changes nothing, the reply just echoes the challenge. Plaintext (unencrypted) posts are refused: without the
Encrypt Key nothing proves the sender, so the app must have one configured.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from connectors.oa.callbacks import (
    MAX_BODY_BYTES,
    CallbackRejected,
    CheckedCallback,
    NonceStore,
    check_nonce,
    check_window,
    json_object,
)

VENDOR = "feishu"
ACK = b'{"msg":"success"}'  # what Feishu's own SDK answers an accepted event with


@dataclass(frozen=True)
class FeishuCallbackConfig:
    """One Feishu app's callback settings, from its developer console ("Events and callbacks")."""

    app_id: str
    verification_token: str = field(repr=False)
    encrypt_key: str = field(repr=False)


def _key(encrypt_key: str) -> bytes:
    return hashlib.sha256(encrypt_key.encode()).digest()


def encrypt(encrypt_key: str, plain: bytes, *, iv: bytes | None = None) -> str:
    """Feishu's envelope around ``plain``; ``iv``: 16 bytes (random unless a test fixes them)."""
    iv = os.urandom(16) if iv is None else iv
    if len(iv) != 16:
        raise ValueError("the IV is 16 bytes")
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(_key(encrypt_key)), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(padded) + encryptor.finalize()).decode()


def decrypt(encrypt_key: str, encrypted: str) -> bytes:
    """The plaintext inside Feishu's envelope; CallbackRejected if it does not decode, decrypt or unpad."""
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError):
        raise CallbackRejected("malformed", "the encrypted text is not base64") from None
    if len(raw) < 32 or len(raw) % 16:
        raise CallbackRejected("malformed", "the encrypted text is not an IV and whole AES blocks")
    decryptor = Cipher(algorithms.AES(_key(encrypt_key)), modes.CBC(raw[:16])).decryptor()
    padded = decryptor.update(raw[16:]) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise CallbackRejected("bad_padding", "the decrypted text is not padded as Feishu pads") from None


def signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    """The ``X-Lark-Signature`` Feishu sends with an event post."""
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


def check(config: FeishuCallbackConfig, *, method: str, query: Mapping[str, str], headers: Mapping[str, str],
          body: bytes, now: float, nonces: NonceStore) -> CheckedCallback:
    """Accept a Feishu callback post or raise CallbackRejected (see the module's docstring for the rules)."""
    del query  # Feishu puts nothing in the query string
    if len(body) > MAX_BODY_BYTES:
        raise CallbackRejected("oversized", "the callback body is larger than any Feishu event")
    if method.upper() != "POST":
        raise CallbackRejected("malformed", "Feishu posts its callbacks")
    encrypted = json_object(body, "the callback body").get("encrypt")
    if not isinstance(encrypted, str):
        raise CallbackRejected("not_encrypted", "the callback is not encrypted; set an Encrypt Key on the app")
    lowered = {name.lower(): value for name, value in headers.items()}
    given = lowered.get("x-lark-signature", "")
    if given:
        _check_signature(config, lowered, given, body, now)
    event = json_object(decrypt(config.encrypt_key, encrypted), "the decrypted callback")
    if event.get("type") == "url_verification":
        return _handshake(config, event)
    if not given:
        raise CallbackRejected("bad_signature", "the event post carries no X-Lark-Signature")
    checked = _event(config, event)
    # Last, so that a forged or broken post cannot use up a genuine post's nonce.
    check_nonce(nonces, VENDOR, lowered.get("x-lark-request-nonce", ""), now)
    return checked


def _check_signature(config: FeishuCallbackConfig, headers: Mapping[str, str], given: str, body: bytes,
                     now: float) -> None:
    timestamp = headers.get("x-lark-request-timestamp", "")
    nonce = headers.get("x-lark-request-nonce", "")
    if not timestamp.isdigit() or len(timestamp) > 12 or not nonce:
        raise CallbackRejected("malformed", "the callback's timestamp or nonce header is missing or not a number")
    expected = signature(timestamp, nonce, config.encrypt_key, body)
    if not hmac.compare_digest(expected.encode(), given.strip().lower().encode()):
        raise CallbackRejected("bad_signature", "the callback's X-Lark-Signature does not match")
    check_window(float(timestamp), now)


def _token_matches(config: FeishuCallbackConfig, token: object) -> None:
    if not isinstance(token, str) or not hmac.compare_digest(token.encode(), config.verification_token.encode()):
        raise CallbackRejected("wrong_token", "the callback's verification token is not this app's")


def _app_matches(config: FeishuCallbackConfig, app_id: object) -> None:
    if app_id is not None and app_id != config.app_id:
        raise CallbackRejected("wrong_app", "the callback is for another Feishu app")


def _handshake(config: FeishuCallbackConfig, event: dict[str, Any]) -> CheckedCallback:
    _token_matches(config, event.get("token"))
    challenge = event.get("challenge")
    if not isinstance(challenge, str) or not challenge or len(challenge) > 256:
        raise CallbackRejected("malformed", "the URL verification has no usable challenge")
    return CheckedCallback(vendor=VENDOR, event_key="", kind="url_verification", payload=event,
                           reply=json.dumps({"challenge": challenge}).encode(),
                           content_type="application/json; charset=utf-8", handshake=True)


def _event(config: FeishuCallbackConfig, event: dict[str, Any]) -> CheckedCallback:
    body = event.get("event")
    if not isinstance(body, dict):
        raise CallbackRejected("malformed", "the callback carries no event object")
    if event.get("schema") == "2.0":
        header = event.get("header")
        if not isinstance(header, dict):
            raise CallbackRejected("malformed", "the v2 event has no header")
        _token_matches(config, header.get("token"))
        _app_matches(config, header.get("app_id"))
        key, kind = header.get("event_id"), header.get("event_type")
    elif event.get("type") == "event_callback":
        _token_matches(config, event.get("token"))
        _app_matches(config, body.get("app_id"))
        key, kind = event.get("uuid"), body.get("type")
    else:
        raise CallbackRejected("malformed", "the callback is neither a v1 nor a v2 event")
    if not isinstance(key, str) or not key or not isinstance(kind, str) or not kind:
        raise CallbackRejected("malformed", "the event has no id or no type")
    return CheckedCallback(vendor=VENDOR, event_key=key, kind=kind, payload=event, reply=ACK,
                           content_type="application/json; charset=utf-8")
