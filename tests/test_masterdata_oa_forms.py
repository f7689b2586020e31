"""``oa_forms.csv``, the data dictionary's optional OA form mappings: validated like every dictionary file,
imported in the dictionary's transaction (SQLite and PostgreSQL), read back through ``uow.oa_forms``."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine.domain.errors import MasterDataInvalid
from engine.domain.oa_forms import OaForm, OaFormField
from engine.persistence.oa_tables import OaForm as OaFormRow
from engine.persistence.tables import MasterDataImport
from engine.seed import demo_folder
from engine.services.masterdata.importing import import_master_data, load_folder, seed_demo
from tests.test_masterdata import write_folder
from tests.test_masterdata_import import demo_copy, run_cli, snapshot

DEMO_FORMS = load_folder(demo_folder()).oa_forms  # DingTalk, WeCom and Feishu templates, in and out
HEADER = "vendor,template,direction,process_id,field,oa_field,type,required\n"
GOOD = HEADER + (
    "wecom,3TkZjxugodbqpEMk9AhUK,in,oa_vehicle_application,purpose,Text-1640339319582,text,true\n"
    "wecom,3TkZjxugodbqpEMk9AhUK,in,oa_vehicle_application,amount,Money-1640339335498,money,\n"
    "wecom,3TkZjxugodbqpEMk9AhUK,in,oa_vehicle_application,,Tips-1,ignore,false\n"
    "feishu,7C468A54-8745-2245-9675-08B7C63E7A85,out,travel_application_oa,amount,widget16510,money,TRUE\n"
)


def problems_of(folder) -> list[str]:
    with pytest.raises(MasterDataInvalid) as caught:
        load_folder(folder)
    return caught.value.problems


def mapping(folder) -> tuple[OaForm, ...]:
    return load_folder(folder).oa_forms


# ---------------------------------------------------------------- validation (no database)


def test_rows_of_one_template_make_one_mapping_in_file_order(tmp_path):
    forms = mapping(write_folder(tmp_path, oa_forms_csv=GOOD))

    assert forms == (
        OaForm("wecom", "3TkZjxugodbqpEMk9AhUK", "in", "oa_vehicle_application", (
            OaFormField("purpose", "Text-1640339319582", "text", True),
            OaFormField("amount", "Money-1640339335498", "money", False),  # blank: the default, false
            OaFormField("", "Tips-1", "ignore", False),
        )),
        OaForm("feishu", "7C468A54-8745-2245-9675-08B7C63E7A85", "out", "travel_application_oa", (
            OaFormField("amount", "widget16510", "money", True),
        )),
    )


def test_a_dictionary_without_the_file_is_valid_and_maps_no_forms(tmp_path):
    folder = write_folder(tmp_path)
    assert not (folder / "oa_forms.csv").exists()
    assert mapping(folder) == ()


def test_a_header_only_file_maps_no_forms_and_the_file_counts_in_the_checksum(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    without = load_folder(write_folder(tmp_path / "a")).checksum
    with_file = load_folder(write_folder(tmp_path / "b", oa_forms_csv=HEADER))
    assert with_file.oa_forms == () and with_file.checksum != without


def test_every_cell_is_checked_against_its_column(tmp_path):
    bad = HEADER + (
        "DingTalk,PROC A,sideways,1process,Amount,,currency,maybe\n"
        f"dingtalk,{'P' * 129},in,{'p' * 129},{'f' * 65},{'字' * 129},text,yes\n"
        "dingtalk,PROC-OK,in,ok_process,ok_field,控件,text,no\n"
    )

    problems = problems_of(write_folder(tmp_path, oa_forms_csv=bad))

    assert problems == [
        "oa_forms.csv:2:vendor: 'DingTalk' is not one of dingtalk, wecom, feishu",
        "oa_forms.csv:2:template: 'PROC A' is not an OA template id (letters, digits and ASCII punctuation, at "
        "most 128 characters): it contains a space",
        "oa_forms.csv:2:direction: 'sideways' is not one of in, out",
        "oa_forms.csv:2:process_id: '1process' is not a process id (a letter or '_', then letters, digits or '_', "
        "at most 128 characters)",
        "oa_forms.csv:2:field: 'Amount' is not a document field (a-z, 0-9 and '_', not starting with a digit, at "
        "most 64 characters)",
        "oa_forms.csv:2:oa_field: is required",
        "oa_forms.csv:2:type: 'currency' is not one of text, money, number, date, ignore",
        "oa_forms.csv:2:required: 'maybe' is not true or false",
        f"oa_forms.csv:3:template: {'P' * 40!r}… is not an OA template id (letters, digits and ASCII punctuation, "
        "at most 128 characters): longer than 128 characters".replace("'…", "…'"),
        f"oa_forms.csv:3:process_id: {'p' * 40 + '…'!r} is not a process id (a letter or '_', then letters, digits "
        "or '_', at most 128 characters)",
        f"oa_forms.csv:3:field: {'f' * 40 + '…'!r} is not a document field (a-z, 0-9 and '_', not starting with a "
        "digit, at most 64 characters)",
        "oa_forms.csv:3:oa_field: is 129 characters long; at most 128 allowed",
    ]


def test_the_rows_of_a_template_must_agree_and_name_each_field_and_control_once(tmp_path):
    bad = HEADER + (
        "dingtalk,PROC-T,in,oa_travel_application,purpose,出差事由,text,true\n"   # 2
        "dingtalk,PROC-T,out,oa_travel_application,amount,金额(元),money,true\n"  # 3: another direction
        "dingtalk,PROC-T,in,other_process,start_date,开始日期,date,true\n"       # 4: another process
        "dingtalk,PROC-T,in,oa_travel_application,purpose,事由,text,false\n"      # 5: purpose again
        "dingtalk,PROC-T,in,oa_travel_application,amount_2,金额（元）,money,false\n"  # 6: the same control, full width
        "dingtalk,PROC-T,in,oa_travel_application,,备注,ignore,true\n"           # 7: ignored yet required
        "dingtalk,PROC-T,in,oa_travel_application,,附件,text,false\n"            # 8: no field, not ignore
        "dingtalk,PROC-T,in,oa_travel_application,,说明,ignore,false\n"          # 9: fine
        "dingtalk,PROC-T,in,oa_travel_application,,说明2,ignore,false\n"         # 10: fine: ignore rows share ''
        "wecom,PROC-T,in,x_process,purpose,出差事由,text,true\n"                  # 11: another vendor's template
        "dingtalk,proc-t,in,oa_travel_application,purpose,出差事由,text,true\n"  # 12: template ids keep case
    )

    problems = problems_of(write_folder(tmp_path, oa_forms_csv=bad))

    assert problems == [
        "oa_forms.csv:3:direction: dingtalk template PROC-T has direction in on row 2; all rows of one template "
        "share direction and process_id",
        "oa_forms.csv:4:process_id: dingtalk template PROC-T has process_id oa_travel_application on row 2; all "
        "rows of one template share direction and process_id",
        "oa_forms.csv:5:field: duplicate field purpose in template PROC-T (first on row 2)",
        "oa_forms.csv:6:oa_field: duplicate oa_field 金额（元） in template PROC-T (first on row 3 as 金额(元))",
        "oa_forms.csv:7:required: an ignored OA control cannot be required",
        "oa_forms.csv:8:field: is required (only a row of type ignore may leave it blank)",
    ]


def test_ignore_is_only_for_incoming_forms_and_a_process_creates_approvals_of_one_template_per_vendor(tmp_path):
    bad = HEADER + (
        "dingtalk,PROC-A,out,travel_application_oa,amount,金额(元),money,true\n"  # 2
        "dingtalk,PROC-A,out,travel_application_oa,,备注,ignore,false\n"         # 3
        "dingtalk,PROC-B,out,travel_application_oa,amount,金额(元),money,true\n"  # 4: a second out template
        "wecom,WX-A,out,travel_application_oa,amount,Money-1,money,true\n"        # 5: fine: another vendor
        "dingtalk,PROC-C,in,travel_application_oa,amount,金额(元),money,true\n"   # 6: fine: an in template
    )

    problems = problems_of(write_folder(tmp_path, oa_forms_csv=bad))

    assert problems == [
        "oa_forms.csv:3:type: ignore is only for direction in (an OA control budgetflow does not take)",
        "oa_forms.csv:4:template: process travel_application_oa already creates dingtalk approvals of template "
        "PROC-A (row 2); at most one out template per vendor and process",
    ]


def test_the_file_follows_the_rules_of_every_dictionary_file(tmp_path):
    bad = ("vendor,template,direction,process_id,field,oa_field,type,colour\n"
           "dingtalk,PROC-T,in,p,purpose,出差\x00事由,text,red\n")

    problems = problems_of(write_folder(tmp_path, oa_forms_csv=bad))

    assert problems == [
        "oa_forms.csv:1:colour: unknown column; expected columns: vendor, template, direction, process_id, field, "
        "oa_field, type, required",
        "oa_forms.csv:2:oa_field: contains U+0000 (NUL), a control character at character 3; a cell may not hold "
        "control characters, tabs or line breaks",
    ]


def test_template_ids_are_put_into_canonical_form_but_keep_their_case(tmp_path):
    text = HEADER + "dingtalk,ＰＲＯＣ-Ab\u200bc,in,p,purpose,事由,text,true\n"
    assert mapping(write_folder(tmp_path, oa_forms_csv=text))[0].template == "PROC-Abc"


def test_the_demo_company_maps_a_dingtalk_travel_form_in_and_an_expense_form_out():
    forms = {form.template: form for form in DEMO_FORMS}
    assert sorted((f.vendor, f.direction) for f in DEMO_FORMS) == [
        (vendor, direction) for vendor in ("dingtalk", "feishu", "wecom") for direction in ("in", "out")]

    travel, expense = forms["PROC-BUDGETFLOW-TRAVEL"], forms["PROC-BUDGETFLOW-EXPENSE"]
    assert (travel.vendor, travel.direction, travel.process_id) == ("dingtalk", "in", "oa_travel_application")
    assert [(f.oa_field, f.field, f.type, f.required) for f in travel.fields] == [
        ("出差事由", "purpose", "text", True), ("目的地", "destination", "text", False),
        ("开始日期", "start_date", "date", True), ("结束日期", "end_date", "date", False),
        ("预计费用(元)", "amount", "money", True)]
    assert (expense.vendor, expense.direction, expense.process_id) == ("dingtalk", "out", "travel_application_oa")
    assert [(f.field, f.oa_field, f.type, f.required) for f in expense.fields] == [
        ("document_no", "单号", "text", True), ("purpose", "事由", "text", True), ("amount", "金额(元)", "money", True),
        ("subject", "预算科目", "text", False), ("budget_available", "预算余额(元)", "money", False),
        ("link", "链接", "text", False)]


# ---------------------------------------------------------------- import (SQLite and PostgreSQL)


def stored(container) -> dict[tuple[str, str], tuple[str, str, list[dict[str, object]]]]:
    with container.session_factory() as s:
        return {(r.vendor, r.template): (r.direction, r.process_id, json.loads(r.fields))
                for r in s.scalars(select(OaFormRow))}


def write_oa_forms(folder, text: str) -> None:
    (folder / "oa_forms.csv").write_text(text, encoding="utf-8")


def test_the_demo_seed_stores_its_mappings_and_the_unit_of_work_finds_them(container):
    summary = seed_demo(container.masterdata_store)

    assert summary.counts["oa_forms"].created == len(DEMO_FORMS) and summary.oa_forms_removed == 0
    with container.uow() as uow:
        travel = uow.oa_forms.by_template("dingtalk", "PROC-BUDGETFLOW-TRAVEL")
        expense = uow.oa_forms.outgoing("dingtalk", "travel_application_oa")
        assert travel == next(f for f in load_folder(demo_folder()).oa_forms if f.direction == "in")
        assert expense is not None and expense.template == "PROC-BUDGETFLOW-EXPENSE"
        assert expense.fields[2] == OaFormField("amount", "金额(元)", "money", True)
        assert uow.oa_forms.all() == sorted(DEMO_FORMS, key=lambda f: (f.vendor, f.template))
        # what is not there is not found: another vendor, another case, an in form asked for as out
        assert uow.oa_forms.by_template("wecom", "PROC-BUDGETFLOW-TRAVEL") is None
        assert uow.oa_forms.by_template("dingtalk", "proc-budgetflow-travel") is None
        assert uow.oa_forms.outgoing("dingtalk", "oa_travel_application") is None
        assert uow.oa_forms.outgoing("dingtalk", "claim") is None


def test_a_new_version_replaces_the_mappings(container, tmp_path):
    seed_demo(container.masterdata_store)
    folder = demo_copy(tmp_path, version="2026.5")
    demo_rows = (demo_folder() / "oa_forms.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [row for row in demo_rows[1:] if "PROC-BUDGETFLOW-EXPENSE" in row]
    changed = [row.replace(",链接,text,false", ",链接,text,true") for row in kept]
    write_oa_forms(folder, demo_rows[0] + "".join(changed) + GOOD.split("\n", 1)[1])

    summary = import_master_data(folder, container.masterdata_store)

    counts = summary.counts["oa_forms"]
    assert (counts.created, counts.updated, counts.unchanged) == (2, 1, 0)
    assert summary.oa_forms_removed == len(DEMO_FORMS) - 1
    forms = stored(container)
    assert set(forms) == {("dingtalk", "PROC-BUDGETFLOW-EXPENSE"), ("wecom", "3TkZjxugodbqpEMk9AhUK"),
                          ("feishu", "7C468A54-8745-2245-9675-08B7C63E7A85")}
    assert forms[("dingtalk", "PROC-BUDGETFLOW-EXPENSE")][2][-1] == {
        "field": "link", "oa_field": "链接", "type": "text", "required": True}
    with container.uow() as uow:
        assert uow.oa_forms.by_template("dingtalk", "PROC-BUDGETFLOW-TRAVEL") is None


def test_a_dictionary_without_the_file_imports_and_leaves_no_mappings(container, tmp_path):
    seed_demo(container.masterdata_store)
    folder = demo_copy(tmp_path, version="2026.5")
    (folder / "oa_forms.csv").unlink()

    summary = import_master_data(folder, container.masterdata_store)

    assert summary.changed and summary.oa_forms_removed == len(DEMO_FORMS) == 6
    assert summary.counts["oa_forms"].created == 0 and stored(container) == {}
    assert '"oa_forms_removed": 6' in import_record_summary(container)


def import_record_summary(container) -> str:
    with container.session_factory() as s:
        return s.scalars(select(MasterDataImport.summary).order_by(MasterDataImport.id.desc())).first()


def test_a_new_version_that_changes_only_the_mappings_counts_as_a_change(container, tmp_path):
    seed_demo(container.masterdata_store)
    folder = demo_copy(tmp_path, version="2026.5")
    text = (folder / "oa_forms.csv").read_text(encoding="utf-8")
    write_oa_forms(folder, text.replace("目的地,text,false", "目的地,text,true"))

    summary = import_master_data(folder, container.masterdata_store)

    assert summary.changed and summary.counts["oa_forms"].updated == 1
    assert summary.counts["oa_forms"].unchanged == len(DEMO_FORMS) - 1 and summary.oa_forms_removed == 0
    assert stored(container)[("dingtalk", "PROC-BUDGETFLOW-TRAVEL")][2][1]["required"] is True


def test_a_bad_file_is_reported_through_the_cli_and_nothing_is_imported(container, cli_env, tmp_path):
    seed_demo(container.masterdata_store)
    folder = demo_copy(tmp_path, version="2026.5")
    (folder / "employees.csv").write_text((folder / "employees.csv").read_text(encoding="utf-8")
                                          .replace("王芳", "王芳芳"), encoding="utf-8")  # valid, must not land
    write_oa_forms(folder, HEADER + "dingtalk,PROC-X,in,oa_x,amount,金额,money,true\n"
                   "dingtalk,PROC-X,in,oa_x,amount,数额,cash,true\n")
    before = snapshot(container)

    result = run_cli(cli_env, "import-master-data", str(folder))

    assert result.returncode == 1
    assert result.stderr.splitlines()[:2] == [
        "oa_forms.csv:3:field: duplicate field amount in template PROC-X (first on row 2)",
        "oa_forms.csv:3:type: 'cash' is not one of text, money, number, date, ignore"]
    assert "2 problem(s)" in result.stderr and "nothing was imported" in result.stderr
    assert snapshot(container) == before


def test_the_cli_reports_the_mappings_imported_and_removed(container, cli_env, tmp_path):
    first = run_cli(cli_env, "--lang", "en", "seed", "demo", "--json")
    assert first.returncode == 0, first.stderr
    body = json.loads(first.stdout)
    assert body["counts"]["oa_forms"] == {"created": len(DEMO_FORMS), "updated": 0, "unchanged": 0}
    assert body["oa_forms_removed"] == 0
    folder = demo_copy(tmp_path, version="2026.5")
    (folder / "oa_forms.csv").unlink()

    second = run_cli(cli_env, "--lang", "en", "import-master-data", str(folder))

    assert second.returncode == 0, second.stderr
    assert "OA forms" in second.stdout and f"{len(DEMO_FORMS)} removed (no longer in oa_forms.csv)" in second.stdout


def test_mappings_land_only_with_the_rest_of_the_dictionary(container, tmp_path):
    """The mappings are written in the import's transaction: a problem the database finds rolls them back too."""
    seed_demo(container.masterdata_store)
    folder = demo_copy(tmp_path, version="2026.5")
    lines = (folder / "budget_lines.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].replace(",CNY,", ",USD,")  # a line's currency cannot change: found against the database
    (folder / "budget_lines.csv").write_text("".join(lines), encoding="utf-8")
    write_oa_forms(folder, GOOD)  # valid, and would replace every demo mapping
    before = stored(container)

    with pytest.raises(MasterDataInvalid) as caught:
        import_master_data(folder, container.masterdata_store)

    assert [p.split(":")[0] for p in caught.value.problems] == ["budget_lines.csv"]
    assert stored(container) == before and len(before) == len(DEMO_FORMS)
