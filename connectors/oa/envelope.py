"""The AES envelope DingTalk and WeCom wrap their callbacks in, and the SHA-1 signature over it.

Both vendors use one scheme (WeCom in XML, DingTalk in JSON): the 43-character EncodingAESKey plus "=" is the
base64 of a 32-byte AES-256 key; the ciphertext is AES-CBC with the key's first 16 bytes as IV over
``random(16) + len(message) as 4 bytes big-endian + message + receive_id``, padded PKCS#7 to 32-byte blocks
(not AES's 16). ``receive_id`` names who the message is for: the corp id for WeCom, the app key (or corp id,
or suite key) for DingTalk; a message for another receiver is refused.

The padding is checked by hand because the vendors' block size (32) is not one ``cryptography``'s PKCS7
unpadder accepts for AES; everything else is ``cryptography``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # the vendors pad to 32 bytes


class EnvelopeError(ValueError):
    """A message that does not open: ``reason`` is one of bad_key, bad_base64, bad_length, bad_padding,
    truncated, wrong_receiver."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte key behind a 43-character EncodingAESKey."""
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise EnvelopeError("bad_key", "the EncodingAESKey is not 43 characters of base64") from None
    if len(encoding_aes_key) != 43 or len(key) != 32:
        raise EnvelopeError("bad_key", "the EncodingAESKey is not 43 characters of base64")
    return key


def sha1_signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """The vendors' signature: SHA-1 over the four strings sorted and joined."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()  # noqa: S324


def signature_matches(expected: str, given: str) -> bool:
    """Compare in constant time, so a forger learns nothing from how long a refusal took."""
    return hmac.compare_digest(expected.encode(), given.encode())


def seal(encoding_aes_key: str, message: bytes, receive_id: str, *, prefix: bytes | None = None) -> str:
    """Encrypt ``message`` for ``receive_id``; ``prefix``: the 16 random bytes (only tests fix them)."""
    key = aes_key(encoding_aes_key)
    prefix = os.urandom(16) if prefix is None else prefix
    if len(prefix) != 16:
        raise ValueError("the random prefix is 16 bytes")
    plain = prefix + struct.pack(">I", len(message)) + message + receive_id.encode()
    pad = BLOCK - len(plain) % BLOCK
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    sealed = encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()
    return base64.b64encode(sealed).decode()


def open_sealed(encoding_aes_key: str, encrypted: str, receive_id: str) -> bytes:
    """The message inside ``encrypted``, if it decrypts, unpads and was sealed for ``receive_id``."""
    key = aes_key(encoding_aes_key)
    try:
        sealed = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError):
        raise EnvelopeError("bad_base64", "the encrypted text is not base64") from None
    if not sealed or len(sealed) % 16:
        raise EnvelopeError("bad_length", "the encrypted text is not whole AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(sealed) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= BLOCK or pad > len(plain) or plain[-pad:] != bytes([pad]) * pad:
        raise EnvelopeError("bad_padding", "the decrypted text is not padded as the vendor pads")
    plain = plain[:-pad]
    if len(plain) < 20:
        raise EnvelopeError("truncated", "the decrypted text is shorter than its header")
    (length,) = struct.unpack(">I", plain[16:20])
    if 20 + length > len(plain):
        raise EnvelopeError("truncated", "the decrypted text is shorter than the length it declares")
    message, receiver = plain[20:20 + length], plain[20 + length:]
    if not hmac.compare_digest(receiver, receive_id.encode()):
        raise EnvelopeError("wrong_receiver", "the message was sealed for another corp or app")
    return message
