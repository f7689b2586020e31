"""What the finance pages and the API read about ERP posting: a claim's voucher preview and the reconciliation
runs page by page.

The preview is the voucher the claim would post now (``VoucherPosting.draft``, the same code the posting job
runs), or the field errors that stop it; nothing is sent to the ERP. Reconciliation runs are read through
``SqlErpVouchers.reconciliations`` (newest first, engine/persistence/erp_repository.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from connectors.base import ConnectorError
from connectors.erp import POST_FAILED, VoucherDraft
from engine.services import cursors
from engine.services.document_access import snapshot, visible_document
from engine.services.ports import UnitOfWorkFactory
from engine.services.reconciliation import Reconciler

CLAIM_PROCESS = "expense_claim"
RUNS_SCOPE = cursors.scope("reconciliations", "id desc")
MAX_SEEN = 100_000  # runs before a page: a cursor claiming more was not made here
MAX_WINDOW_DAYS = 366  # a run reads every voucher of the window from the ERP: a year at most

ReadRuns = Callable[..., list[dict[str, Any]]]  # SqlErpVouchers.reconciliations(limit=..., before_id=...)


@dataclass(frozen=True)
class VoucherPreview:
    """The voucher a claim would post now, or why it cannot be built (each error: field, line, message)."""

    draft: VoucherDraft | None
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class RunPage:
    rows: list[dict[str, Any]]
    next_cursor: str | None


def claim_posting_params(reader: UnitOfWorkFactory, document_no: str, viewer: str) -> dict[str, Any] | None:
    """The erp/PostVoucher parameters of expense claim ``document_no`` as its data stands now (the diagram's
    post_voucher task passes the same variables); None if it is no claim or ``viewer`` may not see it."""
    with reader() as uow:
        seen = visible_document(uow, document_no, viewer)
        if seen is None or seen[0]["process_id"] != CLAIM_PROCESS:
            return None
        document = seen[0]
        _bundle, run = snapshot(uow, document)
    data = run.data if run is not None else {}
    lines = data.get("lines")
    return {"document_no": document["document_no"], "applicant": document["applicant"],
            "lines": lines if isinstance(lines, list) else [],
            "currency": str(data.get("currency") or document["currency"] or "CNY")}


def preview(draft: Callable[[Mapping[str, Any]], VoucherDraft], params: Mapping[str, Any]) -> VoucherPreview:
    """``draft(params)`` (``VoucherPosting.draft``), its ERP_POST_FAILED refusal turned into the errors."""
    try:
        return VoucherPreview(draft(params))
    except ConnectorError as exc:
        if exc.code != POST_FAILED:
            raise
        found = exc.payload.get("errors") or [{"field": "", "line": None, "message": str(exc)}]
        return VoucherPreview(None, [{"field": str(e.get("field") or ""), "line": e.get("line"),
                                      "message": str(e.get("message") or "")} for e in found])


def reconciliation_runs(read: ReadRuns, *, cursor: str | None, limit: int) -> RunPage:
    """Runs newest first, ``limit`` a page; ValueError for a cursor this listing did not hand out.

    The cursor holds how many runs came before and the last id shown: the next page is the runs older than
    that id (one bounded query), so a run added meanwhile never shifts a page.
    """
    seen, before = cursors.decode(cursor, RUNS_SCOPE, "int") if cursor else (0, None)
    if not 0 <= seen <= MAX_SEEN:
        raise ValueError("the cursor is not one this listing handed out; start again without it")
    rows = read(limit=limit + 1, before_id=before)
    page = [summary(r) for r in rows[:limit]]
    more = len(rows) > limit
    return RunPage(page, cursors.encode(RUNS_SCOPE, seen + limit, page[-1]["id"]) if more and page else None)


def window_problem(start: date, end: date) -> str | None:
    """What is wrong with the window ``start``..``end`` (a fault of its end), or None."""
    if end < start:
        return f"the window ends ({end}) before it starts ({start})"
    if (end - start).days >= MAX_WINDOW_DAYS:
        return f"a window of at most {MAX_WINDOW_DAYS} days (this one has {(end - start).days + 1})"
    return None


def run_now(reconciler: Reconciler, read: ReadRuns, start: date, end: date) -> dict[str, Any]:
    """Reconcile ``start``..``end`` now; the run as the listing shows it. ValueError for a wrong window;
    ConnectorError when the ERP cannot be read (nothing is stored then)."""
    problem = window_problem(start, end)
    if problem is not None:
        raise ValueError(problem)
    report = reconciler.run(start, end)
    stored = next((r for r in read(limit=20) if r["id"] == report["id"]), None)
    return summary(stored) if stored is not None else summary({**report, "ran_at": None, "report": report})


def summary(run: Mapping[str, Any]) -> dict[str, Any]:
    """A stored run (``SqlErpVouchers.reconciliations``' row) as pages and the API show it."""
    report = run.get("report") or {}
    differences = list(report.get("differences") or [])
    ran_at = run.get("ran_at")
    return {"id": run["id"], "erp": run["erp"], "start": date.fromisoformat(str(run["start"])),
            "end": date.fromisoformat(str(run["end"])),
            "ran_at": datetime.fromisoformat(ran_at) if isinstance(ran_at, str) else ran_at,
            "vouchers": dict(report.get("vouchers") or {}), "difference_count": len(differences),
            "differences": differences}
