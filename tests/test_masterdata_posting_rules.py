"""``posting_rules.csv``, the data dictionary's optional ERP posting rules: validated like every dictionary file and
against expense_subjects.csv and currencies.csv, imported in the dictionary's transaction (SQLite and PostgreSQL),
replaced by each import, read back through ``uow.posting_rules``."""

from __future__ import annotations

import json

import pytest
from alembic import command
from sqlalchemy import inspect, select

from engine.domain.errors import MasterDataInvalid
from engine.domain.posting import DEFAULT_SUMMARY, PostingRule
from engine.persistence import schema
from engine.persistence.db import make_engine
from engine.persistence.posting_tables import PostingRule as PostingRuleRow
from engine.seed import demo_folder
from engine.services.masterdata.importing import import_master_data, load_folder, seed_demo
from tests.test_masterdata import BASE, write_folder
from tests.test_masterdata_import import demo_copy, run_cli, snapshot
from tests.test_masterdata_oa_forms import import_record_summary

DEMO_RULES = load_folder(demo_folder()).posting_rules
HEADER = ("erp,book,voucher_type,payable_account,vat_input_account,summary,expense_dimensions,payable_dimensions,"
          "book_currency\n")
GOOD = HEADER + (
    "kingdee,100,pre001,2241,２２２１.０１.０１,,,,\n"  # blanks take the defaults; identifiers in canonical form
    "sap,1010,SA,2241000000,2221010100,凭证 {document_no} {{{total} {currency}}},project; department,vendor,JPY\n"
)
SUBJECTS = BASE["expense_subjects.csv"]


def problems_of(folder) -> list[str]:
    with pytest.raises(MasterDataInvalid) as caught:
        load_folder(folder)
    return caught.value.problems


def rules(folder) -> tuple[PostingRule, ...]:
    return load_folder(folder).posting_rules


def with_subjects(*rows: str) -> str:
    return SUBJECTS + "".join(f"{row}\n" for row in rows)


# ---------------------------------------------------------------- validation (no database)


def test_a_valid_file_becomes_one_rule_per_row_with_the_defaults_filled_in(tmp_path):
    assert rules(write_folder(tmp_path, posting_rules_csv=GOOD)) == (
        PostingRule(erp="kingdee", book="100", voucher_type="PRE001", payable_account="2241",
                    vat_input_account="2221.01.01", summary=DEFAULT_SUMMARY,
                    expense_dimensions=("department", "cost_center"), payable_dimensions=("employee",),
                    book_currency="CNY"),
        PostingRule(erp="sap", book="1010", voucher_type="SA", payable_account="2241000000",
                    vat_input_account="2221010100", summary="凭证 {document_no} {{{total} {currency}}}",
                    expense_dimensions=("project", "department"), payable_dimensions=("vendor",),
                    book_currency="JPY"),
    )


