"""An SAP emulator on loopback and budgetflow's SAP client pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from connectors.emulators.base import Running
from connectors.emulators.sap import PASSWORD, USER, SapEmulator
from connectors.erp import ErpClient, VoucherDraft, VoucherLine
from connectors.sap import connect

DAY = date(2026, 9, 11)


def draft(key: str = "EC-2026-000001", amount: str = "1200.00", *, account: str = "6602010000",
          day: date = DAY, **changes: Any) -> VoucherDraft:
    """An expense claim's voucher: the expense (cost center, employee) against the employee payable."""
    value = Decimal(amount)
    expense = (("cost_center", "10101101"), ("employee", "E001"))
    lines = (VoucherLine(account, value, Decimal(0), "差旅费 taxi", expense),
             VoucherLine("2241000000", Decimal(0), value, "应付 张伟", (("employee", "E001"),)))
    return VoucherDraft(**{"document_no": key, "currency": "CNY", "lines": lines, "posting_date": day,
                           "summary": f"报销 {key} 张伟 差旅费", "attachments": 2, **changes})


@pytest.fixture
def emulator() -> SapEmulator:
    return SapEmulator()


@pytest.fixture
def running(emulator: SapEmulator) -> Iterator[Running]:
    with Running(emulator) as served:
        yield served


@pytest.fixture
def settings(running: Running) -> dict[str, Any]:
    return {"connector": "sap", "base_url": running.url, "user": USER, "password": PASSWORD, "book": "1010",
            "timeout_seconds": 5}


@pytest.fixture
def make_client(settings: dict[str, Any]) -> Callable[..., ErpClient]:
    def make(**changes: Any) -> ErpClient:
        return connect({**settings, **changes})
    return make


@pytest.fixture
def client(make_client: Callable[..., ErpClient]) -> ErpClient:
    return make_client()
