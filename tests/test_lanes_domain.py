"""The lane interpreter (engine/domain/lanes.py): every rule, every fallback, and no duplicate approval.

The org chart: HQ (ceo) > SALES (vp) > NORTH (boss) > TEAM (lead); alice works in TEAM, bob in NORTH.
"""

from __future__ import annotations

import pytest

from engine.domain.budget_line import BudgetLineKey
from engine.domain.lanes import (
    BUILTIN_RULES,
    LANES,
    Completion,
    LaneRule,
    Unit,
    UnknownLane,
    approvers_this_round,
    candidates,
    lane_catalog,
)

UNITS = {"HQ": Unit("HQ", None, "ceo"), "SALES": Unit("SALES", "HQ", "vp"),
         "NORTH": Unit("NORTH", "SALES", "boss"), "TEAM": Unit("TEAM", "NORTH", "lead")}
HOME = {"ceo": "HQ", "vp": "SALES", "boss": "NORTH", "lead": "TEAM", "alice": "TEAM", "bob": "NORTH",
        "fin1": "HQ", "fin2": "SALES", "cfo": "HQ", "owner": "NORTH", "gone": "TEAM"}
ROLES = {"finance": ["cfo", "fin1", "fin2"], "manager": ["boss", "ceo", "cfo", "lead", "vp"], "auditor": ["bob"]}
LINE = BudgetLineKey(period="2026", subject="TRAVEL", org_unit="NORTH")


class FakeDirectory:
    def __init__(self, inactive: set[str] = frozenset(), line_owner: str | None = "owner") -> None:
        self.inactive, self.line_owner = set(inactive), line_owner

    def unit_of(self, employee: str) -> Unit | None:
        return UNITS.get(HOME.get(employee, ""))

    def unit(self, code: str) -> Unit | None:
        return UNITS.get(code)

    def with_roles(self, *roles: str) -> list[str]:
        held = [set(ROLES.get(r, [])) for r in roles]
        return sorted(e for e in set.intersection(*held) if self.is_active(e)) if held else []

    def is_active(self, employee: str) -> bool:
        return employee in HOME and employee not in self.inactive

    def budget_line_owner(self, key: BudgetLineKey) -> str | None:
        return self.line_owner if key == LINE else None

    def cost_center_owner(self, code: str) -> str | None:
        return {"CC-N": "boss"}.get(code)


def lane(*rows: tuple[str, str | None, str], skip: bool = False, name: str = "x") -> list[LaneRule]:
    return [LaneRule(name, rule, param, fallback, skip, "d") for rule, param, fallback in rows]


def who(rows: list[LaneRule], applicant: str = "alice", directory: FakeDirectory | None = None, **kw) -> list[str]:
    return candidates(rows[0].lane, applicant=applicant, directory=directory or FakeDirectory(), rules=rows, **kw)


# ---------------------------------------------------------------- each rule


def test_applicant_rule_names_the_applicant_only_while_active():
    assert who(lane(("applicant", None, ""))) == ["alice"]
    assert who(lane(("applicant", None, "")), applicant="gone", directory=FakeDirectory({"gone"})) == []


@pytest.mark.parametrize(("level", "expected"), [("1", ["lead"]), ("2", ["boss"]), ("3", ["vp"]), ("4", ["ceo"]),
                                                 ("5", [])])
def test_manager_up_counts_levels_from_the_applicants_own_unit(level, expected):
    assert who(lane(("manager_up", level, ""))) == expected


def test_manager_up_skips_the_applicant_and_inactive_managers_upward():
    assert who(lane(("manager_up", "1", "")), applicant="lead") == ["boss"]  # a manager applying: the next one up
    assert who(lane(("manager_up", "1", "")), directory=FakeDirectory({"lead", "boss"})) == ["vp"]


@pytest.mark.parametrize(("level", "expected"), [("1", ["ceo"]), ("2", ["vp"]), ("3", ["boss"]), ("4", ["lead"]),
                                                 ("5", [])])
def test_unit_head_is_counted_from_the_root(level, expected):
    assert who(lane(("unit_head", level, ""))) == expected


def test_role_and_role_in_chain():
    assert who(lane(("role", "finance", ""))) == ["cfo", "fin1", "fin2"]
    assert who(lane(("role", "finance;manager", ""))) == ["cfo"]
    assert who(lane(("role_in_chain", "finance", "")), applicant="bob") == ["cfo", "fin1", "fin2"]
    assert who(lane(("role_in_chain", "auditor", ""))) == ["bob"]  # bob audits in NORTH, in alice's chain
    assert who(lane(("role_in_chain", "auditor", "")), applicant="vp") == []  # SALES > HQ: NORTH is below


def test_role_in_chain_leaves_out_holders_outside_the_chain():
    # fin2 works in SALES, which is in bob's chain (NORTH > SALES > HQ); a unit below bob's is not.
    assert who(lane(("role_in_chain", "manager", "")), applicant="bob") == ["boss", "ceo", "cfo", "vp"]


def test_budget_line_and_cost_center_owners_come_from_the_request():
    data = {"period": "2026", "subject": "TRAVEL", "org_unit": "NORTH"}
    assert who(lane(("budget_line_owner", None, "")), variables=data) == ["owner"]
    assert who(lane(("budget_line_owner", None, "")), variables={**data, "subject": "HOTEL"}) == []
    assert who(lane(("budget_line_owner", None, "")), variables={}) == []
    assert who(lane(("cost_center_owner", None, "")), variables={"cost_center": "CC-N"}) == ["boss"]
    assert who(lane(("cost_center_owner", None, "")), variables={}) == []


