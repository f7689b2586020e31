"""Importing data dictionaries into a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import MetaData, func, select

from engine.domain.errors import MasterDataInvalid
from engine.domain.masterdata.fields import KNOWN_ROLES
from engine.domain.money import Money
from engine.persistence.tables import (
    BudgetLine,
    Employee,
    EmployeeRole,
    LedgerEntry,
    MasterDataImport,
    OrgUnit,
)
from engine.seed import demo_folder
from engine.services import ledger
from engine.services.masterdata.importing import import_master_data, load_folder, seed_demo

D = Decimal
# The demo's budget_lines.csv: line 2 is 2026/ORG:SALES-N/TRAVEL at 480000.00 CNY, FORBID with 5% tolerance.
TRAVEL_NORTH_ROW = 2
TRAVEL_NORTH = "2026/ORG:SALES-N/TRAVEL"


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], env=env, capture_output=True, text=True,
                          timeout=180, check=False)


def demo_copy(tmp_path: Path, *, version: str) -> Path:
    """A copy of the demo folder under a new version, ready to be edited."""
    folder = tmp_path / f"dictionary-{version}"
    shutil.copytree(demo_folder(), folder)
    manifest = folder / "manifest.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"2026.4"', f'"{version}"'), encoding="utf-8")
    return folder


def edit_line(path: Path, line_number: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert old in lines[line_number - 1], f"{old!r} not on line {line_number} of {path.name}"
    lines[line_number - 1] = lines[line_number - 1].replace(old, new, 1)
    path.write_text("".join(lines), encoding="utf-8")


def snapshot(container) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table (as reflected, so raw stored values), in primary-key order."""
    meta = MetaData()
    meta.reflect(bind=container.engine)
    with container.engine.connect() as conn:
        return {
            name: [tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key.columns))]
            for name, table in sorted(meta.tables.items()) if name != "alembic_version"
        }


def count(container, model) -> int:
    with container.session_factory() as s:
        return s.scalar(select(func.count()).select_from(model))


def line_of(container, label: str) -> BudgetLine:
    with container.session_factory() as s:
        return s.scalars(select(BudgetLine).where(BudgetLine.line_key == label)).one()


def entries_of(container, label: str) -> list[LedgerEntry]:
    with container.session_factory() as s:
        line_id = s.scalar(select(BudgetLine.id).where(BudgetLine.line_key == label))
        return list(s.scalars(select(LedgerEntry).where(LedgerEntry.line_id == line_id).order_by(LedgerEntry.id)))


def test_the_demo_company_seeds_every_role_and_allocates_every_budget_line(container):
    summary = seed_demo(container.masterdata_store)

    expected = {line.key.label: line.amount for line in load_folder(demo_folder()).budget_lines}
    assert summary.recorded and summary.allocations == 35 and summary.adjustments == 0
    assert summary.counts["employees"].created == 25 and summary.counts["org_units"].created == 10
    with container.session_factory() as s:
        assert set(s.scalars(select(EmployeeRole.role_code).distinct())) == KNOWN_ROLES
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind != "ALLOCATE")) == 0
        budgets = dict(s.execute(select(BudgetLine.line_key, BudgetLine.budget)).tuples().all())
        depth_three = s.scalar(select(OrgUnit).where(OrgUnit.code == "SALES-N"))
        parent = s.get(OrgUnit, depth_three.parent_id)
        assert (parent.code, s.get(OrgUnit, parent.parent_id).code) == ("DIV-SALES", "HQ")
        record = s.scalars(select(MasterDataImport)).one()
    assert (record.version, record.checksum, len(record.checksum)) == ("2026.4", summary.checksum, 64)
    assert budgets == expected
    assert '"allocations": 35' in record.summary and record.imported_at.tzinfo is not None
    assert entries_of(container, TRAVEL_NORTH)[0].operation_key == f"masterdata:2026.4:{TRAVEL_NORTH}"
    assert line_of(container, TRAVEL_NORTH).budget == D("480000.00")


