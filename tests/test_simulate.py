"""The README's main job, ``budgetflow simulate``: applications and claims through the real diagrams.

It runs in a throwaway database and leaves the configured one alone (issue 8, finding 8):
before, it re-imported the demo company into whatever database it was pointed at, resetting
a company's budgets with ADJUST entries, or failed half-way when those were partly used.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from engine.persistence.tables import BudgetLine, LedgerEntry, MasterDataImport
from engine.persistence.workflow_tables import ModelVersion, ProcessInstance, Voucher
from engine.services.masterdata.importing import import_master_data
from tests.test_masterdata_import import TRAVEL_NORTH_ROW, demo_copy, edit_line


def simulate(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", "simulate", "--claims", "3", *args], env=env,
                          capture_output=True, text=True, check=False, timeout=300)


def snapshot(container) -> dict[str, object]:
    """What simulate must not change in a company's database."""
    with container.session_factory() as s:
        return {
            "entries": s.scalar(select(func.count()).select_from(LedgerEntry)),
            "imports": s.scalars(select(MasterDataImport.version).order_by(MasterDataImport.id)).all(),
            "budgets": dict(s.execute(select(BudgetLine.line_key, BudgetLine.budget)).all()),
            "versions": s.scalar(select(func.count()).select_from(ModelVersion)),
            "instances": s.scalar(select(func.count()).select_from(ProcessInstance)),
            "vouchers": s.scalar(select(func.count()).select_from(Voucher)),
        }


def company_database(container, tmp_path: Path) -> None:
    """A company's own dictionary (another version, another travel budget) imported into the configured database."""
    folder = demo_copy(tmp_path, version="2026.acme")
    edit_line(folder / "budget_lines.csv", TRAVEL_NORTH_ROW, "480000.00", "510000.00")
    import_master_data(folder, container.masterdata_store)


def test_simulate_posts_vouchers_and_both_verifications_pass(db_url, cli_env):
    done = simulate(cli_env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    posted = int(re.search(r"vouchers posted \(local ERP\): (\d+)", done.stdout).group(1))
    assert posted >= 1
    assert re.search(r"automation rate: \d+\.\d%", done.stdout)
    assert "ledger verify: OK; audit verify: OK" in done.stdout


def test_by_default_simulate_leaves_a_companys_database_alone(container, cli_env, tmp_path):
    company_database(container, tmp_path)
    before = snapshot(container)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    done = simulate({**cli_env, "TMPDIR": str(scratch)})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert snapshot(container) == before  # no demo import, no ADJUST, no model version, no document
    assert not (tmp_path / "audit.key").exists()  # nor a development key beside the company's database
    assert list(scratch.iterdir()) == []  # the throwaway database is removed afterwards
    assert "the configured database was not touched" in done.stdout


def test_into_the_configured_database_is_refused_when_it_holds_a_companys_data(container, cli_env, tmp_path):
    company_database(container, tmp_path)
    before = snapshot(container)
    done = simulate(cli_env, "--into-configured-database")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert "simulate will not write into" in line and "master data 2026.acme" in line
    assert "Nothing was changed" in line
    assert snapshot(container) == before


def test_into_the_configured_database_is_refused_when_the_demos_budgets_were_changed(container, cli_env):
    from engine.services.masterdata.importing import seed_demo

    seed_demo(container.masterdata_store)
    with container.engine.begin() as conn:  # an adjustment made by hand since the demo was imported
        conn.execute(BudgetLine.__table__.update().where(BudgetLine.line_key == "2026/ORG:HR/OFFICE")
                     .values(budget=BudgetLine.budget + 1))
    before = snapshot(container)
    done = simulate(cli_env, "--into-configured-database")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "differs from the demo company's" in done.stderr
    assert snapshot(container) == before


def test_into_the_configured_database_is_refused_when_an_oa_form_mapping_was_added_by_hand(container, cli_env):
    from engine.persistence.oa_tables import OaForm
    from engine.services.masterdata.importing import seed_demo

    seed_demo(container.masterdata_store)
    with container.engine.begin() as conn:  # importing the demo again would remove it: mappings are replaced
        conn.execute(OaForm.__table__.insert().values(vendor="wecom", template="WX-1", direction="in",
                                                      process_id="p", fields="[]"))
    before = snapshot(container)
    done = simulate(cli_env, "--into-configured-database")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "differs from the demo company's now (oa_forms 1 removed)" in done.stderr
    assert snapshot(container) == before


def test_into_the_configured_database_runs_there_and_reports_this_run_apart_from_the_totals(container, cli_env):
    first = simulate(cli_env, "--into-configured-database", "--json")
    assert first.returncode == 0, first.stderr[-3000:]
    one = json.loads(first.stdout)
    assert one["database"]["throwaway"] is False
    assert snapshot(container)["vouchers"] == one["database_totals"]["vouchers_posted"] >= 1

    second = simulate(cli_env, "--into-configured-database")  # the demo company only: allowed again
    assert second.returncode == 0, second.stderr[-3000:]
    this_run = int(re.search(r"vouchers posted \(local ERP\): (\d+)", second.stdout).group(1))
    in_database = int(re.search(r"vouchers in the database: (\d+)", second.stdout).group(1))
    assert in_database == snapshot(container)["vouchers"] == one["database_totals"]["vouchers_posted"] + this_run
    assert "earlier runs and other documents included" in second.stdout


def test_the_report_says_what_the_process_codes_are(db_url, cli_env):
    done = simulate(cli_env, "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["process_codes"] == {"TA": "travel_application", "EC": "expense_claim"}
    assert set(report["this_run"]["outcomes"]) == {"travel_application", "expense_claim"}
    assert sum(report["this_run"]["outcomes"]["travel_application"].values()) == 3
    text = simulate(cli_env).stdout
    assert "TA = travel application (出差申请)" in text and "EC = expense claim (报销单)" in text


def test_keep_leaves_a_database_that_the_other_commands_can_read(db_url, cli_env, tmp_path):
    kept = tmp_path / "kept"
    done = simulate(cli_env, "--keep", str(kept))
    assert done.returncode == 0, done.stderr[-3000:]
    env = {k: v for k, v in cli_env.items() if not k.startswith("BUDGETFLOW_AUDIT_")}
    env.pop("BUDGETFLOW_DATABASE_URL")
    env["BUDGETFLOW_INSTANCE_DIR"] = str(kept)
    for command in (["ledger", "verify"], ["audit", "verify"]):
        verdict = subprocess.run([sys.executable, "-m", "engine", *command], env=env, capture_output=True, text=True,
                                 check=False, timeout=120)
        assert verdict.returncode == 0, verdict.stdout + verdict.stderr
