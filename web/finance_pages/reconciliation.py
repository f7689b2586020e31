"""ERP reconciliation 对账: the latest runs, the latest run's differences, and "Reconcile now" (finance).

A run compares what budgetflow posted with the ERP's book for the last 31 days
(engine/services/reconciliation.py); the worker runs it daily too. An ERP that cannot be reached is said on the
page (503), never taken for "no differences": a failed run stores nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from connectors.base import ConnectorError
from engine.config import SettingInvalid
from engine.services import erp_views
from engine.services.reconciliation import default_window
from web.budget_pages.access import current, roles_required
from web.budget_pages.shown import document_url
from web.context import container
from web.finance_pages.blueprint import FINANCE, READERS, bp

log = logging.getLogger("budgetflow.web")
RUNS_SHOWN = 20
KINDS = {"missing": _l("Missing in the ERP"), "changed": _l("Changed in the ERP"),
         "duplicated": _l("Duplicated"), "actuals": _l("Budget vs actuals")}


@bp.get("/reconciliation")
@roles_required(*READERS)
def reconciliation() -> ResponseReturnValue:
    return _page()


@bp.post("/reconciliation")
@roles_required(FINANCE)
def reconcile_now() -> ResponseReturnValue:
    start, end = default_window(datetime.now(UTC).date())
    try:
        run = erp_views.run_now(container().reconciler(), container().erp_vouchers().reconciliations, start, end)
    except ConnectorError as exc:
        log.warning("reconcile now by %s: the ERP could not be read: %s", current().code, exc)
        return _page(error=erp_problem(exc), status=503)
    except SettingInvalid as exc:
        return _page(error=_("The ERP settings are wrong, so the ERP was not asked: %(what)s", what=str(exc)),
                     status=503)
    if run["difference_count"]:
        flash(_("Reconciled %(erp)s from %(start)s to %(end)s: %(n)s difference(s), listed below.", erp=run["erp"],
                start=run["start"], end=run["end"], n=run["difference_count"]), "error")
    else:
        flash(_("Reconciled %(erp)s from %(start)s to %(end)s: no differences, the books agree.", erp=run["erp"],
                start=run["start"], end=run["end"]), "success")
    return redirect(url_for(".reconciliation"))


def erp_problem(exc: ConnectorError) -> str:
    """What went wrong with the ERP, for finance: down (try later) or refusing (fix the connection)."""
    if exc.retryable:
        return _("The ERP cannot be reached now, so nothing was reconciled (%(what)s). Nothing was stored; try "
                 "again later.", what=str(exc))
    return _("The ERP refused to list its vouchers, so nothing was reconciled (%(what)s). Check the ERP "
             "connection's settings and rights.", what=str(exc))


def _page(*, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    runs = erp_views.reconciliation_runs(container().erp_vouchers().reconciliations, cursor=None,
                                         limit=RUNS_SHOWN).rows
    return render_template("finance/reconciliation.html", runs=runs, latest=runs[0] if runs else None,
                           error=error, kinds=KINDS, document_url=document_url,
                           may_run=current().has(FINANCE)), status