def test_employees_and_variable_rules_name_people_but_never_the_applicant_or_the_inactive():
    assert who(lane(("employees", "BOB;ALICE;gone", "")), directory=FakeDirectory({"gone"})) == []
    assert who(lane(("employees", "bob;alice", ""))) == ["bob"]
    assert who(lane(("variable", "reviewers", "")), variables={"reviewers": ["fin1", "alice", 7, "fin1"]}) == ["fin1"]
    assert who(lane(("variable", "reviewers", "")), variables={"reviewers": "fin2;vp"}) == ["fin2", "vp"]
    assert who(lane(("variable", "reviewers", "")), variables={}) == []


def test_countersign_and_system():
    assert who(lane(("countersign", None, "")), approver="fin1") == ["fin1"]
    assert who(lane(("countersign", None, "")), approver="alice") == []
    assert who(lane(("system", None, "finance_director"))) == ["cfo"]  # only through its fallback
    assert who(lane(("system", None, ""))) == []


def test_lane_owners_override_the_rules_as_before():
    assert who(lane(("role", "finance", "")), owners=["vp", "alice"]) == ["vp"]


def test_an_unknown_lane_names_the_known_ones():
    with pytest.raises(UnknownLane, match="known lanes: x"):
        candidates("nope", applicant="alice", directory=FakeDirectory(), rules=lane(("applicant", None, "")))


# ---------------------------------------------------------------- fallbacks


def test_next_tries_the_lanes_next_row_and_stops_at_the_first_that_finds_someone():
    rows = lane(("employees", "gone", "next"), ("role", "auditor", "next"), ("manager_up", "2", ""))
    assert who(rows, directory=FakeDirectory({"gone"})) == ["bob"]
    assert who(rows, directory=FakeDirectory({"gone", "bob"})) == ["boss"]


def test_escalate_goes_one_manager_further_up_than_the_rule_looked():
    assert who(lane(("unit_head", "3", "escalate")), applicant="boss") == ["vp"]
    assert who(lane(("budget_line_owner", None, "escalate")), variables={}) == ["lead"]
    assert who(lane(("manager_up", "4", "escalate")), directory=FakeDirectory({"ceo"})) == []


def test_finance_director_fallback_and_no_fallback():
    assert who(lane(("employees", "gone", "finance_director")), directory=FakeDirectory({"gone"})) == ["cfo"]
    assert who(lane(("employees", "gone", "")), directory=FakeDirectory({"gone"})) == []
    assert who(lane(("employees", "gone", "finance_director")), applicant="cfo",
               directory=FakeDirectory({"gone"})) == []  # the applicant is excluded from fallbacks too


# ---------------------------------------------------------------- no duplicate approval


def test_a_prior_approver_is_skipped_when_the_lane_asks_and_kept_when_it_does_not():
    # The line's owner is bob's manager too: having approved as manager, the owner lane skips him.
    data = {"period": "2026", "subject": "TRAVEL", "org_unit": "NORTH"}
    skipping = lane(("budget_line_owner", None, "escalate"), skip=True)
    keeping = lane(("budget_line_owner", None, "escalate"), skip=False)
    directory = FakeDirectory(line_owner="boss")
    kw = {"applicant": "bob", "directory": directory, "variables": data}
    assert who(skipping, prior_approvers={"boss"}, **kw) == ["vp"]  # escalate: bob's managers past boss
    assert who(keeping, prior_approvers={"boss"}, **kw) == ["boss"]  # control: the lane keeps him
    assert who(skipping, prior_approvers=set(), **kw) == ["boss"]  # control: nobody approved yet


def test_skipping_leaves_nobody_then_the_fallback_applies():
    rows = lane(("role", "finance;manager", "finance_director"), skip=True)
    assert who(rows, prior_approvers={"cfo"}) == []  # the fallback skips the prior approver as well
    rows = lane(("role", "finance;manager", "next"), ("role", "finance", ""), skip=True)
    assert who(rows, prior_approvers={"cfo"}) == ["fin1", "fin2"]


def test_the_round_restarts_when_the_applicant_submits_again():
    done = [Completion("lead", "manager", "approve"), Completion("vp", "department_head", "reject"),
            Completion("alice", "applicant", None), Completion("boss", "x", "approve"),
            Completion("fin1", "finance", None), Completion("ceo", "y", None, recorded=False)]
    assert approvers_this_round(done, applicant="alice") == {"boss"}
    assert approvers_this_round(done, applicant="alice", pending_decision="approve") == {"boss", "ceo"}
    assert approvers_this_round(done[:2], applicant="alice") == {"lead"}  # a reject is no approval


# ---------------------------------------------------------------- the built-ins


def test_the_built_in_lanes_resolve_as_the_engine_always_did():
    d = FakeDirectory()
    assert candidates(None, applicant="alice", directory=d) == ["alice"]
    assert candidates("manager", applicant="alice", directory=d) == ["lead"]
    assert candidates("department_head", applicant="alice", directory=d) == ["vp"]
    assert candidates("department_head", applicant="vp", directory=d) == ["ceo"]  # the root as a last resort
    assert candidates("finance_director", applicant="alice", directory=d) == ["cfo"]
    assert candidates("finance", applicant="fin1", directory=d) == ["cfo", "fin2"]
    assert candidates("countersign", applicant="alice", directory=d, approver="bob") == ["bob"]
    assert candidates("system", applicant="alice", directory=d) == []
    assert set(LANES) < set(lane_catalog()) and lane_catalog()["system"]
    assert not any(rule.skip_prior_approvers for rule in BUILTIN_RULES)
