"""The org sync's pure rules: the code a new employee gets, and what a suite's record must be to be stored."""

from __future__ import annotations

from engine.domain.org_sync import Known, OaPerson, new_code, plan


def person(oa_id: str, name: str = "张三", departments: tuple[str, ...] = ("2",), active: bool = True) -> OaPerson:
    return OaPerson(oa_id, name, departments, active, code_hint=oa_id)


def test_a_new_code_is_the_suite_prefix_and_the_user_id_made_a_code_and_never_one_already_taken():
    assert new_code("wecom", "zhang.san@corp", set()) == "WX-ZHANG.SAN-CORP"
    assert new_code("dingtalk", "manager01", {"DT-MANAGER01", "DT-MANAGER01-2"}) == "DT-MANAGER01-3"
    long = new_code("feishu", "x" * 100, {"FS-" + "X" * 61})
    assert len(long) == 64 and long.endswith("-2")


def test_two_new_people_whose_ids_make_the_same_code_get_two_codes():
    done = plan("wecom", [person("Li.Si"), person("li-si")], [], {"2": "FIN"}, set())
    assert sorted(c.employee for c in done.changes) == ["WX-LI-SI", "WX-LI.SI"]
    clash = plan("wecom", [person("a@b"), person("a-b")], [], {"2": "FIN"}, {"WX-A-B"})
    assert sorted(c.employee for c in clash.changes) == ["WX-A-B-2", "WX-A-B-3"]


def test_a_record_with_a_control_character_or_too_long_a_name_is_reported_and_never_written():
    known = [Known("E1", "张三", "zs", "FIN", True)]
    done = plan("wecom", [person("zs", "张\u202e三"), person("new1", "x" * 201)], known, {"2": "FIN"}, set())
    assert done.changes == []
    assert [(p.employee, p.reason.split(" (")[0]) for p in done.not_placed] == [
        (None, "the suite's name is longer than 200 characters"),
        ("E1", "the suite's name holds a character no name or id may hold")]


def test_a_known_person_matches_without_case_and_an_inactive_one_is_not_brought_back():
    known = [Known("E1", "张三", "ZhangSan", "FIN", True), Known("E2", "李四", "lisi", "FIN", False)]
    done = plan("wecom", [person("zhangsan"), person("lisi", "李四")], known, {"2": "FIN"}, set())
    assert done.changes == []
    assert [(p.employee, p.reason) for p in done.not_placed] == [
        ("E2", "inactive in budgetflow; the sync does not reactivate anyone")]


def test_a_known_person_moved_to_a_department_no_unit_maps_stays_put_and_is_reported():
    known = [Known("E1", "张三", "zs", "FIN", True)]
    done = plan("wecom", [person("zs", departments=("99",))], known, {"2": "FIN"}, set())
    assert done.changes == []
    assert [(p.employee, p.reason) for p in done.not_placed] == [
        ("E1", "no org unit maps their department(s); left in FIN")]
    # in several departments, one of them the unit's: nothing moves
    stays = plan("wecom", [person("zs", departments=("3", "2"))], known, {"2": "FIN", "3": "SALES"}, set())
    assert stays.changes == [] and stays.not_placed == []
