"""The DingTalk/WeCom AES envelope against the vendors' published test vectors, and against wechatpy."""

from __future__ import annotations

import base64

import pytest
from lxml import etree
from wechatpy.enterprise.crypto import WeChatCrypto

from connectors.oa.envelope import EnvelopeError, open_sealed, seal, sha1_signature, signature_matches

# DingTalk (the dingtalk-sdk project's crypto test): a suite's check URL event.
DT_TOKEN, DT_KEY, DT_RECEIVER = "123456", "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij", "suite4xxxxxxxxxxxxxxx"
DT_TIMESTAMP, DT_NONCE = "1445827045067", "nEXhMP4r"
DT_ENCRYPT = ("1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7gTRWVdUBmfxjZ8Ej23J"
              "VYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8PYrfgnNOS9PhSBdHlegK+AGGanfwjXuQ9+0p"
              "Zcy0w9lQ==")
DT_PLAIN = b'{"EventType":"check_create_suite_url","Random":"LPIdSnlF","TestSuiteKey":"suite4xxxxxxxxxxxxxxx"}'

# WeCom (wechatpy's crypto tests): the URL check's echostr and a text message.
WC_TOKEN, WC_KEY, WC_CORP = "123456", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a"
WC_ECHOSTR = "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q=="
WC_MESSAGE = ("RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283d"
              "Gymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwB"
              "iT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SN"
              "dshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBd"
              "CRxthuL0=")


def test_dingtalk_vector_signature_and_plaintext():
    assert sha1_signature(DT_TOKEN, DT_TIMESTAMP, DT_NONCE, DT_ENCRYPT) == "5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0"
    assert open_sealed(DT_KEY, DT_ENCRYPT, DT_RECEIVER) == DT_PLAIN


def test_dingtalk_vector_in_the_encrypting_direction():
    sealed = seal(DT_KEY, DT_PLAIN, DT_RECEIVER, prefix=b"1234567890123456")
    assert sha1_signature(DT_TOKEN, DT_TIMESTAMP, DT_NONCE, sealed) == "bcf6dcefa4ce2dbaf7b0666c7264d46fd9aad4bd"


def test_wecom_vectors():
    assert sha1_signature(WC_TOKEN, "1411443780", "437374425", WC_ECHOSTR) == "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96"
    assert open_sealed(WC_KEY, WC_ECHOSTR, WC_CORP) == b"5927782489442352469"
    assert sha1_signature(WC_TOKEN, "1411525903", "461056294", WC_MESSAGE) == "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"
    assert b"<Content><![CDATA[test]]></Content>" in open_sealed(WC_KEY, WC_MESSAGE, WC_CORP)


def test_what_wechatpy_seals_we_open_and_what_we_seal_wechatpy_opens():
    theirs = WeChatCrypto(WC_TOKEN, WC_KEY, WC_CORP)
    reply = etree.fromstring(theirs.encrypt_message("<xml>审批</xml>", "n1", "1700000000").encode())
    encrypted = reply.findtext("Encrypt")
    assert reply.findtext("MsgSignature") == sha1_signature(WC_TOKEN, "1700000000", "n1", encrypted)
    assert open_sealed(WC_KEY, encrypted, WC_CORP) == "<xml>审批</xml>".encode()
    ours = seal(WC_KEY, "<xml>审批</xml>".encode(), WC_CORP)
    signature = sha1_signature(WC_TOKEN, "1700000000", "n2", ours)
    xml = f"<xml><ToUserName><![CDATA[{WC_CORP}]]></ToUserName><Encrypt><![CDATA[{ours}]]></Encrypt></xml>"
    assert theirs.decrypt_message(xml, signature, "1700000000", "n2") == "<xml>审批</xml>"


@pytest.mark.parametrize(("mutate", "reason"), [
    (lambda s: s[:-1], "bad_base64"),
    (lambda s: base64.b64encode(base64.b64decode(s)[:-16]).decode(), "bad_padding"),
    (lambda s: base64.b64encode(base64.b64decode(s)[:-1]).decode(), "bad_length"),
    (lambda s: "", "bad_length"),
    (lambda s: base64.b64encode(bytes(64)).decode(), "bad_padding"),
])
def test_a_damaged_message_is_refused_with_its_reason(mutate, reason):
    with pytest.raises(EnvelopeError) as refused:
        open_sealed(WC_KEY, mutate(WC_MESSAGE), WC_CORP)
    assert refused.value.reason == reason


def test_a_message_for_another_receiver_or_under_another_key_is_refused():
    with pytest.raises(EnvelopeError) as refused:
        open_sealed(WC_KEY, WC_MESSAGE, "wx0000000000000000")
    assert refused.value.reason == "wrong_receiver"
    with pytest.raises(EnvelopeError):
        open_sealed(DT_KEY, WC_MESSAGE, WC_CORP)
    with pytest.raises(EnvelopeError) as bad_key:
        open_sealed("short", WC_MESSAGE, WC_CORP)
    assert bad_key.value.reason == "bad_key"


def test_signatures_compare_in_constant_time_and_exactly():
    assert signature_matches("abc", "abc") and not signature_matches("abc", "abd") and not signature_matches("a", "")
