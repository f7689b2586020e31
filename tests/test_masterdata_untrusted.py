"""Hostile and sloppy cells in a data dictionary (issue 7, "Trust nothing that comes in").

Every test imports into a real database (SQLite, and PostgreSQL when configured): what is refused is
refused before anything is written, with FILE:ROW:FIELD and a short, escaped excerpt at most, and the
database is left exactly as it was. What is accepted is stored in one canonical form.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from engine.domain.errors import MasterDataInvalid
from engine.persistence.tables import BudgetLine, Employee, ExpenseSubject
from engine.services.masterdata.importing import import_master_data
from tests.test_masterdata import BASE, edit, write_folder
from tests.test_masterdata_import import snapshot

BUDGET_HEADER = BASE["budget_lines.csv"].splitlines()[0]


def import_folder(container, folder):
    return import_master_data(folder, container.masterdata_store)


def refused(container, tmp_path, **changes: str) -> list[str]:
    """Import BASE, then a version t2 with ``changes``: its problems, once sure nothing of t2 landed."""
    (tmp_path / "t1").mkdir()
    (tmp_path / "t2").mkdir()
    import_folder(container, write_folder(tmp_path / "t1"))
    before = snapshot(container)
    manifest = BASE["manifest.toml"].replace('"t1"', '"t2"')
    with pytest.raises(MasterDataInvalid) as caught:
        import_folder(container, write_folder(tmp_path / "t2", **{"manifest_toml": manifest, **changes}))
    assert snapshot(container) == before
    return caught.value.problems


def with_budget(amount: str, tolerance: str = "5") -> str:
    return f"{BUDGET_HEADER}\n2026,OPS,,TRAVEL,,{amount},CNY,FORBID,{tolerance}\n"


# ---------------------------------------------------------------- amounts


@pytest.mark.parametrize("amount", [
    "4.8E+5", "4.8e5", "４８００００.００", "480_000.00", "٤٨٠٠٠٠", "480\u2009000.00", "480 000.00",
    "480\u00a0000.00", "+480000.00", ".5", "5.", '"480000,00"', "0x10", "Infinity", "NaN", "1e-2",
    "480000.000", "480000.001", "-1.00", "123456789012345.00", "￥480000", "480000元",
])
def test_an_amount_that_is_not_plain_decimal_text_in_the_currency_is_refused(container, tmp_path, amount):
    (problem,) = refused(container, tmp_path, budget_lines_csv=with_budget(amount))
    assert problem.startswith("budget_lines.csv:2:amount: ")


def test_the_refusal_says_what_a_plain_amount_looks_like(container, tmp_path):
    problems = refused(container, tmp_path, budget_lines_csv=with_budget("４８００００.００"))
    assert problems == ["budget_lines.csv:2:amount: '４８００００.００' is not plain decimal text (digits and one '.', "
                        'no exponent, separators, spaces or full-width digits), e.g. "1280.50"']


@pytest.mark.parametrize("tolerance", ["5E0", "５", "1_0", "+5", "5.00001", "0x5", "5%"])
def test_a_tolerance_follows_the_same_plain_text_rule(container, tmp_path, tolerance):
    (problem,) = refused(container, tmp_path, budget_lines_csv=with_budget("1000.00", tolerance))
    assert problem.startswith("budget_lines.csv:2:tolerance_pct: ")


def test_an_amount_is_stored_at_the_currencys_places_and_spaces_around_it_are_trimmed(container, tmp_path):
    import_folder(container, write_folder(tmp_path, budget_lines_csv=with_budget("\u00a01000.5\u3000", "7.25")))
    with container.session_factory() as s:
        line = s.scalars(select(BudgetLine)).one()
    assert (line.budget, line.tolerance_pct) == (Decimal("1000.50"), Decimal("7.25"))


# ---------------------------------------------------------------- identifiers


def test_identifiers_are_stored_in_canonical_form(container, tmp_path):
    subjects = edit("expense_subjects.csv", "TRAVEL,差旅费,Travel,6602.01,660201,6602010000",
                    "ｔｒａｖｅｌ,差旅费,Travel,６６０２.０１,６６０２０１,6602010000")
    employees = (edit("employees.csv", "E1,张三,zhangsan@example.com,HQ,employee;manager,dt_1,wx_1,ou_1,K001,V001",
                      "e1,张三,zhangsan＠example.com,hq,employee;manager,ＤＴ＿Ｚｈａｎｇ,wx\u200b_1,ou_1,k001,v-001"))
    units = edit("org_units.csv", "HQ,E2,true", "ＨＱ,e2,true")
    lines = BASE["budget_lines.csv"].replace("2026-Q1,,CC-OPS,TRAVEL", "2026-q1,,cc-ops,travel")
    import_folder(container, write_folder(tmp_path, expense_subjects_csv=subjects, employees_csv=employees,
                                          org_units_csv=units, budget_lines_csv=lines))
    with container.session_factory() as s:
        subject = s.scalars(select(ExpenseSubject)).one()
        e1 = s.scalars(select(Employee).where(Employee.code == "E1")).one()
        keys = set(s.scalars(select(BudgetLine.line_key)))
    assert (subject.code, subject.gl_kingdee, subject.gl_yonyou) == ("TRAVEL", "6602.01", "660201")
    # ERP codes upper-cased; OA ids keep their case (DingTalk ids are case-sensitive), zero-width space gone.
    assert (e1.email, e1.dingtalk_userid, e1.wecom_userid) == ("zhangsan@example.com", "DT_Zhang", "wx_1")
    assert (e1.erp_employee_code, e1.erp_vendor_code) == ("K001", "V-001")
    assert keys == {"2026/ORG:OPS/TRAVEL", "2026-Q1/CC:CC-OPS/TRAVEL"}


@pytest.mark.parametrize(("file", "old", "new", "field"), [
    ("expense_subjects.csv", "6602.01", "٦٦٠٢.٠١", "gl_kingdee"),  # Arabic-Indic digits: NFKC keeps them
    ("expense_subjects.csv", "660201", "6602 01", "gl_yonyou"),
    ("expense_subjects.csv", "6602010000", "6602010000\ue000", "gl_sap"),  # private use
    ("employees.csv", "dt_1", "dt 1", "dingtalk_userid"),
    ("employees.csv", "dt_1", "钉钉用户", "dingtalk_userid"),
    ("employees.csv", "ou_1", "on_1", "feishu_open_id"),
    ("employees.csv", "V001", "V/001", "erp_vendor_code"),
    ("employees.csv", "K001", "K" * 65, "erp_employee_code"),
    ("org_units.csv", "OPS,运营部", "O\u2009PS,运营部", "code"),
])
def test_an_identifier_outside_its_documented_pattern_is_refused(container, tmp_path, file, old, new, field):
    problems = refused(container, tmp_path, **{file.replace(".csv", "_csv"): edit(file, old, new)})
    assert any(p.startswith(f"{file}:") and f":{field}: " in p for p in problems), problems


def test_oa_ids_that_differ_only_in_case_are_the_same_account(container, tmp_path):
    employees = edit("employees.csv", "dt_2,wx_2,ou_2", "DT_1,wx_2,ou_2")
    assert refused(container, tmp_path, employees_csv=employees) == [
        "employees.csv:3:dingtalk_userid: duplicate dingtalk_userid DT_1 (first on row 2 as dt_1)"]


def test_an_oa_id_held_in_the_database_is_recognised_in_another_case(container, tmp_path):
    # E2 leaves the file; E3 arrives with E2's DingTalk id in upper case.
    employees = edit("employees.csv", "E2,李四,lisi@example.com,OPS,employee;manager;finance,dt_2",
                     "E3,王五,wangwu@example.com,OPS,employee;manager;finance,DT_2")
    units = edit("org_units.csv", "HQ,E2,true", "HQ,E3,true")
    problems = refused(container, tmp_path, employees_csv=employees, org_units_csv=units)
    assert problems[0] == ("employees.csv:3:dingtalk_userid: DT_2 already belongs to employee E2 in the database; "
                           "list E2 with active=false and a blank id to free it")


@pytest.mark.parametrize("period", ["٢٠٢٦", "2026-Q１x", "2026\u200b-13"])
def test_a_period_in_other_digits_is_refused(container, tmp_path, period):
    lines = f"{BUDGET_HEADER}\n{period},OPS,,TRAVEL,,1000.00,CNY,FORBID,5\n"
    (problem,) = refused(container, tmp_path, budget_lines_csv=lines)
    assert problem.startswith("budget_lines.csv:2:period: ")


# ---------------------------------------------------------------- characters no cell may hold


@pytest.mark.parametrize(("char", "shown"), [
    ("\x00", "U+0000 (NUL), a control character"),
    ("\t", "U+0009 (TAB), a control character"),
    ("\x0b", "U+000B, a control character"),
    ("\x1f", "U+001F, a control character"),
    ("\x7f", "U+007F (DEL), a control character"),
    ("\x85", "U+0085, a control character"),
    ("\u2028", "U+2028 (LINE SEPARATOR), a control character"),
    ("\ufeff", "U+FEFF, a byte-order mark (allowed only at the very start of a file)"),
    ("\u202e", "U+202E, a bidirectional text control"),
])
def test_a_control_character_in_an_oa_user_id_is_refused_with_file_line_and_column(container, tmp_path, char,
                                                                                     shown):
    employees = edit("employees.csv", "dt_2", f"dt{char}_2")
    assert refused(container, tmp_path, employees_csv=employees) == [
        f"employees.csv:3:dingtalk_userid: contains {shown} at character 3; a cell may not hold control "
        "characters, tabs or line breaks"]


@pytest.mark.parametrize("column", ["name", "name_en", "active"])
def test_a_control_character_is_refused_in_any_column(container, tmp_path, column):
    cells = {"name": "运营\x00部", "name_en": "Oper\tations", "active": "tr\x00ue"}
    row = {"name": "运营部", "name_en": "Operations", "active": "true"} | {column: cells[column]}
    units = edit("org_units.csv", "OPS,运营部,Operations,HQ,E2,true",
                 f"OPS,{row['name']},{row['name_en']},HQ,E2,{row['active']}")
    (problem,) = refused(container, tmp_path, org_units_csv=units)
    assert problem.startswith(f"org_units.csv:3:{column}: contains U+00")


def test_a_line_break_inside_a_quoted_cell_is_refused(container, tmp_path):
    units = edit("org_units.csv", "OPS,运营部,Operations", 'OPS,"运营\r\n部",Operations')
    assert refused(container, tmp_path, org_units_csv=units) == [
        "org_units.csv:3:name: contains U+000D (CR, a line break), a control character at character 3; a cell may "
        "not hold control characters, tabs or line breaks"]


def test_a_control_character_in_an_unknown_column_or_a_blank_looking_row_is_refused_too(container, tmp_path):
    centers = "code,name,org_unit_code,active,note\nCC-OPS,运营成本中心,OPS,true,ok\x00\n\x0b,,,,\n"
    problems = refused(container, tmp_path, cost_centers_csv=centers)
    assert problems == [
        "cost_centers.csv:1:note: unknown column; expected columns: code, name, org_unit_code, active, owner",
        "cost_centers.csv:2:note: contains U+0000 (NUL), a control character at character 3; a cell may not hold "
        "control characters, tabs or line breaks",
        "cost_centers.csv:3:code: contains U+000B, a control character at character 1; a cell may not hold control "
        "characters, tabs or line breaks",
        "cost_centers.csv:3:name: is required",
        "cost_centers.csv:3:org_unit_code: is required",
    ]


def test_a_nul_spelt_as_a_toml_escape_in_the_manifest_is_refused(container, tmp_path):
    assert refused(container, tmp_path, manifest_toml='version = "t2"\ncompany = "测试\\u0000有限公司"\n') == [
        "manifest.toml:-:company: contains U+0000 (NUL), a control character at character 3"]


# ---------------------------------------------------------------- what messages echo


def test_messages_quote_at_most_a_short_escaped_excerpt_of_a_cell(container, tmp_path):
    long_code = "A" * 5000 + " B"
    units = edit("org_units.csv", "OPS,运营部", f"{long_code},运营部")
    problems = refused(container, tmp_path, org_units_csv=units, cost_centers_csv=None)
    assert all(len(p) < 300 for p in problems), [len(p) for p in problems]
    assert "org_units.csv:3:code: '" + "A" * 40 + "…' is not a code" in problems[0]


def test_an_unknown_column_with_odd_characters_is_named_by_an_escaped_excerpt(container, tmp_path):
    centers = "code,name,org_unit_code,active,root:x:0:0:root:/root:/bin/bash and then some more\nCC-OPS,运,OPS,true,\n"
    (problem,) = refused(container, tmp_path, cost_centers_csv=centers)
    assert problem.startswith("cost_centers.csv:1:'root:x:0:0:root:/root:/bin/bash and then…': unknown column")
