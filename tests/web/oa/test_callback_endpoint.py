"""``/callbacks/<vendor>`` over real HTTP on the real app and database: forged or malformed callbacks change
nothing (no stored event, no spent nonce), genuine ones are stored once however often they are delivered, and
the URL handshakes answer as each vendor expects."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import requests
from sqlalchemy import func, select

from connectors.oa.callbacks import MAX_BODY_BYTES
from connectors.oa.envelope import seal, sha1_signature
from connectors.oa.feishu_callbacks import encrypt as feishu_encrypt
from connectors.oa.feishu_callbacks import signature as feishu_signature
from engine.persistence.oa_tables import OaCallback, OaNonce
from tests.web.oa.serving import served

DT_APP, DT_TOKEN, DT_KEY = "dingappkey0001", "dt-token-1", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
WC_CORP, WC_TOKEN, WC_KEY = "wx5823bf96d3bd56c7", "wc-token-1", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
FS_APP, FS_TOKEN, FS_KEY = "cli_bf0001", "fs-verification-1", "fs-encrypt-key-1"
OTHER_KEY = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij"
OA_TOML = f"""[dingtalk]
app_key = "{DT_APP}"
app_secret = "dt-secret"
callback_token = "{DT_TOKEN}"
encoding_aes_key = "{DT_KEY}"
corp_id = "dingcorp01"

[wecom]
corp_id = "{WC_CORP}"
agent_id = "1000002"
secret = "wc-secret"
callback_token = "{WC_TOKEN}"
encoding_aes_key = "{WC_KEY}"

