"""What the in-memory path tests share: start data, and starting each process up to its first approval."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from tests.bpmn_static.harness import Run, Stub

APPLICATION = {"applicant": "E0101", "org_unit": "SALES-N", "document_no": "TA-2026-0001", "currency": "CNY",
               "period": "2026"}
COUNTERSIGNERS = ["E0201", "E0202", "E0203"]


def travel(restricted: bool, stub: Stub | None = None, **form: Any) -> Run:
    run = Run("travel_application", {**APPLICATION, "countersigners": COUNTERSIGNERS}, stub, restricted)
    assert run.inbox() == [("fill_application", "applicant", None)]
    run.complete("fill_application", **{"subject": "TRAVEL", "purpose": "Customer visit 客户拜访", **form})
    return run


def assert_json_safe(data: dict[str, Any]) -> None:
    json.dumps({k: v for k, v in data.items() if k != "amount_value"})  # amount_value is the one Decimal
    assert isinstance(data.get("amount_value", Decimal(0)), Decimal)


CLAIM = {"applicant": "E0101", "org_unit": "SALES-N", "document_no": "EC-2026-0001", "currency": "CNY",
         "period": "2026"}
LINES = [
    {"subject": "HOTEL", "amount": "1280.50", "tax": "72.48", "invoice_code": "031002300111",
     "invoice_number": "12345678"},
    {"subject": "TRAVEL", "amount": "553.00", "tax": "45.66", "invoice_code": "", "invoice_number": "E00012"},
]
LINKED = {"application_no": "TA-2026-0001", "reservation_id": "RSV-TA-2026-0001"}


def claim(restricted: bool, stub: Stub | None = None, linked: bool = False, lines: list | None = None,
          **form: Any) -> Run:
    run = Run("expense_claim", {**CLAIM, **(LINKED if linked else {})}, stub, restricted)
    run.complete("fill_claim", **{"subject": "TRAVEL", "purpose": "Shanghai trip 上海出差",
                                  "lines": lines or LINES, **form})
    return run
