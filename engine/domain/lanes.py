"""Who may act on a task: the interpreter of the lane rules (``lanes.csv`` of the data dictionary).

A lane's name is the contract with the diagrams (bpmn/README.md §12 "Lanes"). Each lane is one or more rule
rows, in order: a rule from ``RULES`` with its parameter, and a ``fallback`` for when it resolves to
nobody (``next``: the lane's next row; ``escalate``: the manager one level further up;
``finance_director``; blank: nobody, and the task is listed for reassignment, ``budgetflow tasks
orphaned``). Without ``lanes.csv`` the built-in lanes (``BUILTIN_RULES``) apply; they resolve as the
engine always did.

Everywhere the applicant is excluded (nobody approves their own request; only the ``applicant`` rule
names them) and so are inactive employees; a lane with ``skip_prior_approvers`` also excludes whoever
approved this document earlier in the same approval round (``Context.prior_approvers``: no duplicate
approval). Excluded managers pass the task upward, as a manager who left always did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from engine.domain.budget_line import BudgetLineKey


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    parent: str | None
    manager: str | None


class Directory(Protocol):
    def unit_of(self, employee: str) -> Unit | None: ...

    def unit(self, code: str) -> Unit | None: ...

    def with_roles(self, *roles: str) -> list[str]:
        """Active employees holding every one of ``roles``."""

    def is_active(self, employee: str) -> bool: ...

    def budget_line_owner(self, key: BudgetLineKey) -> str | None:
        """The owner (employee code) of the budget line ``key`` names (budget_lines.csv ``owner``)."""

    def cost_center_owner(self, code: str) -> str | None:
        """The owner (employee code) of cost center ``code`` (cost_centers.csv ``owner``)."""


class UnknownLane(ValueError):
    pass


# ---------------------------------------------------------------- the vocabulary

# What a rule needs as its parameter: None (none), "level" (a whole number from 1), "roles", "codes",
# "variable" (a process variable's name). Descriptions are shown by ``budgetflow bpmn lanes``.
RULES: dict[str, tuple[str | None, str]] = {
    "applicant": (None, "the applicant themself"),
    "manager_up": ("level", "the manager N levels up from the applicant (1 = own unit's manager)"),
    "unit_head": ("level", "the manager of the applicant's unit chain at depth N from the root "
                           "(1 = the company, 2 = the division)"),
    "role": ("roles", "everyone holding all the roles (';'-separated)"),
    "role_in_chain": ("roles", "holders of the roles within the applicant's unit chain"),
    "budget_line_owner": (None, "the owner of the budget line charged (budget_lines.csv owner)"),
    "cost_center_owner": (None, "the owner of the cost center charged (process variable cost_center)"),
    "employees": ("codes", "the named employees (';'-separated codes)"),
    "variable": ("variable", "the employee codes a process variable lists"),
    "countersign": (None, "the countersigner of a multi-instance child (its approver)"),
    "system": (None, "nobody: service tasks, scripts and timers only, never a user task"),
}
FALLBACKS: dict[str, str] = {
    "": "nobody: the task is listed for reassignment",
    "next": "the lane's next rule row",
    "escalate": "the manager one level further up",
    "finance_director": "the finance director (roles finance and manager)",
}
FINANCE_DIRECTOR_ROLES = ("finance", "manager")
SYSTEM_LANE = "system"


@dataclass(frozen=True, slots=True)
class LaneRule:
    """One row of a lane: its rule, parameter and fallback; lane-wide fields come from its first row."""

    lane: str
    rule: str
    parameter: str | None = None
    fallback: str = ""
    skip_prior_approvers: bool = False
    description: str = ""


def _builtin(lane: str, rule: str, parameter: str | None = None, fallback: str = "", description: str = ""
             ) -> LaneRule:
    return LaneRule(lane, rule, parameter, fallback, False, description)


# Today's lanes as rules: what applies without lanes.csv. No prior-approver skipping, as before.
BUILTIN_RULES: tuple[LaneRule, ...] = (
    _builtin("applicant", "applicant", description="申请人 the applicant"),
    _builtin("manager", "manager_up", "1", description="直属经理 the applicant's manager"),
    _builtin("department_head", "unit_head", "2", "next", "事业部负责人 the head of the applicant's division"),
    _builtin("department_head", "unit_head", "1"),
    _builtin("finance_director", "role", "finance;manager", description="财务总监 the finance director"),
    _builtin("finance", "role", "finance", description="财务 the finance pool"),
    _builtin("budget_admin", "role", "budget_admin", description="预算管理员 the budget admins"),
    _builtin("countersign", "countersign", description="会签人 each countersigner"),
    _builtin(SYSTEM_LANE, "system", description="系统 service tasks, scripts and timers; never a user task"),
)
_APPLICANT = [BUILTIN_RULES[0]]  # a task without a lane is the applicant's, with or without lanes.csv
LANES = ("applicant", "manager", "department_head", "finance_director", "finance", "budget_admin", "countersign")


def lanes_of(rules: Iterable[LaneRule]) -> dict[str, list[LaneRule]]:
    """Each lane's rule rows, in order."""
    lanes: dict[str, list[LaneRule]] = {}
    for rule in rules:
        lanes.setdefault(rule.lane, []).append(rule)
    return lanes


