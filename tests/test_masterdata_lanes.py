"""``lanes.csv``, the data dictionary's optional lanes, and the ``owner`` columns its rules read: validated
like every dictionary file (FILE:ROW:FIELD), imported in the dictionary's transaction (SQLite and PostgreSQL),
replaced by each import, read back through ``uow.lanes``, ``uow.directory`` and ``known_lanes``."""

from __future__ import annotations

import json

import pytest

from engine.domain.budget_line import BudgetLineKey
from engine.domain.errors import MasterDataInvalid
from engine.domain.lanes import BUILTIN_RULES, LaneRule, lane_catalog
from engine.seed import demo_folder
from engine.services.lanes import known_lanes, lane_rules
from engine.services.masterdata.importing import import_master_data, load_folder, seed_demo
from tests.test_masterdata import write_folder
from tests.test_masterdata_import import demo_copy, run_cli, snapshot

HEADER = "lane,rule,parameter,fallback,skip_prior_approvers,description\n"
GOOD = HEADER + (
    "budget_owner,budget_line_owner,,next,true,预算负责人 the line's owner\n"
    "budget_owner,employees,e2,escalate,,\n"
    "cfo,role,finance; manager,,false,财务总监\n"
)


def problems_of(folder) -> list[str]:
    with pytest.raises(MasterDataInvalid) as caught:
        load_folder(folder)
    return caught.value.problems


def test_a_valid_file_becomes_the_lanes_rule_rows_in_order(tmp_path):
    assert load_folder(write_folder(tmp_path, lanes_csv=GOOD)).lanes == (
        LaneRule("budget_owner", "budget_line_owner", None, "next", True, "预算负责人 the line's owner"),
        LaneRule("budget_owner", "employees", "E2", "escalate", True, "预算负责人 the line's owner"),
        LaneRule("cfo", "role", "finance; manager", "", False, "财务总监"),
    )
    assert lane_catalog(load_folder(write_folder(tmp_path, lanes_csv=GOOD)).lanes) == {
        "budget_owner": "预算负责人 the line's owner", "cfo": "财务总监"}


def test_without_the_file_there_are_no_lanes_and_the_built_ins_apply(tmp_path):
    assert load_folder(write_folder(tmp_path)).lanes == ()


def test_every_bad_row_is_reported_as_file_row_field(tmp_path):
    bad = HEADER + (
        "Manager,manager_up,1,,true,x\n"  # 2: lane name
        "manager,boss,,,true,x\n"  # 3: unknown rule
        "a,manager_up,0,,true,x\n"  # 4: level
        "b,unit_head,,,true,x\n"  # 5: level missing
        "c,role,finance;wizard,,true,x\n"  # 6: unknown role
        "d,employees,E2;E9,,true,x\n"  # 7: unknown employee
        "e,variable,lane owners,,true,x\n"  # 8: variable name
        "f,applicant,me,,true,x\n"  # 9: takes no parameter
        "g,countersign,,sideways,maybe,x\n"  # 10: fallback, boolean
        "h,applicant,,next,,x\n"  # 11: next without a next row
        "i,applicant,,,,\n"  # 12: description on a lane's first row
        "j,applicant,,next,,x\n"  # 13
        "j,applicant,,,true,\n"  # 14: skip only on the first row
        "k,applicant,,,,x\n"  # 15
        "j,applicant,,,,\n"  # 16: j again, apart from its rows
    )
    assert problems_of(write_folder(tmp_path, lanes_csv=bad)) == [
        "lanes.csv:2:lane: 'Manager' is not a lane name (a-z, 0-9 and '_', not starting with a digit, at most 64 "
        "characters)",
        "lanes.csv:3:rule: 'boss' is not one of applicant, manager_up, unit_head, role, role_in_chain, "
        "budget_line_owner, cost_center_owner, employees, variable, countersign, system",
        "lanes.csv:4:parameter: '0' is not a level (rule manager_up needs a whole number from 1 to 99)",
        "lanes.csv:5:parameter: is required: rule unit_head needs a whole number from 1 to 99",
        "lanes.csv:6:parameter: unknown role(s) 'wizard'; known roles: admin, auditor, budget_admin, employee, "
        "finance, manager, process_designer (rule role needs roles separated by ';')",
        "lanes.csv:7:parameter: 'E9' is not in employees.csv (rule employees needs employee codes separated by ';')",
        "lanes.csv:8:parameter: 'lane owners' is not a variable name (rule variable needs a process variable's name)",
        "lanes.csv:9:parameter: rule applicant takes no parameter",
        "lanes.csv:10:fallback: 'sideways' is not one of next, escalate, finance_director",
        "lanes.csv:10:skip_prior_approvers: 'maybe' is not true or false",
        "lanes.csv:11:fallback: next: lane h has no next rule row; use escalate, finance_director or leave it blank",
        "lanes.csv:12:description: is required on lane i's first row",
        "lanes.csv:14:skip_prior_approvers: is set on lane j's first row (row 13) only",
        "lanes.csv:16:lane: lane j continues apart from its rows (first on row 13); put a lane's rows together, "
        "in order",
    ]


def test_owners_must_be_employees(tmp_path):
    folder = write_folder(tmp_path, cost_centers_csv="code,name,org_unit_code,active,owner\nCC1,一,OPS,true,E7\n")
    assert "cost_centers.csv:2:owner: E7 is not in employees.csv" in problems_of(folder)


# ---------------------------------------------------------------- import (database)


