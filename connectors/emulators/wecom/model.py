"""The emulated corp's constants and the records the emulator keeps: tokens, templates, callback deliveries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

CORP_ID = "ww3f5a8d0c2b71e946"
APP_SECRET = "emulator-app-secret-0123456789abcdefghijklm"  # noqa: S105 (a demo value, published)
AGENT_ID = 1000002
TEMPLATE_ID = "C4UCJS891Afmu1rE1ws6kwP8JfdASuBhM7NaAWmTp"  # 费用报销
TRAVEL_TEMPLATE_ID = "C4UCJS891Afmu1rE1ws6kwP8JfdASuBhM7NaTrVl1"  # 出差申请
BUDGET_TEMPLATE_ID = "C4UCJS891Afmu1rE1ws6kwP8JfdASuBhM7NaBfAp2"  # 预算审批 (budgetflow creates these)
TOKEN_TTL = 7200
CODE_TTL = 300
APPROVAL_CALLS_PER_MINUTE = 600
MAX_WINDOW = 31 * 86400
CHINA = timedelta(hours=8)  # sp_no dates are Beijing dates


@dataclass
class Token:
    agent_id: int
    expires_at: float
    fragile: bool = False  # issued under the expire_tokens fault: good for one call
    uses: int = 0


@dataclass
class Template:
    name: str
    controls: list[dict[str, Any]]  # {control, id, title, require, children: [...] for a Table}
    nodes: list[tuple[int, list[str]]]  # the template's approval flow: (1 或签 / 2 会签, approvers)


@dataclass
class Delivery:
    sp_no: str
    change_event: int
    status: int | None  # HTTP status of the last attempt, None when it never answered
    attempts: int
    dropped: bool = False


@dataclass
class CallbackTarget:
    url: str
    token: str = field(repr=False)
    encoding_aes_key: str = field(repr=False)