[feishu]
app_id = "{FS_APP}"
app_secret = "fs-secret"
verification_token = "{FS_TOKEN}"
encrypt_key = "{FS_KEY}"
"""


@dataclass(frozen=True)
class Post:
    method: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


# ---- genuine callbacks, stamped now, as each vendor builds them -------------------------------------------------

def dingtalk(n: int, *, nonce: str | None = None, stamp: float | None = None, token: str = DT_TOKEN,
             key: str = DT_KEY, receiver: str = DT_APP, plain: bytes | None = None) -> Post:
    event = {"EventType": "bpms_instance_change", "processInstanceId": f"proc-{n}", "corpId": "dingcorp01",
             "type": "finish", "result": "agree", "staffId": "manager01", "processCode": "PROC-X",
             "createTime": 1_799_000_000_000, "finishTime": 1_799_000_000_000 + n}
    encrypted = seal(key, plain if plain is not None else json.dumps(event).encode(), receiver)
    timestamp, nonce = str(int((stamp or time.time()) * 1000)), nonce or secrets.token_hex(8)
    query = {"msg_signature": sha1_signature(token, timestamp, nonce, encrypted), "timestamp": timestamp,
             "nonce": nonce}
    return Post("POST", query, {"Content-Type": "application/json"}, json.dumps({"encrypt": encrypted}).encode())


def wecom(n: int, *, nonce: str | None = None, stamp: float | None = None, token: str = WC_TOKEN,
          key: str = WC_KEY, receiver: str = WC_CORP, plain: bytes | None = None) -> Post:
    created = 1_799_000_000 + n
    xml = (f"<xml><ToUserName><![CDATA[{WC_CORP}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
           f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
           f"<Event><![CDATA[sys_approval_change]]></Event><AgentID>1000002</AgentID><ApprovalInfo>"
           f"<SpNo>2026{n:08d}</SpNo><SpNoStr>2026{n:08d}</SpNoStr><SpStatus>2</SpStatus>"
           f"<TemplateId><![CDATA[tmpl-1]]></TemplateId><ApplyTime>{created}</ApplyTime><Applyer><UserId>"
           f"<![CDATA[Hepeng]]></UserId></Applyer><StatuChangeEvent>2</StatuChangeEvent></ApprovalInfo></xml>")
    encrypted = seal(key, plain if plain is not None else xml.encode(), receiver)
    timestamp, nonce = str(int(stamp or time.time())), nonce or secrets.token_hex(8)
    query = {"msg_signature": sha1_signature(token, timestamp, nonce, encrypted), "timestamp": timestamp,
             "nonce": nonce}
    body = (f"<xml><ToUserName><![CDATA[{WC_CORP}]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>").encode()
    return Post("POST", query, {"Content-Type": "text/xml"}, body)


def feishu(n: int, *, nonce: str | None = None, stamp: float | None = None, token: str = FS_TOKEN,
           key: str = FS_KEY, receiver: str = FS_APP, plain: bytes | None = None) -> Post:
    event = {"uuid": f"evt-{n}", "token": token, "ts": f"{time.time():.3f}", "type": "event_callback",
             "event": {"type": "approval_instance", "app_id": receiver, "instance_code": f"INST-{n}",
                       "status": "APPROVED", "instance_operate_time": "1799000000000", "approval_code": "A-1"}}
    body = json.dumps({"encrypt": feishu_encrypt(key, plain if plain is not None else json.dumps(event).encode())}
                      ).encode()
    timestamp, nonce = str(int(stamp or time.time())), nonce or secrets.token_hex(8)
    headers = {"Content-Type": "application/json", "X-Lark-Request-Timestamp": timestamp,
               "X-Lark-Request-Nonce": nonce, "X-Lark-Signature": feishu_signature(timestamp, nonce, FS_KEY, body)}
    return Post("POST", {}, headers, body)


GENUINE: dict[str, Callable[..., Post]] = {"dingtalk": dingtalk, "wecom": wecom, "feishu": feishu}


def forgeries(vendor: str, n: int, spent_nonce: str) -> Iterator[Post]:
    """Forged or malformed posts of every kind, each otherwise genuine."""
    make = GENUINE[vendor]
    good = make(n)
    yield make(n, token="not-the-token")  # signed with another token
    yield make(n, key=OTHER_KEY if vendor != "feishu" else "another-key")  # sealed under another key
    yield make(n, receiver="someone-else")  # for another corp or app
    yield make(n, stamp=time.time() - 301)  # outside the window, behind
    yield make(n, stamp=time.time() + 400)  # and ahead
    yield make(n, nonce=spent_nonce)  # a replay: its nonce was spent by an accepted callback
    yield make(n, plain=b"\x00not the vendor's format\xff")  # signed and sealed, but not JSON or XML inside
    yield Post(good.method, good.query, good.headers, good.body[: len(good.body) // 2])  # truncated
    yield Post(good.method, good.query, good.headers, good.body + b" " * MAX_BODY_BYTES)  # oversized
    yield Post(good.method, good.query, good.headers, b"hello")  # not the vendor's envelope at all
    if vendor == "feishu":
        yield Post(good.method, good.query, {**good.headers, "X-Lark-Signature": "0" * 64}, good.body)
    else:
        yield Post(good.method, {**good.query, "msg_signature": "0" * 40}, good.headers, good.body)


# ---- the app over real HTTP ---------------------------------------------------------------------------------------

@pytest.fixture
def oa_site(demo) -> Iterator[tuple[str, object]]:
    settings_file = demo.settings.instance_dir / "oa.toml"
    settings_file.write_text(OA_TOML, encoding="utf-8")
    settings_file.chmod(0o600)
    with served(demo, threads=8) as site:
        yield site, demo


def send(http: requests.Session, base: str, vendor: str, post: Post) -> requests.Response:
    return http.request(post.method, f"{base}/callbacks/{vendor}", params=post.query, headers=post.headers,
                        data=post.body, timeout=30)


def stored(app) -> tuple[int, int]:
    with app.session_factory() as s:
        events = s.scalar(select(func.count()).select_from(OaCallback))
        return events, s.scalar(select(func.count()).select_from(OaNonce))


@pytest.mark.parametrize("vendor", sorted(GENUINE))
def test_a_thousand_forged_callbacks_change_nothing_and_a_genuine_one_is_stored(oa_site, vendor):
    base, app = oa_site
    http = requests.Session()
    first = GENUINE[vendor](0)
    assert send(http, base, vendor, first).status_code == 200
    spent = first.headers.get("X-Lark-Request-Nonce") or first.query["nonce"]
    before, statuses, n = stored(app), set(), 1
    while n <= 1000:
        for forged in forgeries(vendor, n, spent):
            answer = send(http, base, vendor, forged)
            statuses.add(answer.status_code)
            assert 400 <= answer.status_code < 500, (n, answer.status_code, answer.text[:200])
            assert answer.json()["code"] == "CALLBACK_REJECTED"
            n += 1
    assert stored(app) == before  # not an event, not a nonce
    assert send(http, base, vendor, GENUINE[vendor](n)).status_code == 200  # the same test accepts a real one
    assert stored(app) == (before[0] + 1, before[1] + 1)
    assert statuses <= {400, 413}


@pytest.mark.parametrize("vendor", sorted(GENUINE))
def test_a_thousand_deliveries_of_a_hundred_events_store_exactly_a_hundred(oa_site, vendor):
    base, app = oa_site
    http = requests.Session()
    answers = []
    for delivery in range(10):
        for n in range(100):
            post = GENUINE[vendor](n)  # a redelivery: a fresh envelope, nonce and stamp; the same vendor event
            answers.append(send(http, base, vendor, post).status_code)
            if delivery == 0 and n % 10 == 0:  # and now and then the very same request again: a replay
                answers.append(send(http, base, vendor, post).status_code)
    assert answers.count(200) == 1000 and answers.count(400) == 10
    with app.session_factory() as s:
        events = s.scalars(select(OaCallback.event_key).where(OaCallback.vendor == vendor)).all()
    assert len(events) == len(set(events)) == 100


def test_an_unconfigured_vendor_is_404_and_the_url_handshakes_answer_as_each_vendor_expects(oa_site):
    base, app = oa_site
    http = requests.Session()
    assert http.post(f"{base}/callbacks/lotus", data=b"{}", timeout=10).status_code == 404
    # WeCom: GET with echostr answers the decrypted plaintext
    echostr, stamp, nonce = seal(WC_KEY, b"5927782489442352469", WC_CORP), str(int(time.time())), "hs-1"
    query = {"msg_signature": sha1_signature(WC_TOKEN, stamp, nonce, echostr), "timestamp": stamp, "nonce": nonce,
             "echostr": echostr}
    answer = http.get(f"{base}/callbacks/wecom", params=query, timeout=10)
    assert (answer.status_code, answer.text) == (200, "5927782489442352469")
    # Feishu: url_verification answers the challenge
    challenge = {"challenge": "c-123", "token": FS_TOKEN, "type": "url_verification"}
    post = feishu(0, plain=json.dumps(challenge).encode())
    answer = send(http, base, "feishu", post)
    assert answer.status_code == 200 and answer.json() == {"challenge": "c-123"}
    # DingTalk: check_url answers an encrypted, signed "success"
    post = dingtalk(0, plain=json.dumps({"EventType": "check_url"}).encode())
    answer = send(http, base, "dingtalk", post)
    assert answer.status_code == 200 and set(answer.json()) == {"msg_signature", "timeStamp", "nonce", "encrypt"}
    assert stored(app)[0] == 0  # handshakes are not events
