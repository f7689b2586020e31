"""Building WeCom callbacks for the tests: a genuine one signed and sealed as WeCom does, and the event XML."""

from __future__ import annotations

from connectors.oa.envelope import seal, sha1_signature
from connectors.oa.wecom_callbacks import WeComCallbackConfig

TOKEN, KEY, CORP = "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7"
OTHER_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
CONFIG = WeComCallbackConfig(corp_id=CORP, token=TOKEN, encoding_aes_key=KEY, agent_id="1000002")
NOW = 1_789_000_000


def approval_xml(sp_no: str, change_event: int, sp_status: int, created: int, *, corp: str = CORP) -> bytes:
    return (f"<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
            f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[sys_approval_change]]></Event><AgentID>1000002</AgentID>"
            f"<ApprovalInfo><SpNo>{sp_no}</SpNo><SpNoStr>{sp_no}</SpNoStr><SpName><![CDATA[报销]]></SpName>"
            f"<SpStatus>{sp_status}</SpStatus><TemplateId><![CDATA[tmpl-1]]></TemplateId>"
            f"<ApplyTime>{created}</ApplyTime><Applyer><UserId><![CDATA[zhangsan]]></UserId><Party>1</Party>"
            f"</Applyer><SpRecord><SpStatus>{sp_status}</SpStatus><ApproverAttr>1</ApproverAttr><Details>"
            f"<Approver><UserId><![CDATA[lisi]]></UserId></Approver><Speech/><SpStatus>{sp_status}</SpStatus>"
            f"<SpTime>{created}</SpTime></Details></SpRecord><StatuChangeEvent>{change_event}</StatuChangeEvent>"
            f"</ApprovalInfo></xml>").encode()


def envelope(encrypted: str, *, corp: str = CORP, agent: str = "1000002") -> bytes:
    return (f"<xml><ToUserName><![CDATA[{corp}]]></ToUserName><AgentID><![CDATA[{agent}]]></AgentID>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>").encode()


def signed(encrypted: str, timestamp: int, nonce: str, *, token: str = TOKEN) -> dict[str, str]:
    return {"msg_signature": sha1_signature(token, str(timestamp), nonce, encrypted), "timestamp": str(timestamp),
            "nonce": nonce}


def genuine(message: bytes, timestamp: int, nonce: str, *, key: str = KEY, receiver: str = CORP,
            token: str = TOKEN) -> tuple[dict[str, str], bytes]:
    """The query and body WeCom would POST for ``message``."""
    encrypted = seal(key, message, receiver)
    return signed(encrypted, timestamp, nonce, token=token), envelope(encrypted)


def expense_contents(amount: str = "1280.50") -> list[dict]:
    """A valid form for the emulator's default expense template."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from connectors.oa.wecom_client import date, money, number, table, text
    return [text("Text-1640339319582", "北京出差"), money("Money-1640339319583", Decimal(amount)),
            date("Date-1640339319584", datetime(2026, 12, 1, tzinfo=UTC)), number("Number-1640339319585", 3),
            table("Table-1640339319586", [[text("Text-1640339319587", "机票"),
                                           money("Money-1640339319588", Decimal("980.50"))],
                                          [text("Text-1640339319587", "酒店"),
                                           money("Money-1640339319588", Decimal("300"))]])]
