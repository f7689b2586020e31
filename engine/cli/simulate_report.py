"""The ``simulate`` report: this run's figures, then the database's totals, each labelled as such."""

from __future__ import annotations

import statistics
from decimal import Decimal
from typing import Any

from engine.cli.i18n import N_, _
from engine.cli.ledger import format_balances
from engine.cli.output import say
from engine.simulation import PROCESS_CODES, Figures, SimulationReport

PROCESS_NAMES = {"travel_application": N_("travel application (出差申请)"),
                 "expense_claim": N_("expense claim (报销单)")}
OUTCOME_WORDS = {"approved": N_("approved"), "rejected": N_("rejected"), "posted": N_("posted"),
                 "withdrawn": N_("withdrawn"), "budget_refused": N_("budget refused"),
                 "cancelled": N_("cancelled"), "incident": N_("incident")}


def cycle_summary(cycle_seconds: list[float]) -> dict[str, float] | None:
    """Claim submission to posted voucher: median and 95th percentile, in milliseconds."""
    if not cycle_seconds:
        return None
    cycle = sorted(cycle_seconds)
    return {"median_ms": round(statistics.median(cycle) * 1000, 1),
            "p95_ms": round(cycle[int(0.95 * (len(cycle) - 1))] * 1000, 1), "claims": len(cycle)}


def report_json(facts: dict[str, Any], report: SimulationReport, this_run: Figures, totals: Figures
                ) -> dict[str, Any]:
    return {
        **facts,
        "process_codes": PROCESS_CODES,
        "this_run": {
            "outcomes": {process: dict(counts) for process, counts in report.outcomes.items()},
            "vouchers_posted": this_run.vouchers,
            "left_over_reservations": {"count": this_run.left_over_count, "held": this_run.left_over},
            "automation_rate": round(report.automation_rate, 4), "automatic_steps": report.automatic_steps,
            "human_steps": report.human_steps, "cycle_time": cycle_summary(report.cycle_seconds),
        },
        "database_totals": {
            "vouchers_posted": totals.vouchers,
            "left_over_reservations": {"count": totals.left_over_count, "held": totals.left_over},
            "budget_lines_touched": [{"budget_line": b.label, "currency": b.currency, "budget": b.budget,
                                      "reserved": b.reserved, "consumed": b.consumed, "available": b.available}
                                     for b in totals.lines_touched],
        },
    }


def print_report(facts: dict[str, Any], report: SimulationReport, this_run: Figures, totals: Figures) -> None:
    _print_this_run(facts, report, this_run)
    _print_totals(facts, totals)
    ledger = "OK" if facts["ledger_ok"] else "FAILED"
    audit = "OK" if facts["audit_ok"] else "FAILED"
    say(_("ledger verify: {ledger}; audit verify: {audit}").format(ledger=ledger, audit=audit))
    database = facts["database"]
    if database["kept_in"]:
        say(_("the database is kept in {folder}; look at it with BUDGETFLOW_INSTANCE_DIR={folder} budgetflow "
              "ledger balances").format(folder=database["kept_in"]))
    elif database["throwaway"]:
        say(_("the throwaway database has been removed; the configured database was not touched"))


def _print_this_run(facts: dict[str, Any], report: SimulationReport, this_run: Figures) -> None:
    say("\n" + _("This run: {claims} travel applications (TA), each followed by its expense claim (EC) when "
                 "approved").format(claims=facts["claims"]))
    for code, process in PROCESS_CODES.items():
        counts = report.outcomes[process]
        shown = ", ".join(f"{_(OUTCOME_WORDS.get(k, k))} {v}" for k, v in sorted(counts.items())) or "-"
        say(f"  {code} = {_(PROCESS_NAMES[process])}: {shown}")
    say("  " + _("vouchers posted (local ERP): {count}").format(count=this_run.vouchers))
    if this_run.left_over_count:
        say("  " + _("left-over reservations: {count} finished request(s) still hold {amounts} (approved "
                     "applications whose claim was rejected); see `budgetflow ledger reservations`").format(
            count=this_run.left_over_count, amounts=_amounts(this_run.left_over)))
    say("  " + _("automation rate: {rate} of {steps} steps done without a person ({people} by people)").format(
        rate=f"{report.automation_rate:.1%}", steps=report.automatic_steps + report.human_steps,
        people=report.human_steps))
    cycle = cycle_summary(report.cycle_seconds)
    if cycle:
        say("  " + _("cycle time, claim submission to posted voucher: median {median} ms, p95 {p95} ms over "
                     "{claims} claims (people act instantly here)").format(
            median=f"{cycle['median_ms']:.0f}", p95=f"{cycle['p95_ms']:.0f}", claims=cycle["claims"]))


def _print_totals(facts: dict[str, Any], totals: Figures) -> None:
    if facts["database"]["kept_in"]:
        heading = _("Database totals ({folder}: this run and earlier runs kept there)").format(
            folder=facts["database"]["kept_in"])
    elif facts["database"]["throwaway"]:
        heading = _("Database totals (the throwaway database: this run only)")
    else:
        heading = _("Database totals ({url}: earlier runs and other documents included)").format(
            url=facts["database"]["url"])
    say("\n" + heading)
    say(_("budget lines with anything reserved or consumed") + "\n" + format_balances(totals.lines_touched))
    say("  " + _("vouchers in the database: {count}").format(count=totals.vouchers))
    if totals.left_over_count:
        say("  " + _("left-over reservations in the database: {count}, holding {amounts}").format(
            count=totals.left_over_count, amounts=_amounts(totals.left_over)))


def _amounts(held: dict[str, Decimal]) -> str:
    return ", ".join(f"{amount:,.2f} {currency}" for currency, amount in sorted(held.items()))
