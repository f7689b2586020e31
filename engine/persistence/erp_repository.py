"""The vouchers budgetflow posted to the ERP, and the reconciliation runs (tables in erp_tables.py).

The ERP is called outside any transaction; what it answered is recorded (``SqlErpVoucherRecords``) in the
transaction that marks the posting job done, so a job is done exactly when its voucher is recorded. Recording is
idempotent on (erp, key): a later job that found the voucher in the ERP records it again without a second row.
The other calls are each their own short transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from connectors.erp import PostedVoucher, VoucherDraft, VoucherLine
from engine.domain.reconciliation import PostedRecord
from engine.persistence.db import read_only
from engine.persistence.deferred import write
from engine.persistence.erp_tables import ErpReconciliation, ErpVoucher
from engine.persistence.prepared import Prepared
from engine.persistence.types import utcnow

_v = ErpVoucher.__table__
_r = ErpReconciliation.__table__


def _record_statement(dialect_insert: Any) -> Prepared:
    upsert = dialect_insert(_v)
    return Prepared(upsert.on_conflict_do_update(index_elements=[_v.c.erp, _v.c.idempotency_key],
                                                 set_={"voucher_no": upsert.excluded.voucher_no}),
                    column_keys=["erp", "idempotency_key", "document_no", "voucher_no", "posting_date", "currency",
                                 "total", "lines", "posted_at", "vat"])


# Insert, or (recorded before) keep the first row and fix its number.
_RECORD = {"postgresql": _record_statement(pg_insert), "sqlite": _record_statement(sqlite_insert)}


class SqlErpVoucherRecords:
    """The unit of work's side: the voucher a job posted, recorded in the transaction that marks the job done."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def record(self, erp: str, key: str, draft: VoucherDraft, posted: PostedVoucher, posting_date: date,
               vat: Mapping[str, Decimal]) -> None:
        """One row per (erp, key): a later job of the same claim (finance's retry found the voucher in the ERP)
        keeps the first row and fixes its number. One statement, no read: on PostgreSQL it goes with the commit."""
        write(self.conn, _RECORD[self.conn.dialect.name], {
            "erp": erp, "idempotency_key": key, "document_no": draft.document_no, "voucher_no": posted.voucher_no,
            "posting_date": posting_date, "currency": draft.currency, "total": draft.total,
            "lines": lines_json(draft.lines), "posted_at": utcnow(),
            "vat": json.dumps({account: str(tax) for account, tax in vat.items()})})


class SqlErpVouchers:
    """Reading the recorded vouchers, payments and reconciliation runs (each call its own short transaction)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def of_document(self, document_no: str) -> PostedRecord | None:
        with read_only(self.engine.connect()) as conn:
            row = conn.execute(select(_v).where(_v.c.document_no == document_no).order_by(_v.c.id).limit(1)).first()
        return None if row is None else _record(row)

    def between(self, erp: str, start: date, end: date) -> list[PostedRecord]:
        with read_only(self.engine.connect()) as conn:
            rows = conn.execute(select(_v).where(_v.c.erp == erp, _v.c.posting_date >= start,
                                                 _v.c.posting_date <= end).order_by(_v.c.id)).all()
        return [_record(row) for row in rows]

    def unpaid(self, erp: str, *, limit: int = 1000) -> list[PostedRecord]:
        with read_only(self.engine.connect()) as conn:
            rows = conn.execute(select(_v).where(_v.c.erp == erp, _v.c.paid_on.is_(None))
                                .order_by(_v.c.posting_date, _v.c.id).limit(limit)).all()
        return [_record(row) for row in rows]

    def mark_paid(self, erp: str, key: str, paid_on: date) -> bool:
        """Record the payment once; False if it was recorded before (another worker, an earlier run)."""
        with self.engine.begin() as conn:
            done = conn.execute(update(_v).where(_v.c.erp == erp, _v.c.idempotency_key == key,
                                                 _v.c.paid_on.is_(None)).values(paid_on=paid_on))
        return done.rowcount == 1

    def save_reconciliation(self, erp: str, start: date, end: date, report: dict[str, Any]) -> int:
        with self.engine.begin() as conn:
            inserted = conn.execute(insert(_r).values(
                erp=erp, period_start=start, period_end=end, ran_at=utcnow(),
                differences=len(report.get("differences", [])), report=json.dumps(report, ensure_ascii=False)))
        return int(inserted.inserted_primary_key[0])  # type: ignore[index]

    def reconciliations(self, *, limit: int = 20, before_id: int | None = None) -> list[dict[str, Any]]:
        """The latest runs (older than run ``before_id``, for the next page), newest first, with their reports."""
        query = select(_r).order_by(_r.c.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(_r.c.id < before_id)
        with read_only(self.engine.connect()) as conn:
            rows = conn.execute(query).all()
        return [{"id": row.id, "erp": row.erp, "start": row.period_start.isoformat(),
                 "end": row.period_end.isoformat(), "ran_at": row.ran_at.isoformat(),
                 "differences": row.differences, "report": json.loads(row.report)} for row in rows]


def lines_json(lines: Sequence[VoucherLine]) -> str:
    return json.dumps([{"account": x.account, "debit": str(x.debit), "credit": str(x.credit), "memo": x.memo,
                        "dimensions": dict(x.dimensions)} for x in lines], ensure_ascii=False)


def _record(row: Any) -> PostedRecord:
    lines = tuple(VoucherLine(x["account"], Decimal(x["debit"]), Decimal(x["credit"]), x.get("memo", ""),
                              tuple(sorted((x.get("dimensions") or {}).items()))) for x in json.loads(row.lines))
    vat = {account: Decimal(tax) for account, tax in json.loads(row.vat or "{}").items()}
    return PostedRecord(row.erp, row.idempotency_key, row.document_no, row.voucher_no, row.posting_date,
                        row.currency, row.total, lines, row.paid_on, vat)
