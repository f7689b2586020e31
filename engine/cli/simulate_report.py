"""The ``simulate`` report: this run's figures, then the database's totals, each labelled as such."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.cli.i18n import N_, _
from engine.cli.ledger import format_balances
from engine.cli.output import say
from engine.simulation import PROCESS_CODES, Figures, SimulationReport
from engine.simulation.report import cycle_summary, summary

PROCESS_NAMES = {"travel_application": N_("travel application (出差申请)"),
                 "expense_claim": N_("expense claim (报销单)")}
OUTCOME_WORDS = {"approved": N_("approved"), "rejected": N_("rejected"), "posted": N_("posted"),
                 "withdrawn": N_("withdrawn"), "budget_refused": N_("budget refused"),
                 "cancelled": N_("cancelled"), "incident": N_("incident")}


CYCLE_WORDS = {"request": N_("request submitted to voucher posted"),
               "claim": N_("claim submitted to voucher posted"),
               "application": N_("application submitted to decision")}
REFUSALS_SHOWN = 20


def this_run_json(report: SimulationReport, this_run: Figures) -> dict[str, Any]:
    """This run's figures; times from the virtual clock, waits and cycles in working hours."""
    return {
        "outcomes": {process: dict(counts) for process, counts in report.outcomes.items()},
        "vouchers_posted": this_run.vouchers,
        "left_over_reservations": {"count": this_run.left_over_count, "held": this_run.left_over},
        "automation_rate": round(report.automation_rate, 4), "automatic_steps": report.automatic_steps,
        "human_steps": report.human_steps,
        "virtual_clock": {"start": _iso(report.started_at), "end": _iso(report.ended_at)},
        "cycle_time": {name: cycle_summary(spans) for name, spans in report.cycles.items()},
        "wait_per_step_working_hours": {task: summary(hours) for task, hours in sorted(report.waits.items())},
        "reminders_sent": report.reminders_sent,
        "escalations": {"total": sum(report.escalations.values()), "by_event": dict(report.escalations)},
        "closed_unanswered": dict(report.unanswered),
        "unfinished": report.unfinished,
        "refused": report.refused[:REFUSALS_SHOWN], "refused_count": len(report.refused),
    }


def budget_use(lines: list[Any]) -> dict[str, Any]:
    """Reserved and consumed per budget line and in total, with the share of the budget they take."""
    rows = [{"budget_line": b.label, "currency": b.currency, "budget": b.budget, "reserved": b.reserved,
             "consumed": b.consumed, "available": b.available, "share": _share(b.reserved + b.consumed, b.budget)}
            for b in lines]
    budget = sum((b.budget for b in lines), Decimal(0))
    used = sum((b.reserved + b.consumed for b in lines), Decimal(0))
    currencies = sorted({b.currency for b in lines})
    if len(currencies) != 1:  # nothing touched, or amounts in several currencies that do not add up
        return {"lines": rows, "total": {"currency": None, "budget": None, "reserved_and_consumed": None,
                                         "share": None}}
    return {"lines": rows, "total": {"currency": currencies[0], "budget": budget, "reserved_and_consumed": used,
                                     "share": _share(used, budget)}}


def _share(used: Decimal, budget: Decimal) -> float | None:
    return round(float(used / budget), 4) if budget else None


def _iso(value: Any) -> str | None:
    return value.isoformat(timespec="minutes") if value is not None else None


def report_json(facts: dict[str, Any], report: SimulationReport, this_run: Figures, totals: Figures
                ) -> dict[str, Any]:
    return {
        **facts,
        "process_codes": PROCESS_CODES,
        "this_run": this_run_json(report, this_run),
        "database_totals": {
            "vouchers_posted": totals.vouchers,
            "left_over_reservations": {"count": totals.left_over_count, "held": totals.left_over},
            "budget_lines_touched": [{"budget_line": b.label, "currency": b.currency, "budget": b.budget,
                                      "reserved": b.reserved, "consumed": b.consumed, "available": b.available}
                                     for b in totals.lines_touched],
            "budget_use": budget_use(totals.lines_touched),
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
    _print_clock(report)


def _print_clock(report: SimulationReport) -> None:
    """What the virtual clock measured: cycles, waits, reminders and escalations."""
    say("  " + _("virtual clock: {start} to {end}").format(start=_iso(report.started_at), end=_iso(report.ended_at)))
    for name, spans in report.cycles.items():
        cycle = cycle_summary(spans)
        if cycle:
            say("  " + _("cycle time, {what}: median {median} working hours ({days} days), p90 {p90} working hours "
                         "({p90days} days) over {count}").format(
                what=_(CYCLE_WORDS[name]), median=cycle["working_hours"]["median"],
                days=cycle["calendar_days"]["median"], p90=cycle["working_hours"]["p90"],
                p90days=cycle["calendar_days"]["p90"], count=cycle["count"]))
    say("  " + _("reminders sent: {reminders}; SLA escalations: {escalations}").format(
        reminders=report.reminders_sent, escalations=sum(report.escalations.values())))
    say("  " + _("wait per step, in working hours (median / p90 / count):"))
    for task, hours in sorted(report.waits.items()):
        figures = summary(hours)
        if figures:
            say(f"    {task:<32} {figures['median']:>8} {figures['p90']:>8} {figures['count']:>6}")
    if report.unfinished:
        say("  " + _("still running when the simulation ended: {count}").format(count=report.unfinished))
    for line in report.refused[:REFUSALS_SHOWN]:
        say("  " + _("refused: {line}").format(line=line))


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
    use = budget_use(totals.lines_touched)["total"]
    if use["share"] is not None:
        say("  " + _("budget use: {used} reserved or consumed of {budget} on these lines ({share})").format(
            used=f"{use['reserved_and_consumed']:,.2f} {use['currency']}", budget=f"{use['budget']:,.2f}",
            share=f"{use['share']:.1%}"))
    say("  " + _("vouchers in the database: {count}").format(count=totals.vouchers))
    if totals.left_over_count:
        say("  " + _("left-over reservations in the database: {count}, holding {amounts}").format(
            count=totals.left_over_count, amounts=_amounts(totals.left_over)))


def _amounts(held: dict[str, Decimal]) -> str:
    return ", ".join(f"{amount:,.2f} {currency}" for currency, amount in sorted(held.items()))