def test_a_dictionary_without_the_file_or_with_only_its_header_has_no_rules(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    without = load_folder(write_folder(tmp_path / "a"))
    header_only = load_folder(write_folder(tmp_path / "b", posting_rules_csv=HEADER))
    assert without.posting_rules == () == header_only.posting_rules
    assert without.checksum != header_only.checksum  # the file counts in the checksum


def test_every_cell_is_checked_against_its_column(tmp_path):
    bad = HEADER + (
        "Kingdee,,PRE 001,,2221.01.01,报销 {document_no} {claimant},dept;cost_center,employee;employee,RMB\n"
        "local,LOCAL,记,2241,2221.01.01,报销 {document_no,department;department,,rmb1\n"
        "yonbip,BOOK01,01,2241,22210101,{total:>99999} {applicant.name},;,vendor,USD\n"
        f"yonyou_u8,BOOK01,01,2241,22210101,{'长' * 201},,,\n"
    )

    problems = problems_of(write_folder(tmp_path, posting_rules_csv=bad))

    placeholders = "{document_no}, {applicant}, {applicant_name}, {subjects}, {total}, {currency}"
    assert problems == [
        "posting_rules.csv:2:erp: 'Kingdee' is not one of local, kingdee, yonyou_u8, yonbip, sap",
        "posting_rules.csv:2:book: is required",
        "posting_rules.csv:2:voucher_type: 'PRE 001' is not a voucher type (A-Z, 0-9, Chinese characters, '.', '_' "
        "or '-', at most 64 characters): it contains a space",
        "posting_rules.csv:2:payable_account: is required",
        f"posting_rules.csv:2:summary: unknown placeholder '{{claimant}}'; placeholders: {placeholders}",
        "posting_rules.csv:2:expense_dimensions: unknown dimension(s) 'dept'; dimensions: cost_center, department, "
        "employee, vendor, project",
        "posting_rules.csv:2:payable_dimensions: a dimension is listed twice in 'employee;employee'",
        "posting_rules.csv:2:book_currency: RMB is not in currencies.csv",
        "posting_rules.csv:3:summary: '报销 {document_no' has a '{' or '}' without its pair; write {{ or }} for a "
        "brace itself",
        "posting_rules.csv:3:expense_dimensions: a dimension is listed twice in 'department;department'",
        "posting_rules.csv:3:book_currency: 'rmb1' is not a three-letter ISO 4217 code",
        "posting_rules.csv:4:summary: placeholder '{total:>99999}' has a format; write {total}",
        "posting_rules.csv:4:expense_dimensions: names no dimension; dimensions: cost_center, department, employee, "
        "vendor, project",
        "posting_rules.csv:4:book_currency: USD is not in currencies.csv",
        "posting_rules.csv:5:summary: is 201 characters long; at most 200 allowed",
    ]


def test_a_placeholder_may_not_reach_into_an_attribute(tmp_path):
    """``format_map`` would read ``{applicant.__class__}``: only the plain names of SUMMARY_FIELDS pass."""
    text = HEADER + "kingdee,100,PRE001,2241,2221.01.01,{applicant.__class__},,,\n"
    assert problems_of(write_folder(tmp_path, posting_rules_csv=text)) == [
        "posting_rules.csv:2:summary: unknown placeholder '{applicant.__class__}'; placeholders: {document_no}, "
        "{applicant}, {applicant_name}, {subjects}, {total}, {currency}"]


def test_an_erp_has_one_rule(tmp_path):
    text = HEADER + ("kingdee,100,PRE001,2241,2221.01.01,,,,\n"
                     "local,LOCAL,记,2241,2221.01.01,,,,\n"
                     "kingdee,200,PRE002,2241,2221.01.01,,,,\n")
    assert problems_of(write_folder(tmp_path, posting_rules_csv=text)) == [
        "posting_rules.csv:4:erp: duplicate erp kingdee (first on row 2)"]


def test_each_account_follows_the_pattern_of_its_erps_chart(tmp_path):
    text = HEADER + (
        "kingdee,100,PRE001,PAY-1,2221.01.01,,,,\n"     # Kingdee: digits in dot-separated groups
        "local,LOCAL,记,2241,2221.01.,,,,\n"             # the local ERP books on the Kingdee chart too
        "yonyou_u8,BOOK01,01,2241,2221 0101,,,,\n"       # a space is refused, not removed
        "sap,1010,SA,2241000000,2221.01.01,,,,\n"       # SAP: up to ten letters or digits, no dots
        "yonbip,BOOK01,01,224100000000,22210101,,,,\n"  # fine: Yonyou accounts have no length limit here
    )

    assert problems_of(write_folder(tmp_path, posting_rules_csv=text)) == [
        "posting_rules.csv:2:payable_account: 'PAY-1' is not a Kingdee account like 6602.01 (kingdee posts to "
        "gl_kingdee accounts)",
        "posting_rules.csv:3:vat_input_account: '2221.01.' is not a Kingdee account like 6602.01 (local posts to "
        "gl_kingdee accounts)",
        "posting_rules.csv:4:vat_input_account: '2221 0101' is not a GL account: it contains a space",
        "posting_rules.csv:5:vat_input_account: '2221.01.01' is not an SAP G/L account like 6602010000 (sap posts "
        "to gl_sap accounts)",
    ]


def test_every_active_subject_needs_the_gl_account_each_rule_posts_it_to(tmp_path):
    subjects = with_subjects(
        "HOTEL,住宿费,Hotel,,660202,6602020000,deductible,true",      # 3: no Kingdee account
        "MEALS,餐费,Meals,6602.03,,,non_deductible,true",             # 4: no Yonyou, no SAP account
        "OLD,旧科目,Old,,,,none,false",                                # 5: inactive: needs none
    )
    text = HEADER + ("kingdee,100,PRE001,2241,2221.01.01,,,,\n"
                     "local,LOCAL,记,2241,2221.01.01,,,,\n"
                     "yonbip,BOOK01,01,2241,22210101,,,,\n")

    problems = problems_of(write_folder(tmp_path, expense_subjects_csv=subjects, posting_rules_csv=text))

    assert problems == [
        "expense_subjects.csv:3:gl_kingdee: is required: subject HOTEL is active and posting_rules.csv posts to "
        "gl_kingdee for kingdee (row 2) and local (row 3)",
        "expense_subjects.csv:4:gl_yonyou: is required: subject MEALS is active and posting_rules.csv posts to "
        "gl_yonyou for yonbip (row 4)",
    ]


def test_subjects_without_gl_accounts_are_fine_when_no_rule_posts_them(tmp_path):
    """The negative control of the test above: the same subjects, and rules only for the charts they have."""
    subjects = with_subjects("MEALS,餐费,Meals,6602.03,,,non_deductible,true", "OLD,旧科目,Old,,,,none,false")
    text = HEADER + "kingdee,100,PRE001,2241,2221.01.01,,,,\n"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert len(rules(write_folder(tmp_path / "a", expense_subjects_csv=subjects, posting_rules_csv=text))) == 1
    assert len(rules(write_folder(tmp_path / "b", expense_subjects_csv=subjects))) == 0


def test_an_input_vat_account_is_required_while_an_active_subject_deducts_vat(tmp_path):
    text = HEADER + "kingdee,100,PRE001,2241,,,,,\n"
    assert problems_of(write_folder(tmp_path, posting_rules_csv=text)) == [
        "posting_rules.csv:2:vat_input_account: is required: active subject(s) TRAVEL deduct input VAT (tax_treatment "
        "deductible or passenger_transport)"]

    no_deduction = SUBJECTS.replace("passenger_transport", "non_deductible")
    rule, = rules(write_folder(tmp_path, expense_subjects_csv=no_deduction, posting_rules_csv=text))
    assert rule.vat_input_account is None


def test_problems_in_both_files_are_reported_at_once_file_by_file(tmp_path):
    subjects = with_subjects("HOTEL,住宿费,Hotel,,660202,6602020000,deductible,true")
    text = HEADER + "kingdee,100,PRE001,22.41.,,{who},,,\n"

    assert problems_of(write_folder(tmp_path, expense_subjects_csv=subjects, posting_rules_csv=text)) == [
        "expense_subjects.csv:3:gl_kingdee: is required: subject HOTEL is active and posting_rules.csv posts to "
        "gl_kingdee for kingdee (row 2)",
        "posting_rules.csv:2:payable_account: '22.41.' is not a Kingdee account like 6602.01 (kingdee posts to "
        "gl_kingdee accounts)",
        "posting_rules.csv:2:vat_input_account: is required: active subject(s) TRAVEL, HOTEL deduct input VAT "
        "(tax_treatment deductible or passenger_transport)",
        "posting_rules.csv:2:summary: unknown placeholder '{who}'; placeholders: {document_no}, {applicant}, "
        "{applicant_name}, {subjects}, {total}, {currency}",
    ]


def test_the_file_follows_the_rules_of_every_dictionary_file(tmp_path):
    bad = ("erp,book,voucher_type,payable_account,ledger\n"  # optional columns may be left out of the header
           "kingdee,1\x0000,PRE001,2241,x\n")
    assert problems_of(write_folder(tmp_path, posting_rules_csv=bad)) == [
        "posting_rules.csv:1:ledger: unknown column; expected columns: erp, book, voucher_type, payable_account, "
        "vat_input_account, summary, expense_dimensions, payable_dimensions, book_currency",
        "posting_rules.csv:2:book: contains U+0000 (NUL), a control character at character 2; a cell may not hold "
        "control characters, tabs or line breaks",
        "posting_rules.csv:2:vat_input_account: is required: active subject(s) TRAVEL deduct input VAT (tax_treatment "
        "deductible or passenger_transport)",
    ]


def test_the_demo_company_posts_to_every_erp():
    by_erp = {rule.erp: rule for rule in DEMO_RULES}
    assert sorted(by_erp) == ["kingdee", "local", "sap", "yonbip", "yonyou_u8"]
    assert [(r.book, r.voucher_type, r.payable_account, r.vat_input_account) for r in DEMO_RULES] == [
        ("LOCAL", "记", "2241", "2221.01.01"), ("001", "PRE001", "2241", "2221.01.01"),
        ("1", "01", "2241", "22210101"), ("BOOK01", "01", "2241", "22210101"),
        ("1010", "SA", "2241000000", "2221010100")]
    assert {(r.summary, r.expense_dimensions, r.payable_dimensions, r.book_currency) for r in DEMO_RULES} == {
        (DEFAULT_SUMMARY, ("department", "cost_center"), ("employee",), "CNY")}


# ---------------------------------------------------------------- import (SQLite and PostgreSQL)


def stored(container) -> dict[str, tuple[object, ...]]:
    with container.session_factory() as s:
        return {r.erp: (r.book, r.voucher_type, r.payable_account, r.vat_input_account, r.summary,
                        r.expense_dimensions, r.payable_dimensions, r.book_currency)
                for r in s.scalars(select(PostingRuleRow))}


def write_rules(folder, text: str) -> None:
    (folder / "posting_rules.csv").write_text(text, encoding="utf-8")


def test_the_demo_seed_stores_its_rules_and_the_unit_of_work_reads_them_back_equal(container):
    summary = seed_demo(container.masterdata_store)

    assert summary.counts["posting_rules"].created == len(DEMO_RULES) == 5 and summary.posting_rules_removed == 0
    assert stored(container)["sap"] == ("1010", "SA", "2241000000", "2221010100", DEFAULT_SUMMARY,
                                        "department;cost_center", "employee", "CNY")
    with container.uow() as uow:
        assert uow.posting_rules.all() == sorted(DEMO_RULES, key=lambda rule: rule.erp)
        for rule in DEMO_RULES:
            assert uow.posting_rules.for_erp(rule.erp) == rule
        assert uow.posting_rules.for_erp("oracle") is None
        assert uow.posting_rules.for_erp("SAP") is None  # ERP names are exact


def test_a_new_version_replaces_the_rules_exactly(container, tmp_path):
    seed_demo(container.masterdata_store)
    folder = demo_copy(tmp_path, version="2026.5")
    rows = (folder / "posting_rules.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [row for row in rows[1:] if row.startswith(("kingdee,", "sap,", "local,"))]
    kept = [row.replace("1010,SA", "1020,SA") if row.startswith("sap,") else row for row in kept]
    write_rules(folder, rows[0] + "".join(kept))

    summary = import_master_data(folder, container.masterdata_store)

    counts = summary.counts["posting_rules"]
    assert (counts.created, counts.updated, counts.unchanged) == (0, 1, 2)
    assert summary.changed and summary.posting_rules_removed == 2
    assert set(stored(container)) == {"kingdee", "sap", "local"}
    with container.uow() as uow:
        assert uow.posting_rules.for_erp("yonbip") is None and uow.posting_rules.for_erp("yonyou_u8") is None
        sap = uow.posting_rules.for_erp("sap")
        assert sap is not None and sap.book == "1020"


def test_a_dictionary_without_the_file_removes_every_rule(container, tmp_path):
    seed_demo(container.masterdata_store)
    folder = demo_copy(tmp_path, version="2026.5")
    (folder / "posting_rules.csv").unlink()

    summary = import_master_data(folder, container.masterdata_store)

    assert summary.changed and summary.posting_rules_removed == 5 and stored(container) == {}
    assert '"posting_rules_removed": 5' in import_record_summary(container)


def test_a_version_that_changes_only_a_rule_counts_as_a_change(container, tmp_path):
    seed_demo(container.masterdata_store)
    folder = demo_copy(tmp_path, version="2026.5")
    text = (folder / "posting_rules.csv").read_text(encoding="utf-8")
    write_rules(folder, text.replace("kingdee,001,PRE001,2241,2221.01.01,,department;cost_center,employee",
                                     "kingdee,001,PRE001,2241,2221.01.01,,department;project,employee;vendor"))

    summary = import_master_data(folder, container.masterdata_store)

    counts = summary.counts["posting_rules"]
    assert summary.changed and (counts.updated, counts.unchanged) == (1, 4)
    assert stored(container)["kingdee"][5:7] == ("department;project", "employee;vendor")


def test_a_bad_rule_is_reported_through_the_cli_and_nothing_is_imported(container, cli_env, tmp_path):
    seed_demo(container.masterdata_store)
    folder = demo_copy(tmp_path, version="2026.5")
    (folder / "employees.csv").write_text((folder / "employees.csv").read_text(encoding="utf-8")
                                          .replace("王芳", "王芳芳"), encoding="utf-8")  # valid, must not land
    subjects = (folder / "expense_subjects.csv").read_text(encoding="utf-8")
    (folder / "expense_subjects.csv").write_text(subjects.replace("6602010000,", ","), encoding="utf-8")
    write_rules(folder, HEADER + "sap,1010,SA,2241000000,,,,,\n")
    before = snapshot(container)

    result = run_cli(cli_env, "import-master-data", str(folder))

    assert result.returncode == 1
    assert result.stderr.splitlines()[:2] == [
        "expense_subjects.csv:2:gl_sap: is required: subject TRAVEL is active and posting_rules.csv posts to gl_sap "
        "for sap (row 2)",
        "posting_rules.csv:2:vat_input_account: is required: active subject(s) TRAVEL, HOTEL, TRANSPORT, OFFICE, "
        "TRAINING and 1 more deduct input VAT (tax_treatment deductible or passenger_transport)"]
    assert "2 problem(s)" in result.stderr and "nothing was imported" in result.stderr
    assert snapshot(container) == before


def test_the_cli_reports_the_rules_imported_and_removed(container, cli_env, tmp_path):
    first = run_cli(cli_env, "--lang", "en", "seed", "demo", "--json")
    assert first.returncode == 0, first.stderr
    body = json.loads(first.stdout)
    assert body["counts"]["posting_rules"] == {"created": 5, "updated": 0, "unchanged": 0}
    assert body["posting_rules_removed"] == 0
    folder = demo_copy(tmp_path, version="2026.5")
    (folder / "posting_rules.csv").unlink()

    second = run_cli(cli_env, "--lang", "en", "import-master-data", str(folder))

    assert second.returncode == 0, second.stderr
    assert "posting rules" in second.stdout and "5 removed (no longer in posting_rules.csv)" in second.stdout


def test_rules_land_only_with_the_rest_of_the_dictionary(container, tmp_path):
    """The rules are written in the import's transaction: a problem the database finds rolls them back too."""
    seed_demo(container.masterdata_store)
    folder = demo_copy(tmp_path, version="2026.5")
    lines = (folder / "budget_lines.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].replace(",CNY,", ",USD,")  # a line's currency cannot change: found against the database
    (folder / "budget_lines.csv").write_text("".join(lines), encoding="utf-8")
    write_rules(folder, HEADER + "kingdee,999,PRE009,2241,2221.01.01,,,,\n")  # valid; would replace every rule
    before = stored(container)

    with pytest.raises(MasterDataInvalid) as caught:
        import_master_data(folder, container.masterdata_store)

    assert [p.split(":")[0] for p in caught.value.problems] == ["budget_lines.csv"]
    assert stored(container) == before and len(before) == 5


# ---------------------------------------------------------------- the migration


def test_migration_0012_adds_the_table_and_takes_it_away_again(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        schema.upgrade(engine, "0011")
        assert "posting_rule" not in inspect(engine).get_table_names()
        schema.upgrade(engine)
        columns = {c["name"]: c["nullable"] for c in inspect(engine).get_columns("posting_rule")}
        assert columns == {"erp": False, "book": False, "voucher_type": False, "payable_account": False,
                           "vat_input_account": True, "summary": False, "expense_dimensions": False,
                           "payable_dimensions": False, "book_currency": False}
        cfg = schema.alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0011")
        assert "posting_rule" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
