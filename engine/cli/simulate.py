"""``budgetflow simulate --claims N``: the main job until the web inbox exists."""

from __future__ import annotations

import argparse
import random
import statistics
from decimal import Decimal
from pathlib import Path

from engine.bootstrap import Container, build
from engine.cli.audit_anchor import anchor_store, row_source
from engine.cli.ledger import format_balances
from engine.cli.masterdata import import_folder
from engine.persistence import audit_repository, instance_repository, ledger_queries, schema
from engine.seed import demo_folder
from engine.services import processes
from engine.services.audit import verify_anchored
from engine.services.ledger_verify import verify as verify_ledger
from engine.simulation import SimulationReport, Simulator
from engine.workflow.bundle import read_folder

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("simulate", help="run N applications and claims of the demo company through the diagrams")
    p.add_argument("--claims", type=int, default=20, help="how many application + claim pairs (default 20)")
    p.add_argument("--seed", type=int, default=2026, help="random seed of the rule-based approvers")
    p.add_argument("--bpmn", type=Path, default=BPMN, help="folder of diagrams to deploy (default: bpmn/)")
    p.set_defaults(handler=run_simulate)


def run_simulate(args: argparse.Namespace) -> int:
    if args.claims < 1:
        print("error: --claims must be at least 1")
        return 2
    container = build()
    try:
        schema.upgrade(container.engine)
        fresh_log = audit_repository.count_rows(container.engine) == 0
        if import_folder(container, demo_folder()) != 0:
            return 1
        version_id, sha = processes.deploy(container.uow, read_folder(args.bpmn), by="E0016", label="simulate")
        print(f"\nmodel version {version_id} ({sha[:12]}) from {args.bpmn}; simulating {args.claims} claims ...")
        rng = random.Random(args.seed)  # noqa: S311 - a seeded, repeatable simulation, not security
        report = Simulator(container, rng).run(args.claims)
        _count_steps(container, report)
        return _print(container, report, fresh_log=fresh_log)
    finally:
        container.dispose()


AUTOMATIC_WORK = {"ConnectorServiceTask", "ScriptTask", "BusinessRuleTask"}  # not events, gateways, joins


def _count_steps(container: Container, report: SimulationReport) -> None:
    """Automatic steps from the audit log: service, script and rule tasks run on this run's documents."""
    documents = set(report.documents)
    with container.session_factory() as s:
        report.automatic_steps = sum(
            1 for e in audit_repository.iter_rows(s)
            if e.record.action == "engine.steps" and e.record.subject_id in documents
            for step in e.record.payload.get("steps", [])
            if step.get("kind") in AUTOMATIC_WORK and step.get("state") == "COMPLETED"
        )
        # Connector calls finish later, in the worker: count the jobs done for these documents.
        report.automatic_steps += s.execute(instance_repository.jobs_done_statement(documents)).scalar_one()


def _print(container: Container, report: SimulationReport, *, fresh_log: bool) -> int:
    # The whole chain, against the stored anchor, which then moves to the new head (docs/audit.md).
    anchored = verify_anchored(row_source(container), container.audit_key(), anchor_store(container.settings))
    audit = anchored.result
    for note in anchored.notes:
        if not (fresh_log and "there was no audit anchor" in note):  # this run wrote every row it anchors
            print(note)
    with container.session_factory() as s:
        rows = [b for b in ledger_queries.balances(s) if b.reserved or b.consumed]
        ledger_ok = verify_ledger(ledger_queries.line_totals(s), ledger_queries.reservation_totals(s)).ok
        vouchers = s.execute(instance_repository.voucher_count_statement()).scalar_one()
        left_over = [r for r in ledger_queries.open_reservations(s) if r.document_status == "complete"]
    print("\nbudget lines touched\n" + format_balances(rows))
    print("\noutcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items())))
    print(f"vouchers posted (local ERP): {vouchers}")
    if left_over:
        held: dict[str, Decimal] = {}
        for r in left_over:
            held[r.currency] = held.get(r.currency, Decimal(0)) + r.remaining
        amounts = ", ".join(f"{amount:,.2f} {currency}" for currency, amount in sorted(held.items()))
        print(f"left-over reservations: {len(left_over)} finished request(s) still hold {amounts} (approved "
              "applications whose claim was rejected); see `budgetflow ledger reservations`")
    print(f"automation rate: {report.automation_rate:.1%} of {report.automatic_steps + report.human_steps} steps "
          f"done without a person ({report.human_steps} by people)")
    if report.cycle_seconds:
        cycle = sorted(report.cycle_seconds)
        print(f"cycle time, claim submission to posted voucher: median {statistics.median(cycle) * 1000:.0f} ms, "
              f"p95 {cycle[int(0.95 * (len(cycle) - 1))] * 1000:.0f} ms over {len(cycle)} claims "
              "(people act instantly here)")
    print(f"ledger verify: {'OK' if ledger_ok else 'FAILED'}; audit verify: {'OK' if audit.ok else 'FAILED'}")
    return 0 if ledger_ok and audit.ok else 1
