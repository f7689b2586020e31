"""Validating a data-dictionary folder: every rule family, on small folders written to tmp_path. No database."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from engine.domain.budget import ControlMode
from engine.domain.errors import MasterDataInvalid
from engine.domain.masterdata.dictionary import require_unchanged_version
from engine.domain.masterdata.fields import KNOWN_ROLES
from engine.domain.masterdata.records import MasterData
from engine.domain.masterdata.source import checksum
from engine.seed import demo_folder
from engine.services.masterdata.importing import load_folder

BASE = {
    "manifest.toml": 'version = "t1"\ncompany = "测试有限公司"\n',
    "currencies.csv": "code,name,minor_units\nCNY,人民币,2\nJPY,日元,0\n",
    "org_units.csv": (
        "code,name,name_en,parent_code,manager_code,active\n"
        "HQ,总部,Head office,,E1,true\n"
        "OPS,运营部,Operations,HQ,E2,true\n"
    ),
    "employees.csv": (
        "code,name,email,org_unit_code,roles,dingtalk_userid,wecom_userid,feishu_open_id,"
        "erp_employee_code,erp_vendor_code,active\n"
        "E1,张三,zhangsan@example.com,HQ,employee;manager,dt_1,wx_1,ou_1,K001,V001,true\n"
        "E2,李四,lisi@example.com,OPS,employee;manager;finance,dt_2,wx_2,ou_2,K002,V002,true\n"
    ),
    "expense_subjects.csv": (
        "code,name,name_en,gl_kingdee,gl_yonyou,gl_sap,tax_treatment,active\n"
        "TRAVEL,差旅费,Travel,6602.01,660201,6602010000,passenger_transport,true\n"
    ),
    "cost_centers.csv": "code,name,org_unit_code,active\nCC-OPS,运营成本中心,OPS,true\n",
    "budget_lines.csv": (
        "period,org_unit_code,cost_center_code,subject_code,project,amount,currency,control_mode,tolerance_pct\n"
        "2026,OPS,,TRAVEL,,1000.00,CNY,FORBID,5\n"
        "2026-Q1,,CC-OPS,TRAVEL,,500,CNY,WARN,\n"
    ),
}


def write_folder(root: Path, **changes: str | None) -> Path:
    """BASE written to ``root``; ``employees_csv=TEXT`` replaces employees.csv, ``=None`` leaves it out."""
    folder = root / "dictionary"
    folder.mkdir(exist_ok=True)
    files = {**BASE, **{name.replace("_csv", ".csv").replace("_toml", ".toml"): text for name, text in changes.items()}}
    for name, text in files.items():
        if text is not None:
            (folder / name).write_text(text, encoding="utf-8")
    return folder


def edit(name: str, old: str, new: str) -> str:
    assert old in BASE[name], f"{old!r} is not in {name}"
    return BASE[name].replace(old, new)


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(MasterDataInvalid) as caught:
        load_folder(folder)
    return caught.value.problems


def test_a_valid_folder_parses_into_typed_records_with_decimal_amounts(tmp_path):
    data = load_folder(write_folder(tmp_path))
    assert isinstance(data, MasterData)
    assert data.manifest.version == "t1" and data.manifest.company == "测试有限公司"
    first, second = data.budget_lines
    assert first.amount == Decimal("1000.00") and isinstance(first.amount, Decimal)
    assert first.key.label == "2026/ORG:OPS/TRAVEL" and first.row == 2
    assert (first.policy.control_mode, first.policy.tolerance_pct) == (ControlMode.FORBID, Decimal(5))
    assert second.key.label == "2026-Q1/CC:CC-OPS/TRAVEL" and second.policy.tolerance_pct == 0
    assert data.employees[1].roles == ("employee", "manager", "finance")
    assert [c.minor_units for c in data.currencies] == [2, 0]


def test_the_shipped_demo_folder_is_valid_and_covers_every_role():
    data = load_folder(demo_folder())
    roles = {role for e in data.employees for role in e.roles}
    assert roles == KNOWN_ROLES
    assert len(data.employees) >= 20 and all("employee" in e.roles for e in data.employees)
    assert {s.code for s in data.subjects} == {
        "TRAVEL", "HOTEL", "MEALS", "TRANSPORT", "OFFICE", "TRAINING", "ENTERTAINMENT", "VEHICLE"}
    assert all(e.dingtalk_userid and e.wecom_userid and e.feishu_open_id and e.erp_vendor_code for e in data.employees)
    assert all(u.manager_code for u in data.org_units)
    assert {line.key.period for line in data.budget_lines} >= {"2026", "2026-Q1"}


def test_org_units_come_parents_first_whatever_the_file_order(tmp_path):
    units = "code,name,parent_code,manager_code\nLEAF,叶,MID,E1\nMID,中,HQ,E1\nHQ,总部,,E1\nOPS,运营部,HQ,E2\n"
    data = load_folder(write_folder(tmp_path, org_units_csv=units))
    assert [u.code for u in data.org_units] == ["HQ", "MID", "OPS", "LEAF"]


def test_a_byte_order_mark_from_excel_is_accepted(tmp_path):
    folder = write_folder(tmp_path)
    path = folder / "employees.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_folder(folder).employees[0].code == "E1"


def test_a_file_that_is_not_utf8_is_reported_as_a_whole_at_its_first_bad_line(tmp_path):
    folder = write_folder(tmp_path)
    (folder / "cost_centers.csv").write_bytes(BASE["cost_centers.csv"].encode("gb18030"))
    assert problems_of(folder) == [
        "cost_centers.csv:2:-: is not UTF-8 text (byte 38 cannot be decoded); save it as UTF-8"]


def test_a_file_full_of_problems_lists_the_first_two_hundred_and_counts_the_rest(tmp_path):
    lines = BASE["budget_lines.csv"] + "".join(f"2026-X{n},OPS,,TRAVEL,,1,CNY,WARN,0\n" for n in range(250))
    problems = problems_of(write_folder(tmp_path, budget_lines_csv=lines))
    assert len(problems) == 201
    assert problems[0].startswith("budget_lines.csv:4:period: ")
    assert problems[-1] == "budget_lines.csv:-:-: 50 more problem(s) not listed; fix those above and run again"


def test_a_utf16_file_is_recognised_and_the_way_out_named(tmp_path):
    folder = write_folder(tmp_path)
    (folder / "cost_centers.csv").write_bytes(BASE["cost_centers.csv"].encode("utf-16"))
    assert problems_of(folder) == [
        'cost_centers.csv:1:-: is UTF-16 text (Excel\'s "Unicode Text"); save it as "CSV UTF-8"']


def test_every_problem_is_reported_in_file_and_row_order_not_just_the_first(tmp_path):
    lines = BASE["budget_lines.csv"].replace("1000.00", "abc").replace("WARN", "LOUD")
    employees = edit("employees.csv", "lisi@example.com", "not-an-email")
    problems = problems_of(write_folder(tmp_path, budget_lines_csv=lines, employees_csv=employees))
    assert problems == [
        "employees.csv:3:email: 'not-an-email' is not an e-mail address",
        "budget_lines.csv:2:amount: 'abc' is not plain decimal text (digits and one '.', no exponent, separators, "
        'spaces or full-width digits), e.g. "1280.50"',
        "budget_lines.csv:3:control_mode: 'LOUD' is not one of FORBID, WARN, IGNORE",
    ]


def test_missing_files_unknown_files_and_unknown_columns_are_errors(tmp_path):
    folder = write_folder(tmp_path, cost_centers_csv=None,
                          currencies_csv="code,name,minor_units,symbol\nCNY,人民币,2,¥\nJPY,日元,0,¥\n")
    (folder / "employee.csv").write_text("code\n", encoding="utf-8")
    (folder / "README.md").write_text("notes are fine", encoding="utf-8")
    problems = problems_of(folder)
    assert "employee.csv:-:-: is not part of the data dictionary; expected files: currencies.csv, org_units.csv, " \
           "employees.csv, expense_subjects.csv, cost_centers.csv, budget_lines.csv and, optionally, oa_forms.csv, " \
           "posting_rules.csv and lanes.csv" \
           in problems
    assert "cost_centers.csv:-:-: required file is missing" in problems
    assert "currencies.csv:1:symbol: unknown column; expected columns: code, name, minor_units" in problems
    # With cost_centers.csv missing, its codes are unknown: no cascade of "CC-OPS is not in cost_centers.csv".
    assert not any("is not in cost_centers.csv" in p for p in problems)


def test_a_missing_required_column_is_reported_on_the_header_line(tmp_path):
    subjects = "code,name,active\nTRAVEL,差旅费,true\n"
    assert problems_of(write_folder(tmp_path, expense_subjects_csv=subjects)) == [
        "expense_subjects.csv:1:tax_treatment: required column is missing"]


def test_required_fields_must_not_be_blank(tmp_path):
    employees = edit("employees.csv", "E2,李四,lisi@example.com,OPS,employee;manager;finance",
                     "E2,,lisi@example.com,OPS,")
    assert problems_of(write_folder(tmp_path, employees_csv=employees)) == [
        "employees.csv:3:name: is required", "employees.csv:3:roles: is required"]


def test_codes_are_upper_case_letters_digits_and_separators(tmp_path):
    subjects = edit("expense_subjects.csv", "TRAVEL,差旅费", "travel fees,差旅费")
    lines = BASE["budget_lines.csv"].replace(",TRAVEL,", ",travel fees,")
    problems = problems_of(write_folder(tmp_path, expense_subjects_csv=subjects, budget_lines_csv=lines))
    assert problems[0] == ("expense_subjects.csv:2:code: 'travel fees' is not a code (A-Z, 0-9, '.', '_' or '-', "
                           "at most 64 characters): it contains a space")
    assert [p.split(": ")[0] for p in problems[1:]] == [
        "budget_lines.csv:2:subject_code", "budget_lines.csv:3:subject_code"]


def test_a_duplicate_code_within_a_file_names_both_rows(tmp_path):
    units = BASE["org_units.csv"] + "OPS,运营二部,Operations 2,HQ,E2,true\n"
    assert problems_of(write_folder(tmp_path, org_units_csv=units)) == [
        "org_units.csv:4:code: duplicate code OPS (first on row 3)"]


def test_the_same_budget_line_twice_is_a_duplicate(tmp_path):
    lines = BASE["budget_lines.csv"] + "2026,OPS,,TRAVEL,,20.00,CNY,WARN,0\n"
    assert problems_of(write_folder(tmp_path, budget_lines_csv=lines)) == [
        "budget_lines.csv:4:-: duplicate line_key 2026/ORG:OPS/TRAVEL (first on row 2)"]


def test_an_org_unit_parent_must_exist_and_the_tree_must_not_loop(tmp_path):
    units = (
        "code,name,parent_code,manager_code\n"
        "HQ,总部,,E1\nOPS,运营部,HQ,E2\nA,甲,B,E1\nB,乙,A,E1\nSELF,自己,SELF,E1\nORPHAN,孤儿,GONE,E1\n"
    )
    assert problems_of(write_folder(tmp_path, org_units_csv=units)) == [
        "org_units.csv:4:parent_code: the org tree has a cycle: A → B → A",
        "org_units.csv:6:parent_code: the org tree has a cycle: SELF → SELF",
        "org_units.csv:7:parent_code: GONE is not in org_units.csv",
    ]


def test_a_manager_must_be_an_employee_in_the_file(tmp_path):
    units = edit("org_units.csv", "HQ,E2,true", "HQ,E9,true")
    assert problems_of(write_folder(tmp_path, org_units_csv=units)) == [
        "org_units.csv:3:manager_code: E9 is not in employees.csv"]


def test_an_employee_needs_an_existing_org_unit_and_known_roles(tmp_path):
    employees = edit("employees.csv", "OPS,employee;manager;finance", "SALES,employee;cfo;employee")
    assert problems_of(write_folder(tmp_path, employees_csv=employees)) == [
        "employees.csv:3:org_unit_code: SALES is not in org_units.csv",
        "employees.csv:3:roles: unknown role(s) cfo; known roles: admin, auditor, budget_admin, employee, finance, "
        "manager, process_designer",
    ]


def test_an_oa_account_belongs_to_one_employee_only(tmp_path):
    employees = edit("employees.csv", "dt_2,wx_2,ou_2", "dt_1,wx_2,ou_1")
    assert problems_of(write_folder(tmp_path, employees_csv=employees)) == [
        "employees.csv:3:dingtalk_userid: duplicate dingtalk_userid dt_1 (first on row 2)",
        "employees.csv:3:feishu_open_id: duplicate feishu_open_id ou_1 (first on row 2)",
    ]


def test_a_cost_center_belongs_to_an_existing_org_unit(tmp_path):
    centers = edit("cost_centers.csv", ",OPS,", ",SALES,")
    assert problems_of(write_folder(tmp_path, cost_centers_csv=centers)) == [
        "cost_centers.csv:2:org_unit_code: SALES is not in org_units.csv"]


def test_a_budget_lines_subject_org_unit_cost_center_and_currency_must_exist(tmp_path):
    lines = (BASE["budget_lines.csv"].replace("2026,OPS,,TRAVEL,,1000.00,CNY", "2026,SALES,,HOTEL,,1000.00,EUR")
             .replace(",CC-OPS,", ",CC-NONE,"))
    assert problems_of(write_folder(tmp_path, budget_lines_csv=lines)) == [
        "budget_lines.csv:2:org_unit_code: SALES is not in org_units.csv",
        "budget_lines.csv:2:subject_code: HOTEL is not in expense_subjects.csv",
        "budget_lines.csv:2:currency: EUR is not in currencies.csv",
        "budget_lines.csv:3:cost_center_code: CC-NONE is not in cost_centers.csv",
    ]


def test_a_budget_line_belongs_to_exactly_one_org_unit_or_cost_center(tmp_path):
    lines = BASE["budget_lines.csv"].replace("2026,OPS,,", "2026,OPS,CC-OPS,").replace("2026-Q1,,CC-OPS,", "2026-Q1,,,")
    assert problems_of(write_folder(tmp_path, budget_lines_csv=lines)) == [
        "budget_lines.csv:2:org_unit_code: give exactly one of org_unit_code or cost_center_code",
        "budget_lines.csv:3:org_unit_code: give exactly one of org_unit_code or cost_center_code",
    ]


@pytest.mark.parametrize(("amount", "expected"), [
    ('"1,000.00"', "'1,000.00' is not plain decimal text"),
    ("1e3x", "'1e3x' is not plain decimal text"),
    ("NaN", "'NaN' is not plain decimal text"),
    ("-5.00", "'-5.00' must not be negative; a budget is zero or more"),
    ("10.001", "'10.001' has more than 2 decimal place(s) (CNY)"),
    ("10.000", "'10.000' has trailing zeros beyond CNY's 2 decimal place(s); write 10.00"),
])
def test_amounts_are_exact_decimals_in_the_currencys_precision(tmp_path, amount, expected):
    lines = BASE["budget_lines.csv"].replace("1000.00", amount)
    (problem,) = problems_of(write_folder(tmp_path, budget_lines_csv=lines))
    assert problem.startswith(f"budget_lines.csv:2:amount: {expected}")


def test_a_currency_without_minor_units_takes_whole_amounts_only(tmp_path):
    lines = BASE["budget_lines.csv"].replace("500,CNY", "500.5,JPY")
    assert problems_of(write_folder(tmp_path, budget_lines_csv=lines)) == [
        "budget_lines.csv:3:amount: '500.5' has more than 0 decimal place(s) (JPY)"]


def test_control_mode_and_tolerance_are_checked(tmp_path):
    lines = BASE["budget_lines.csv"].replace("FORBID,5", "forbid,100.5").replace("WARN,", "WARN,-1")
    assert problems_of(write_folder(tmp_path, budget_lines_csv=lines)) == [
        "budget_lines.csv:2:control_mode: 'forbid' is not one of FORBID, WARN, IGNORE",
        "budget_lines.csv:2:tolerance_pct: 100.5 is not a percentage from 0 to 100",
        "budget_lines.csv:3:tolerance_pct: -1 is not a percentage from 0 to 100",
    ]


@pytest.mark.parametrize("period", ["2026-Q5", "2026-13", "26", "2026/03", "FY2026"])
def test_a_period_is_a_year_a_quarter_or_a_month(tmp_path, period):
    lines = BASE["budget_lines.csv"].replace("2026,OPS", f"{period},OPS")
    assert problems_of(write_folder(tmp_path, budget_lines_csv=lines)) == [
        f"budget_lines.csv:2:period: period {period!r} is not YYYY, YYYY-Qn or YYYY-MM"]


def test_tax_treatment_and_gl_accounts_follow_the_documented_vocabulary(tmp_path):
    subjects = edit("expense_subjects.csv", "6602.01,660201,6602010000,passenger_transport",
                    "6602-01,660201,66020100001,vat_free")
    assert problems_of(write_folder(tmp_path, expense_subjects_csv=subjects)) == [
        "expense_subjects.csv:2:gl_kingdee: '6602-01' is not a Kingdee account like 6602.01",
        "expense_subjects.csv:2:gl_sap: '66020100001' is not an SAP G/L account like 6602010000",
        "expense_subjects.csv:2:tax_treatment: 'vat_free' is not one of deductible, passenger_transport, "
        "non_deductible, none",
    ]


def test_the_manifest_needs_a_quoted_version_and_a_company(tmp_path):
    problems = problems_of(write_folder(tmp_path, manifest_toml='version = 2026.1\nowner = "me"\n'))
    assert problems == [
        "manifest.toml:-:owner: unknown key; expected: company, company_en, description, version",
        "manifest.toml:-:company: is required (the company's legal name)",
        'manifest.toml:-:version: must be a quoted string, e.g. version = "2026.1"',
    ]
    problems = problems_of(write_folder(tmp_path, manifest_toml='version = "v 1"\ncompany = "  "\n'))
    assert problems == [
        "manifest.toml:-:company: is required (the company's legal name)",
        "manifest.toml:-:version: 'v 1' is not a version: letters, digits, \".\", \"_\" or \"-\", at most 64 "
        'characters, e.g. "2026.1"',
    ]
    assert problems_of(write_folder(tmp_path, manifest_toml='version = "1"\ncompany = \n')) == [
        "manifest.toml:-:-: is not valid TOML: Invalid value (at line 2, column 11)"]


def test_a_row_with_too_many_values_hints_at_quoting(tmp_path):
    lines = BASE["budget_lines.csv"].replace("1000.00", "1,000.00")
    assert problems_of(write_folder(tmp_path, budget_lines_csv=lines)) == [
        "budget_lines.csv:2:-: has 10 values but the header has 9 columns "
        "(put a value containing ',' in double quotes)"]


def test_active_accepts_true_false_yes_no_and_defaults_to_true(tmp_path):
    centers = "code,name,org_unit_code,active\nCC-OPS,运营,OPS,\nCC-OLD,旧,OPS,No\nCC-BAD,坏,OPS,maybe\n"
    assert problems_of(write_folder(tmp_path, cost_centers_csv=centers)) == [
        "cost_centers.csv:4:active: 'maybe' is not true or false"]
    centers = centers.replace("CC-BAD,坏,OPS,maybe\n", "")
    assert [c.active for c in load_folder(write_folder(tmp_path, cost_centers_csv=centers)).cost_centers] == [
        True, False]


def test_the_checksum_follows_the_dictionary_files_and_ignores_other_files(tmp_path):
    folder = write_folder(tmp_path)
    before = load_folder(folder).checksum
    # Computed while the files stream past, it equals the checksum of the files' bytes taken whole,
    # so versions imported before streaming keep their checksum.
    assert before == checksum({path.name: path.read_bytes() for path in folder.iterdir()})
    (folder / "README.md").write_text("ignored", encoding="utf-8")
    assert load_folder(folder).checksum == before
    (folder / "currencies.csv").write_text(BASE["currencies.csv"] + "USD,美元,2\n", encoding="utf-8")
    assert load_folder(folder).checksum != before


def test_a_version_once_imported_cannot_take_other_content(tmp_path):
    data = load_folder(write_folder(tmp_path))
    require_unchanged_version(data, None)
    require_unchanged_version(data, data.checksum)
    with pytest.raises(MasterDataInvalid) as caught:
        require_unchanged_version(data, "0" * 64)
    assert caught.value.problems == [
        "manifest.toml:-:version: version t1 was already imported with different content; "
        "give this dictionary a new version"]


def test_a_path_that_is_not_a_folder_is_a_problem_not_a_traceback(tmp_path):
    assert problems_of(tmp_path / "nowhere") == [f"{tmp_path / 'nowhere'}:-:-: is not a folder"]
