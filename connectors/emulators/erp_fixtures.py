"""Each ERP emulator served on loopback with a client configured for it: for the bench, the demo and tests.

``emulated_erp("kingdee")`` starts the vendor's emulator with the demo chart of accounts and yields an
``EmulatedErp``: the emulator (its book and fault switches), the settings a company would put in ``erp.toml``
to reach it, and a factory for clients. One place knows each emulator's credentials, so the bench and the
tests cannot drift from the connector's settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from connectors.emulators.base import Running
from connectors.emulators.erp_base import ErpEmulator
from connectors.erp import ErpClient
from connectors.erp_registry import factory


@dataclass(frozen=True)
class ErpSpec:
    emulator: Callable[[], ErpEmulator]
    settings: Callable[[str], dict[str, Any]]  # base URL -> the connector's settings table
    expense_accounts: tuple[str, ...]  # the demo chart's travel accounts, as the dictionary maps them
    payable_account: str
    vat_account: str
    book: str
    voucher_type: str


def _kingdee() -> ErpSpec:
    from connectors.emulators.kingdee import ACCT_ID, APP_ID, APP_SECRET, BOOK, USER_NAME, KingdeeEmulator

    return ErpSpec(KingdeeEmulator, lambda url: {"connector": "kingdee", "base_url": url, "acct_id": ACCT_ID,
                                                 "user_name": USER_NAME, "app_id": APP_ID, "app_secret": APP_SECRET,
                                                 "book": BOOK, "timeout_seconds": 5},
                   ("6602.01", "6602.02", "6602.03", "6602.04"), "2241", "2221.01.01", BOOK, "PRE001")


def _yonbip() -> ErpSpec:
    from connectors.emulators.yonyou import APP_KEY, APP_SECRET, TENANT_ID, YonyouEmulator

    return ErpSpec(YonyouEmulator, lambda url: {"connector": "yonbip", "auth_url": url, "tenant_id": TENANT_ID,
                                                "app_key": APP_KEY, "app_secret": APP_SECRET, "book": "BOOK01",
                                                "timeout_seconds": 5},
                   ("660201", "660202", "660203", "660204"), "2241", "22210101", "BOOK01", "01")


def _yonyou_u8() -> ErpSpec:
    from connectors.emulators.yonyou import FROM_ACCOUNT, TO_ACCOUNT, U8_APP_KEY, U8_APP_SECRET, YonyouEmulator

    return ErpSpec(YonyouEmulator, lambda url: {"connector": "yonyou_u8", "base_url": url,
                                                "from_account": FROM_ACCOUNT, "to_account": TO_ACCOUNT,
                                                "app_key": U8_APP_KEY, "app_secret": U8_APP_SECRET, "book": "1",
                                                "enter": "budgetflow", "timeout_seconds": 5},
                   ("660201", "660202", "660203", "660204"), "2241", "22210101", "1", "01")


def _sap() -> ErpSpec:
    from connectors.emulators.sap import PASSWORD, USER, SapEmulator

    return ErpSpec(SapEmulator, lambda url: {"connector": "sap", "base_url": url, "user": USER, "password": PASSWORD,
                                             "book": "1010", "timeout_seconds": 5},
                   ("6602010000", "6602020000", "6602030000", "6602040000"), "2241000000", "2221010100", "1010",
                   "SA")


SPECS: dict[str, Callable[[], ErpSpec]] = {"kingdee": _kingdee, "yonyou_u8": _yonyou_u8, "yonbip": _yonbip,
                                           "sap": _sap}
ERPS = tuple(SPECS)


@dataclass
class EmulatedErp:
    name: str
    emulator: ErpEmulator
    running: Running
    settings: dict[str, Any]
    spec: ErpSpec

    def client(self) -> ErpClient:
        return factory(self.settings["connector"])(self.settings)

    @property
    def expense_accounts(self) -> tuple[str, ...]:
        return self.spec.expense_accounts

    @property
    def payable_account(self) -> str:
        return self.spec.payable_account

    @property
    def book(self) -> str:
        return self.spec.book

    @property
    def voucher_type(self) -> str:
        return self.spec.voucher_type


@contextmanager
def emulated_erp(name: str) -> Iterator[EmulatedErp]:
    """``name``'s emulator on a free loopback port, until the block ends."""
    if name not in SPECS:
        raise ValueError(f"no ERP emulator {name!r}: one of {', '.join(ERPS)}")
    spec = SPECS[name]()
    emulator = spec.emulator()
    with Running(emulator) as running:
        yield EmulatedErp(name, emulator, running, spec.settings(running.url), spec)


__all__ = ["ERPS", "EmulatedErp", "ErpSpec", "emulated_erp"]