def test_seed_demo_twice_through_the_cli_changes_nothing_the_second_time(container, cli_env):
    first = run_cli(cli_env, "seed", "demo")
    assert first.returncode == 0, first.stderr
    assert "35 ALLOCATE" in first.stdout
    after_first = snapshot(container)

    second = run_cli(cli_env, "seed", "demo")

    assert second.returncode == 0, second.stderr
    assert "already up to date, nothing changed" in second.stdout
    assert snapshot(container) == after_first
    assert count(container, LedgerEntry) == 35 and count(container, MasterDataImport) == 1


def test_a_broken_row_is_reported_by_file_row_and_field_and_the_database_stays_unchanged(container, cli_env, tmp_path):
    seed_demo(container.masterdata_store)
    folder = demo_copy(tmp_path, version="2026.5")
    edit_line(folder / "employees.csv", 3, "王芳", "王芳芳")  # a valid change that must not land either
    edit_line(folder / "budget_lines.csv", 7, "60000.00", "6O000.00")  # letter O for zero
    before = snapshot(container)

    result = run_cli(cli_env, "import-master-data", str(folder))

    assert result.returncode == 1
    assert "budget_lines.csv:7:amount: '6O000.00' is not plain decimal text" in result.stderr
    assert "1 problem(s)" in result.stderr and "nothing was imported" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert snapshot(container) == before