def in_force(imported: Iterable[LaneRule]) -> list[LaneRule]:
    """The dictionary's lane rules, then the built-in lanes it does not name: a lanes.csv that only adds a lane
    leaves the shipped diagrams' lanes working."""
    rules = list(imported)
    named = {rule.lane for rule in rules}
    return [*rules, *(rule for rule in BUILTIN_RULES if rule.lane not in named)]


def lane_catalog(rules: Iterable[LaneRule] | None = None) -> dict[str, str]:
    """Lane name → description (the first row's), in the order of ``rules``; the built-ins when it is None."""
    return {lane: rows[0].description for lane, rows in lanes_of(BUILTIN_RULES if rules is None else rules).items()}


# ---------------------------------------------------------------- resolution


@dataclass(frozen=True)
class Context:
    """What a task's lane may resolve against: its request, its data, and who approved it already."""

    applicant: str
    directory: Directory
    approver: str | None = None  # a multi-instance child's input item (countersign)
    variables: Mapping[str, object] = field(default_factory=dict)  # the task's data
    prior_approvers: frozenset[str] = frozenset()  # approved this document earlier in this round


def candidates(lane: str | None, *, applicant: str, directory: Directory,
               approver: str | None = None, owners: Sequence[str] | None = None,
               rules: Sequence[LaneRule] | None = None, variables: Mapping[str, object] | None = None,
               prior_approvers: Iterable[str] = ()) -> list[str]:
    """The employee codes who may complete a task in ``lane`` of ``applicant``'s request.

    ``rules``: the dictionary's lane rules (None: the built-ins); ``owners``: a diagram- or DMN-set
    override of this lane's candidates (``lane_owners``). UnknownLane if no rule names ``lane``.
    """
    ctx = Context(applicant, directory, approver, variables or {}, frozenset(prior_approvers))
    table = lanes_of(BUILTIN_RULES if rules is None else rules)
    rows = table.get(lane or "applicant") or (_APPLICANT if lane in (None, "applicant") else None)
    if rows is None:
        raise UnknownLane(f"lane {lane!r} is not in the data dictionary's lanes; known lanes: {', '.join(table)}")
    skip = rows[0].skip_prior_approvers
    if owners:  # the override wins over the lane's rules
        return _eligible(ctx, [o for o in owners if isinstance(o, str)], skip=skip)
    for index, row in enumerate(rows):
        found = _resolve(ctx, row, skip=skip)
        if found:
            return found
        if row.fallback == "next" and index + 1 < len(rows):
            continue
        return _fallback(ctx, row, skip=skip)
    return []


def _eligible(ctx: Context, people: Iterable[str], *, skip: bool) -> list[str]:
    """``people`` in order, once each, without the applicant, inactive people and (``skip``) prior approvers."""
    seen: list[str] = []
    for person in people:
        if person in seen or person == ctx.applicant or (skip and person in ctx.prior_approvers):
            continue
        if ctx.directory.is_active(person):
            seen.append(person)
    return seen


def _resolve(ctx: Context, row: LaneRule, *, skip: bool) -> list[str]:
    rule, param = row.rule, row.parameter or ""
    if rule == "applicant":
        return [ctx.applicant] if ctx.directory.is_active(ctx.applicant) else []
    if rule == "system":
        return []
    if rule == "manager_up":
        return _eligible(ctx, managers_up(ctx.directory, ctx.applicant)[_level(param) - 1:], skip=skip)[:1]
    if rule == "unit_head":
        chain = list(reversed(unit_chain(ctx.directory, ctx.applicant)))  # root first
        level = _level(param)
        head = [chain[level - 1].manager or ""] if len(chain) >= level else []
        return _eligible(ctx, head, skip=skip)
    if rule == "role":
        return _eligible(ctx, ctx.directory.with_roles(*_split(param)), skip=skip)
    if rule == "role_in_chain":
        codes = {unit.code for unit in unit_chain(ctx.directory, ctx.applicant)}
        holders = [e for e in ctx.directory.with_roles(*_split(param))
                   if (unit := ctx.directory.unit_of(e)) is not None and unit.code in codes]
        return _eligible(ctx, holders, skip=skip)
    return _resolve_named(ctx, rule, param, skip=skip)


