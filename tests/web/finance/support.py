"""Shared by the finance page and API tests: a posted claim, stored runs, and an ERP that cannot be reached.

The unreachable ERP is a connector plug-in (``connector = "tests.web.finance.support:closed_erp"`` in the
instance's erp.toml) that asks a loopback port nobody listens on, through connectors/erp_http.py: the connection
is refused for real, as with an ERP that is down.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import update

from connectors import erp_http
from connectors.erp import BookedVoucher, PostedVoucher, VoucherDraft
from engine.bootstrap import Container
from engine.domain.reconciliation import Difference, report
from engine.persistence.tables import ExpenseSubject
from engine.persistence.workflow_tables import Voucher
from tests.flows.support import Flow

FINANCE, AUDITOR, EMPLOYEE = "E0011", "E0014", "E0017"
PAGE = "/finance/reconciliation"
DIFFERENCES = [
    Difference("missing", "voucher LV-1 is not in the ERP", "EC-2026-0042", "LV-1", expected="120.00"),
    Difference("actuals", "budget consumed 120.00, ERP actuals 0 (difference -120.00)", account="6602.01",
               cost_center="CC-SALES-N", expected="120.00", found="0"),
]


def closed_port() -> int:
    """A loopback port that refuses connections (bound, then closed at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ClosedErp:
    """An ERP whose server is down: every call is a refused connection, classified by erp_http.send."""

    name = "closed"

    def __init__(self, base_url: str) -> None:
        self.base_url, self.session = base_url, erp_http.new_session()

    def _call(self) -> Any:
        return erp_http.send(self.session, "GET", f"{self.base_url}/vouchers", vendor=self.name, timeout=(1.0, 1.0))

    def post_voucher(self, draft: VoucherDraft, *, idempotency_key: str, resolve_first: bool = False
                     ) -> PostedVoucher:
        return self._call()

    def find_voucher(self, *, idempotency_key: str) -> PostedVoucher | None:
        return self._call()

    def list_vouchers(self, *, start: date, end: date) -> Sequence[BookedVoucher]:
        return self._call()


def closed_erp(settings: Mapping[str, Any]) -> ClosedErp:
    return ClosedErp(str(settings["base_url"]))


def configure_closed_erp(container: Container) -> None:
    (container.settings.instance_dir / "erp.toml").write_text(
        f'[erp]\nconnector = "tests.web.finance.support:closed_erp"\nbase_url = "http://127.0.0.1:{closed_port()}"\n',
        encoding="utf-8")


def save_run(container: Container, differences: Sequence[Difference] = (), *, days_back: int = 0) -> int:
    end = date(2026, 12, 6) - timedelta(days=days_back)
    start = end - timedelta(days=30)
    found = report("local", start, end, 3, 3 + len(differences), list(differences))
    return container.erp_vouchers().save_reconciliation("local", start, end, found)


def posted_claim(flow: Flow, *amounts: str) -> str:
    """A claim approved by the manager and posted to the local ERP; its number."""
    claim = flow.claim(*(amounts or ("300.00", "450.00")))
    flow.decide(claim)
    assert flow.finished(claim) == ("complete", "posted")
    return str(flow.instance(claim).business_key)


def claim_at_manager(flow: Flow, *amounts: str) -> tuple[int, str]:
    claim = flow.claim(*(amounts or ("300.00", "450.00")))
    return claim, str(flow.instance(claim).business_key)


def set_gl_account(container: Container, subject: str, account: str | None) -> None:
    with container.engine.begin() as conn:
        conn.execute(update(ExpenseSubject).where(ExpenseSubject.code == subject).values(gl_kingdee=account))


def delete_local_voucher(container: Container, document_no: str) -> None:
    """Someone deletes the claim's voucher in the (local) ERP."""
    with container.engine.begin() as conn:
        conn.execute(Voucher.__table__.delete().where(Voucher.document_no == document_no))
