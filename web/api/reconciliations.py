"""ERP reconciliation: the runs with their differences, and running one now (finance).

A run compares what budgetflow posted with the ERP's book, and the budget consumed with the ERP's actuals
(engine/services/reconciliation.py). An ERP that cannot be read is a 503 and stores nothing: a failed run is
never a run without differences.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

import marshmallow as ma
from flask.views import MethodView
from werkzeug.exceptions import ServiceUnavailable

from connectors.base import ConnectorError
from engine.config import SettingInvalid
from engine.services import erp_views
from engine.services.reconciliation import default_window
from web.api.auth import roles
from web.api.blueprint import api_blueprint
from web.api.errors import ErrorSchema
from web.api.fields import UtcTime
from web.api.paging import PageArgs, page, page_schema
from web.context import container

blp = api_blueprint("Reconciliations", __name__, url_prefix="/api/v1",
                    description="ERP reconciliation runs and their differences")

log = logging.getLogger("budgetflow.web.api")
RUNNERS = ("finance",)
READERS = (*RUNNERS, "auditor")


class ReconciliationDifferenceSchema(ma.Schema):
    kind = ma.fields.String(required=True, metadata={"description": "missing, changed, duplicated or actuals"})
    detail = ma.fields.String(required=True)
    document_no = ma.fields.String(required=True, metadata={"description": "the claim; empty for actuals"})
    voucher_no = ma.fields.String(required=True, metadata={"description": "the ERP's voucher(s), comma-separated"})
    account = ma.fields.String(required=True)
    cost_center = ma.fields.String(required=True)
    expected = ma.fields.String(required=True, metadata={"description": "budgetflow's side"})
    found = ma.fields.String(required=True, metadata={"description": "the ERP's side"})


class ReconciledVouchersSchema(ma.Schema):
    budgetflow = ma.fields.Integer(required=True, metadata={"description": "vouchers budgetflow posted in the window"})
    erp = ma.fields.Integer(required=True, metadata={"description": "vouchers the ERP's book holds in the window"})


class ReconciliationRunSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    erp = ma.fields.String(required=True, metadata={"description": "local, kingdee, yonyou_u8, yonbip, sap, ..."})
    start = ma.fields.Date(required=True, metadata={"description": "first posting date compared"})
    end = ma.fields.Date(required=True, metadata={"description": "last posting date compared (inclusive)"})
    ran_at = UtcTime(allow_none=True)
    vouchers = ma.fields.Nested(ReconciledVouchersSchema, required=True)
    difference_count = ma.fields.Integer(required=True, metadata={"description": "0: the books agree"})
    differences = ma.fields.List(ma.fields.Nested(ReconciliationDifferenceSchema), required=True)


EARLIEST, LATEST = date(1900, 1, 1), date(9998, 12, 31)  # a window's dates stay where date arithmetic works
IN_RANGE = ma.validate.Range(EARLIEST, LATEST)


class ReconciliationRunBody(ma.Schema):
    start = ma.fields.Date(validate=IN_RANGE, metadata={"description": "ISO date; default: 30 days before end"})
    end = ma.fields.Date(validate=IN_RANGE, metadata={"description": "ISO date; default: today (UTC)"})

    @ma.post_load
    def _window(self, body: dict[str, Any], **_kwargs: Any) -> dict[str, date]:
        """Both ends filled in: the last 31 days up to ``end`` (today by default), or from ``start``."""
        end = body.get("end") or default_window(datetime.now(UTC).date())[1]
        start = body.get("start") or max(default_window(end)[0], EARLIEST)
        problem = erp_views.window_problem(start, end)
        if problem is not None:  # the end's fault, unless only the start was given
            raise ma.ValidationError(problem, "end" if "end" in body or "start" not in body else "start")
        return {"start": start, "end": end}


@blp.route("/reconciliations")
class Reconciliations(MethodView):
    @roles(*READERS)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(ReconciliationRunSchema, "ReconciliationRuns"))
    def get(self, args: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """The reconciliation runs, newest first, each with its differences."""
        found = erp_views.reconciliation_runs(container().erp_vouchers().reconciliations,
                                              cursor=args.get("cursor"), limit=args["limit"])
        return page(found.rows, found.next_cursor)

    @roles(*RUNNERS)
    @blp.arguments(ReconciliationRunBody(), required=False)
    @blp.response(201, ReconciliationRunSchema)
    @blp.alt_response(503, schema=ErrorSchema,
                      description="the ERP cannot be reached or its settings are wrong; nothing was stored")
    def post(self, body: dict[str, Any] | None) -> dict[str, Any]:
        """Reconcile now: the last 31 days unless the body names start and/or end (at most 366 days). The run is
        stored and answered with its differences."""
        window = body or ReconciliationRunBody().load({})
        try:
            return erp_views.run_now(container().reconciler(), container().erp_vouchers().reconciliations,
                                     window["start"], window["end"])
        except ConnectorError as exc:
            log.warning("POST /reconciliations: the ERP could not be read: %s", exc)
            raise ServiceUnavailable(_erp_problem(exc)) from None
        except SettingInvalid as exc:
            raise ServiceUnavailable(f"the ERP settings are wrong, so the ERP was not asked: {exc}") from None


def _erp_problem(exc: ConnectorError) -> str:
    if exc.retryable:
        return f"the ERP cannot be reached now, so nothing was reconciled or stored ({exc}); try again later"
    return f"the ERP refused to list its vouchers, so nothing was reconciled ({exc}); check the ERP connection"