def test_a_changed_amount_in_a_new_version_books_an_adjust_entry_and_the_ledger_still_verifies(
        container, cli_env, tmp_path):
    seed_demo(container.masterdata_store)
    folder = demo_copy(tmp_path, version="2026.5")
    edit_line(folder / "budget_lines.csv", TRAVEL_NORTH_ROW, "480000.00", "455000.50")

    summary = import_master_data(folder, container.masterdata_store)

    assert (summary.adjustments, summary.allocations) == (1, 0)
    assert summary.counts["budget_lines"].updated == 1 and summary.counts["budget_lines"].unchanged == 34
    allocate, adjust = entries_of(container, TRAVEL_NORTH)
    assert (allocate.kind, allocate.budget_delta) == ("ALLOCATE", D("480000.00"))
    assert (adjust.kind, adjust.amount, adjust.budget_delta) == ("ADJUST", D("24999.50"), D("-24999.50"))
    assert adjust.operation_key == f"masterdata:2026.5:{TRAVEL_NORTH}"
    assert line_of(container, TRAVEL_NORTH).budget == D("455000.50")
    assert count(container, MasterDataImport) == 2
    verify = run_cli(cli_env, "ledger", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "OK: 35 lines" in verify.stdout


def test_reimporting_the_same_folder_records_nothing_new(container):
    seed_demo(container.masterdata_store)
    before = snapshot(container)

    summary = seed_demo(container.masterdata_store)

    assert not summary.changed and not summary.recorded
    assert snapshot(container) == before


def test_new_content_under_an_already_imported_version_is_refused(container, tmp_path):
    seed_demo(container.masterdata_store)
    folder = demo_copy(tmp_path, version="2026.4")
    edit_line(folder / "employees.csv", 3, "王芳", "王芳芳")

    with pytest.raises(MasterDataInvalid) as caught:
        import_master_data(folder, container.masterdata_store)

    assert caught.value.problems == [
        "manifest.toml:-:version: version 2026.4 was already imported with different content; "
        "give this dictionary a new version"]


def test_deactivating_an_employee_and_changing_roles_updates_them_in_place(container, tmp_path):
    seed_demo(container.masterdata_store)
    folder = demo_copy(tmp_path, version="2026.5")
    employees = folder / "employees.csv"
    edit_line(employees, 20, "employee,dt_gaoxiang", "employee;manager,dt_gaoxiang")  # E0019 is promoted
    edit_line(employees, 13, "employee;finance", "employee")  # E0012 leaves finance ...
    edit_line(employees, 13, ",true", ",false")  # ... and the company

    summary = import_master_data(folder, container.masterdata_store)

    assert summary.counts["employees"].updated == 2 and summary.counts["employees"].created == 0
    with container.session_factory() as s:
        def roles(code: str) -> set[str]:
            return set(s.scalars(select(EmployeeRole.role_code).join(Employee).where(Employee.code == code)))
        assert roles("E0019") == {"employee", "manager"}
        assert roles("E0012") == {"employee"}
        assert s.scalar(select(Employee.active).where(Employee.code == "E0012")) is False
        assert s.scalar(select(func.count()).select_from(Employee)) == 25


def test_a_new_line_and_a_changed_policy_in_a_new_version_are_booked_without_touching_the_rest(container, tmp_path):
    seed_demo(container.masterdata_store)
    folder = demo_copy(tmp_path, version="2026.5")
    edit_line(folder / "budget_lines.csv", TRAVEL_NORTH_ROW, "FORBID,5", "WARN,0")
    with (folder / "budget_lines.csv").open("a", encoding="utf-8") as f:
        f.write("2026-03,FIN,,MEALS,,12000.00,CNY,IGNORE,,\n")  # no owner

    summary = import_master_data(folder, container.masterdata_store)

    assert (summary.allocations, summary.adjustments) == (1, 0)
    assert summary.counts["budget_lines"].created == 1 and summary.counts["budget_lines"].updated == 1
    travel = line_of(container, TRAVEL_NORTH)
    assert (travel.control_mode, travel.tolerance_pct, travel.budget) == ("WARN", D(0), D("480000.00"))
    assert len(entries_of(container, TRAVEL_NORTH)) == 1  # a policy is a setting, not money: no entry
    assert line_of(container, "2026-03/ORG:FIN/MEALS").budget == D("12000.00")


def test_changing_a_budget_lines_currency_is_refused_with_its_row_and_nothing_lands(container, tmp_path):
    seed_demo(container.masterdata_store)
    folder = demo_copy(tmp_path, version="2026.5")
    edit_line(folder / "budget_lines.csv", TRAVEL_NORTH_ROW, ",CNY,", ",USD,")
    edit_line(folder / "employees.csv", 3, "王芳", "王芳芳")
    before = snapshot(container)

    with pytest.raises(MasterDataInvalid) as caught:
        import_master_data(folder, container.masterdata_store)

    assert caught.value.problems == [
        f"budget_lines.csv:{TRAVEL_NORTH_ROW}:currency: budget line {TRAVEL_NORTH} is kept in CNY; a line's "
        "currency cannot change (book a new line, e.g. with a project code, instead)"]
    assert snapshot(container) == before


def test_a_budget_cut_below_what_is_already_reserved_is_refused_and_rolls_everything_back(container, tmp_path):
    seed_demo(container.masterdata_store)
    line_id = line_of(container, TRAVEL_NORTH).id
    ledger.reserve(container.uow, line_id=line_id, amount=Money.of("300000.00", "CNY"), key="claim-1:reserve",
                   document="claim-1")
    folder = demo_copy(tmp_path, version="2026.5")
    edit_line(folder / "budget_lines.csv", TRAVEL_NORTH_ROW, "480000.00", "200000.00")
    edit_line(folder / "budget_lines.csv", 3, "360000.00", "370000.00")  # a valid raise elsewhere
    before = snapshot(container)

    with pytest.raises(MasterDataInvalid) as caught:
        import_master_data(folder, container.masterdata_store)

    assert caught.value.problems == [
        f"budget_lines.csv:{TRAVEL_NORTH_ROW}:amount: budget line {TRAVEL_NORTH} already has 300,000.00 CNY "
        "reserved or consumed; a budget of 200,000.00 CNY under FORBID with 5% tolerance would leave it over-committed"]
    assert snapshot(container) == before


def test_switching_an_overspent_warn_line_to_forbid_is_refused(container, tmp_path):
    seed_demo(container.masterdata_store)
    meals = "2026/ORG:SALES-N/MEALS"  # row 4: 120000.00 CNY under WARN
    ledger.reserve(container.uow, line_id=line_of(container, meals).id, amount=Money.of("130000.00", "CNY"),
                   key="claim-2:reserve", document="claim-2")
    folder = demo_copy(tmp_path, version="2026.5")
    edit_line(folder / "budget_lines.csv", 4, "WARN,0", "FORBID,5")

    with pytest.raises(MasterDataInvalid) as caught:
        import_master_data(folder, container.masterdata_store)

    assert caught.value.problems == [
        f"budget_lines.csv:4:control_mode: budget line {meals} already has 130,000.00 CNY reserved or consumed; "
        "a budget of 120,000.00 CNY under FORBID with 5% tolerance would leave it over-committed"]
    assert line_of(container, meals).control_mode == "WARN"


def test_a_reimport_after_a_manual_adjustment_restores_the_files_budget_under_a_fresh_key(container, cli_env):
    seed_demo(container.masterdata_store)
    line_id = line_of(container, TRAVEL_NORTH).id
    ledger.adjust(container.uow, line_id=line_id, amount=Money.of("20000.00", "CNY"), key="manual-raise")

    summary = seed_demo(container.masterdata_store)

    assert summary.adjustments == 1 and summary.recorded
    keys = [(e.kind, e.budget_delta, e.operation_key) for e in entries_of(container, TRAVEL_NORTH)]
    assert keys[1:] == [("ADJUST", D("20000.00"), "manual-raise"),
                        ("ADJUST", D("-20000.00"), f"masterdata:2026.4:{TRAVEL_NORTH}#2")]
    assert line_of(container, TRAVEL_NORTH).budget == D("480000.00")
    assert run_cli(cli_env, "ledger", "verify").returncode == 0


def test_an_oa_account_still_held_by_someone_missing_from_the_file_is_refused(container, tmp_path):
    seed_demo(container.masterdata_store)
    folder = demo_copy(tmp_path, version="2026.5")
    employees = folder / "employees.csv"
    rows = employees.read_text(encoding="utf-8").splitlines(keepends=True)
    del rows[25]  # E0025 韩雪 (dt_hanxue) disappears from the file instead of being deactivated
    employees.write_text("".join(rows) + rows[24].replace("E0024", "E0026").replace("dt_xieyu", "dt_hanxue")
                         .replace("Xieyu", "Xieyu2").replace("ou_", "ou_x"), encoding="utf-8")

    with pytest.raises(MasterDataInvalid) as caught:
        import_master_data(folder, container.masterdata_store)

    assert caught.value.problems == [
        "employees.csv:26:dingtalk_userid: dt_hanxue already belongs to employee E0025 in the database; list E0025 "
        "with active=false and a blank id to free it"]


def test_import_master_data_asks_for_init_when_the_schema_is_missing(tmp_path):
    env = {**cli_env_for(tmp_path / "empty.db"), "BUDGETFLOW_INSTANCE_DIR": str(tmp_path)}

    result = run_cli(env, "import-master-data", str(demo_folder()))

    assert result.returncode == 2
    assert "has no budgetflow tables; run `budgetflow init`" in result.stderr
    assert len(result.stderr.splitlines()) == 1 and not (tmp_path / "empty.db").exists()
    assert "Traceback" not in result.stderr


def test_seed_demo_creates_the_schema_itself_on_an_empty_database(tmp_path):
    env = {**cli_env_for(tmp_path / "fresh.db"), "BUDGETFLOW_INSTANCE_DIR": str(tmp_path)}

    result = run_cli(env, "seed", "demo")

    assert result.returncode == 0, result.stderr
    assert run_cli(env, "ledger", "verify").stdout.startswith("ledger verify: OK: 35 lines")


def cli_env_for(database: Path) -> dict[str, str]:
    return {**os.environ, "BUDGETFLOW_DATABASE_URL": f"sqlite:///{database}"}