def test_the_demo_imports_its_lanes_and_owners_and_known_lanes_lists_them(container):
    with container.uow() as uow:  # nothing imported yet: the built-ins, said so
        assert known_lanes(uow) == lane_catalog() and lane_rules(uow) == (list(BUILTIN_RULES), False)
    summary = seed_demo(container.masterdata_store)

    demo = load_folder(demo_folder()).lanes
    assert summary.counts["lanes"].created == len(demo) == 10
    with container.uow() as uow:
        assert lane_rules(uow) == (list(sorted(demo, key=lambda r: r.lane)), True)
        assert known_lanes(uow)["budget_line_owner"].startswith("预算负责人")
        assert uow.directory.budget_line_owner(BudgetLineKey("2026", "TRAVEL", org_unit="SALES-N")) == "E0005"
        assert uow.directory.budget_line_owner(BudgetLineKey("2026", "TRAVEL", cost_center="CC-EXPO")) == "E0002"
        assert uow.directory.budget_line_owner(BudgetLineKey("2027", "TRAVEL", org_unit="SALES-N")) is None
        assert uow.directory.cost_center_owner("CC-FIN") == "E0009"
        assert uow.directory.cost_center_owner("CC-NONE") is None


def test_a_new_version_replaces_the_lanes_exactly_and_without_the_file_the_built_ins_return(container, tmp_path):
    seed_demo(container.masterdata_store)
    folder = demo_copy(tmp_path, version="2026.5")
    (folder / "lanes.csv").write_text(HEADER + "manager,manager_up,2,escalate,true,二级经理\n", encoding="utf-8")

    summary = import_master_data(folder, container.masterdata_store)

    assert summary.changed and summary.lanes_removed == 9 and summary.counts["lanes"].updated == 1
    with container.uow() as uow:  # the other built-in lanes keep their rules; the demo's own lane is gone
        assert known_lanes(uow) == {**lane_catalog(), "manager": "二级经理"}
        assert [r.lane for r in lane_rules(uow)[0]][:2] == ["manager", "applicant"]
    (folder / "lanes.csv").unlink()
    (folder / "manifest.toml").write_text((folder / "manifest.toml").read_text(encoding="utf-8")
                                          .replace('"2026.5"', '"2026.6"'), encoding="utf-8")
    assert import_master_data(folder, container.masterdata_store).lanes_removed == 1
    with container.uow() as uow:
        assert known_lanes(uow) == lane_catalog()


def test_a_bad_lane_is_reported_through_the_cli_and_nothing_is_imported(container, cli_env, tmp_path):
    seed_demo(container.masterdata_store)
    folder = demo_copy(tmp_path, version="2026.5")
    (folder / "employees.csv").write_text((folder / "employees.csv").read_text(encoding="utf-8")
                                          .replace("王芳", "王芳芳"), encoding="utf-8")  # valid, must not land
    lanes = (folder / "lanes.csv").read_text(encoding="utf-8")
    (folder / "lanes.csv").write_text(lanes + "owner,employees,E0099,,true,x\n", encoding="utf-8")
    before = snapshot(container)

    result = run_cli(cli_env, "import-master-data", str(folder), "--json")

    assert result.returncode == 1
    assert json.loads(result.stdout)["problems"] == [
        "lanes.csv:12:parameter: 'E0099' is not in employees.csv (rule employees needs employee codes "
        "separated by ';')"]
    assert snapshot(container) == before


# ---------------------------------------------------------------- the process's cache of the rules


def test_the_rules_are_cached_by_import_and_an_import_elsewhere_is_seen_at_the_next_read(container, tmp_path,
                                                                                          monkeypatch):
    from engine.bootstrap import build
    from engine.config import Settings
    from engine.persistence import lane_repository

    monkeypatch.setattr(lane_repository, "_CACHE", lane_repository._RulesByImport())  # other tests filled it
    reads = []
    real = lane_repository._READ_RULES.all
    monkeypatch.setattr(lane_repository._READ_RULES, "all", lambda conn, params: reads.append(1) or real(conn, params))
    seed_demo(container.masterdata_store)
    for _ in range(3):  # one read of lane_rule for this import, then the cache
        with container.uow() as uow:
            assert lane_rules(uow)[0][0].lane == "applicant"
    assert len(reads) == 1

    # another process (its own engine and connections) imports a dictionary whose lanes differ
    other = build(Settings(instance_dir=tmp_path, database_url=str(container.engine.url.render_as_string(False))))
    try:
        folder = demo_copy(tmp_path, version="2026.5")
        (folder / "lanes.csv").write_text(HEADER + "manager,manager_up,2,escalate,true,二级经理\n", encoding="utf-8")
        import_master_data(folder, other.masterdata_store)
    finally:
        other.dispose()
    with container.uow() as uow:
        assert known_lanes(uow)["manager"] == "二级经理" and len(reads) == 2


def test_negative_control_a_cache_key_that_ignores_imports_serves_stale_rules(container, tmp_path, monkeypatch):
    """What the test above guards against: keyed by anything an import does not change, the old rules stay."""
    from engine.persistence import lane_repository

    monkeypatch.setattr(lane_repository, "_CACHE", lane_repository._RulesByImport())
    seed_demo(container.masterdata_store)
    monkeypatch.setattr(lane_repository._LATEST_IMPORT, "first", lambda conn, params: (0, "fixed"))
    with container.uow() as uow:
        before = known_lanes(uow)
    folder = demo_copy(tmp_path, version="2026.5")
    (folder / "lanes.csv").write_text(HEADER + "manager,manager_up,2,escalate,true,二级经理\n", encoding="utf-8")
    import_master_data(folder, container.masterdata_store)
    with container.uow() as uow:
        assert known_lanes(uow) == before != {**lane_catalog(), "manager": "二级经理"}