def _resolve_named(ctx: Context, rule: str, param: str, *, skip: bool) -> list[str]:
    """The rules that name people through the request: owners, codes, variables, the countersigner."""
    if rule == "budget_line_owner":
        key = charged_line(ctx.variables)
        return _eligible(ctx, _some(ctx.directory.budget_line_owner(key) if key else None), skip=skip)
    if rule == "cost_center_owner":
        code = ctx.variables.get("cost_center")
        owner = ctx.directory.cost_center_owner(code) if isinstance(code, str) and code else None
        return _eligible(ctx, _some(owner), skip=skip)
    if rule == "employees":
        return _eligible(ctx, _split(param), skip=skip)
    if rule == "variable":
        return _eligible(ctx, _codes(ctx.variables.get(param)), skip=skip)
    if rule == "countersign":
        return _eligible(ctx, _some(ctx.approver), skip=skip)
    raise UnknownLane(f"lane rule {rule!r} is unknown; rules: {', '.join(RULES)}")


def _fallback(ctx: Context, row: LaneRule, *, skip: bool) -> list[str]:
    if row.fallback == "finance_director":
        return _eligible(ctx, ctx.directory.with_roles(*FINANCE_DIRECTOR_ROLES), skip=skip)
    if row.fallback == "escalate":
        return _eligible(ctx, _above(ctx, row), skip=skip)[:1]
    return []


def _above(ctx: Context, row: LaneRule) -> list[str]:
    """The managers "one level further up" than ``row`` looked, nearest first."""
    if row.rule == "unit_head":
        chain = list(reversed(unit_chain(ctx.directory, ctx.applicant)))[:_level(row.parameter or "") - 1]
        return [unit.manager for unit in reversed(chain) if unit.manager]
    if row.rule == "manager_up":
        return managers_up(ctx.directory, ctx.applicant)[_level(row.parameter or ""):]
    return managers_up(ctx.directory, ctx.applicant)


# ---------------------------------------------------------------- the org chart and the request


def unit_chain(directory: Directory, employee: str) -> list[Unit]:
    """The employee's unit, its parent, and so on up to the root (a cycle stops the walk)."""
    chain: list[Unit] = []
    unit = directory.unit_of(employee)
    while unit is not None and unit not in chain:
        chain.append(unit)
        unit = directory.unit(unit.parent) if unit.parent else None
    return chain


def managers_up(directory: Directory, applicant: str) -> list[str]:
    """The distinct managers above ``applicant``, nearest first (the applicant, managing their unit, left out)."""
    found: list[str] = []
    for unit in unit_chain(directory, applicant):
        if unit.manager and unit.manager != applicant and unit.manager not in found:
            found.append(unit.manager)
    return found


def charged_line(variables: Mapping[str, object]) -> BudgetLineKey | None:
    """The budget line a request charges, from its ``period``, ``subject``, ``org_unit`` or ``cost_center``
    and optional ``project``; None when the data does not name one."""
    def text(name: str) -> str | None:
        value = variables.get(name)
        return value if isinstance(value, str) and value else None

    period, subject = text("period"), text("subject")
    if period is None or subject is None:
        return None
    try:
        return BudgetLineKey(period=period, subject=subject, org_unit=text("org_unit"),
                             cost_center=None if text("org_unit") else text("cost_center"), project=text("project"))
    except ValueError:
        return None


def _level(text: str) -> int:
    return int(text) if text.isdigit() and int(text) >= 1 else 1


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


def _some(value: str | None) -> list[str]:
    return [value] if value else []


def _codes(value: object) -> list[str]:
    if isinstance(value, str):
        return _split(value)
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


# ---------------------------------------------------------------- no duplicate approval

APPROVE = "approve"


@dataclass(frozen=True, slots=True)
class Completion:
    """A completed user task of the instance, in completion order: who, in which lane, with which decision.

    ``recorded``: whether its audit entry (and so its decision) is written; the step that completes a task
    writes its entry at commit, after the next tasks' candidates were resolved.
    """

    by: str
    lane: str | None
    decision: str | None
    recorded: bool = True


def approvers_this_round(completions: Iterable[Completion], *, applicant: str,
                         pending_decision: object = None) -> frozenset[str]:
    """Who approved since the applicant last submitted (a task of theirs, or in the applicant lane).

    A completion counts when its decision was ``approve``; one whose audit entry is not written yet counts
    by ``pending_decision``, the ``decision`` the step's task data holds.
    """
    approved: set[str] = set()
    for done in completions:
        if done.lane in (None, "applicant") or done.by == applicant:
            approved.clear()  # a new round begins
            continue
        decision = done.decision if done.recorded else pending_decision
        if decision == APPROVE:
            approved.add(done.by)
    return frozenset(approved)


def skips_prior_approvers(lane: str | None, rules: Sequence[LaneRule] | None) -> bool:
    """Whether the lane asks for the approvers of this round to be skipped (the built-ins never do)."""
    rows = lanes_of(BUILTIN_RULES if rules is None else rules).get(lane or "applicant")
    return bool(rows and rows[0].skip_prior_approvers)
