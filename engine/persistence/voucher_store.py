"""The local ERP's voucher table (connectors.local_erp.VoucherStore)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from connectors.erp import BookedVoucher, PostedVoucher, VoucherDraft, VoucherLine
from engine.persistence.types import utcnow
from engine.persistence.workflow_tables import Voucher

_v = Voucher.__table__


class SqlVoucherStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def find(self, idempotency_key: str) -> PostedVoucher | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(_v.c.voucher_no, _v.c.document_no)
                               .where(_v.c.idempotency_key == idempotency_key)).first()
        return None if row is None else PostedVoucher(row[0], row[1])

    def insert(self, draft: VoucherDraft, idempotency_key: str) -> PostedVoucher:
        lines = [{"account": x.account, "debit": str(x.debit), "credit": str(x.credit), "memo": x.memo,
                  "dimensions": dict(x.dimensions)} for x in draft.lines]
        try:
            with self.engine.begin() as conn:
                existing = conn.execute(select(_v.c.voucher_no, _v.c.document_no)
                                        .where(_v.c.idempotency_key == idempotency_key)).first()
                if existing is not None:  # posted before (a retry after a lost answer): the same voucher
                    return PostedVoucher(existing[0], existing[1], replayed=True)
                # The next number from the highest id (an index lookup; count(*) would scan the table). A
                # concurrent post taking the same number fails on the unique voucher_no; the outbox retries it.
                n = (conn.execute(select(func.max(_v.c.id))).scalar() or 0) + 1
                voucher_no = f"LV-{utcnow():%Y%m}-{n:06d}-{idempotency_key[-6:]}"
                conn.execute(insert(_v).values(
                    voucher_no=voucher_no, idempotency_key=idempotency_key, document_no=draft.document_no,
                    currency=draft.currency, total=draft.total, lines=json.dumps(lines), posted_at=utcnow()))
        except IntegrityError:
            winner = self.find(idempotency_key)  # a concurrent post of the same key won
            if winner is None:
                raise
            return PostedVoucher(winner.voucher_no, winner.document_no, replayed=True)
        return PostedVoucher(voucher_no, draft.document_no)

    def between(self, start: date, end: date) -> Sequence[BookedVoucher]:
        """Vouchers posted on ``start``..``end`` (UTC dates), in posting order."""
        low = datetime.combine(start, time.min, tzinfo=UTC)
        high = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
        with self.engine.connect() as conn:
            rows = conn.execute(select(_v.c.voucher_no, _v.c.idempotency_key, _v.c.posted_at, _v.c.currency,
                                       _v.c.lines).where(_v.c.posted_at >= low, _v.c.posted_at < high)
                                .order_by(_v.c.id)).all()
        return [BookedVoucher(no, key, posted.date(), currency, _lines(lines), status="posted")
                for no, key, posted, currency, lines in rows]


def _lines(text: str) -> tuple[VoucherLine, ...]:
    return tuple(VoucherLine(x["account"], Decimal(x["debit"]), Decimal(x["credit"]), x.get("memo", ""),
                             tuple(sorted((x.get("dimensions") or {}).items()))) for x in json.loads(text))
