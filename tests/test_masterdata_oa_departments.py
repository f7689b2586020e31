"""org_units.csv's OA department columns (dingtalk_dept_id, wecom_dept_id, feishu_dept_id): optional, checked
(DingTalk and WeCom ids are whole numbers, Feishu's an identifier), one unit per department, and stored."""

from __future__ import annotations

from sqlalchemy import select

from engine.persistence.tables import OrgUnit
from engine.services.masterdata.importing import import_master_data, load_folder, seed_demo
from tests.test_masterdata import problems_of, write_folder

HEADER = "code,name,name_en,parent_code,manager_code,active,dingtalk_dept_id,wecom_dept_id,feishu_dept_id\n"


def units(*rows: str) -> str:
    return HEADER + "".join(f"{row}\n" for row in rows)


def test_the_columns_are_optional_and_read_when_given(tmp_path):
    without = load_folder(write_folder(tmp_path))  # the base folder has none of them
    assert {(u.code, u.dingtalk_dept_id, u.feishu_dept_id) for u in without.org_units} == {
        ("HQ", None, None), ("OPS", None, None)}
    given = load_folder(write_folder(tmp_path, org_units_csv=units(
        "HQ,总部,,,E1,true,1,1,0", "OPS,运营部,,HQ,E2,true,１２,,od-4e6ac4d14bcd5071a37a39de902c7141")))
    assert {(u.code, u.dingtalk_dept_id, u.wecom_dept_id, u.feishu_dept_id) for u in given.org_units} == {
        ("HQ", "1", "1", "0"), ("OPS", "12", None, "od-4e6ac4d14bcd5071a37a39de902c7141")}  # full-width folded


def test_malformed_and_duplicate_department_ids_are_reported_by_file_row_and_field(tmp_path):
    problems = problems_of(write_folder(tmp_path, org_units_csv=units(
        "HQ,总部,,,E1,true,01,1,od 1", "OPS,运营部,,HQ,E2,true,1a,1,od_1/x", "X,其他,,HQ,,true,,-3,0")))
    assert problems == [
        "org_units.csv:2:dingtalk_dept_id: '01' is not a DingTalk dept_id (a whole number without leading zeros, "
        "e.g. 1 for the root)",
        "org_units.csv:2:feishu_dept_id: 'od 1' is not a Feishu department_id (letters, digits, '_' or '-', at "
        "most 64 characters, e.g. od-4e6ac4d14bcd5071a37a39de902c7141 or a custom id): it contains a space",
        "org_units.csv:3:dingtalk_dept_id: '1a' is not a DingTalk dept_id (a whole number without leading zeros, "
        "e.g. 1 for the root)",
        "org_units.csv:3:wecom_dept_id: duplicate wecom_dept_id 1 (first on row 2)",
        "org_units.csv:3:feishu_dept_id: 'od_1/x' is not a Feishu department_id (letters, digits, '_' or '-', at "
        "most 64 characters, e.g. od-4e6ac4d14bcd5071a37a39de902c7141 or a custom id)",
        "org_units.csv:4:wecom_dept_id: '-3' is not a WeCom department id (a whole number without leading zeros, "
        "e.g. 1 for the top)",
    ]


def test_the_import_stores_them_and_the_demo_maps_every_unit(container, tmp_path):
    seed_demo(container.masterdata_store)
    with container.engine.connect() as conn:
        demo = {code: (dt, wx, fs) for code, dt, wx, fs in conn.execute(select(
            OrgUnit.code, OrgUnit.dingtalk_dept_id, OrgUnit.wecom_dept_id, OrgUnit.feishu_dept_id))}
    assert len(demo) == 10 and all(all(ids) for ids in demo.values())
    assert (demo["HQ"], demo["FIN"], demo["DIV-SALES"]) == (("1", "1", "0"), ("2", "2", "D100"), ("3", "3", "D200"))
    folder = write_folder(tmp_path, org_units_csv=units("HQ,总部,,,E1,true,1,,", "OPS,运营部,,HQ,E2,true,,7,D7"))
    import_master_data(folder, container.masterdata_store)
    with container.engine.connect() as conn:
        ops = conn.execute(select(OrgUnit.dingtalk_dept_id, OrgUnit.wecom_dept_id, OrgUnit.feishu_dept_id)
                           .where(OrgUnit.code == "OPS")).one()
    assert tuple(ops) == (None, "7", "D7")
