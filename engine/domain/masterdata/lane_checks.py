"""``lanes.csv``: each rule's parameter, the rows of a lane together, and the lanes built from them.

A lane is one or more consecutive rows with the same ``lane`` (engine/domain/lanes.py interprets them);
``reading.py`` parsed every cell by its column. Here each rule gets the parameter it needs (a level from 1,
known roles, employee codes from employees.csv, a variable name), a lane's rows stand together, its first
row carries the description, ``skip_prior_approvers`` is set once per lane (its first row), and ``next``
is never the fallback of a lane's last row. The owners named in budget_lines.csv and cost_centers.csv are
employees of employees.csv.
"""

from __future__ import annotations

import re

from engine.domain.lanes import RULES, LaneRule
from engine.domain.masterdata.checks import Tables, check_refs
from engine.domain.masterdata.fields import KNOWN_ROLES, LANES_FILE
from engine.domain.masterdata.reading import Problems, Row
from engine.domain.untrusted_text import excerpt

_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_LEVEL = re.compile(r"[1-9][0-9]?")


def check_lanes(tables: Tables, problems: Problems) -> None:
    employees = tables.codes("employees.csv")
    for name in ("budget_lines.csv", "cost_centers.csv"):
        check_refs(tables.rows(name), "owner", employees, "employees.csv", problems)
    rows = tables.rows(LANES_FILE)
    for row in rows:
        _check_parameter(row, employees, problems)
    _check_grouping(rows, problems)


def _add(problems: Problems, row: Row, column: str, message: str) -> None:
    problems.add(LANES_FILE, row.line, column, message)
    row.complete = False


def _check_parameter(row: Row, employees: set[object] | None, problems: Problems) -> None:
    rule, param = row.values.get("rule"), row.values.get("parameter")
    if not isinstance(rule, str) or "parameter" not in row.values:
        return
    kind = RULES[rule][0]
    if kind is None:
        if param is not None:
            _add(problems, row, "parameter", f"rule {rule} takes no parameter")
        return
    if not isinstance(param, str):
        _add(problems, row, "parameter", f"is required: rule {rule} needs {_NEEDS[kind]}")
        return
    message = _PARAMETER_CHECKS[kind](param, employees)
    if message:
        _add(problems, row, "parameter", f"{message} (rule {rule} needs {_NEEDS[kind]})")
    elif kind == "codes":  # codes in their canonical form, as employees.csv's are
        row.values["parameter"] = ";".join(code.upper() for code in _parts(param))


_NEEDS = {"level": "a whole number from 1 to 99", "roles": "roles separated by ';'",
          "codes": "employee codes separated by ';'", "variable": "a process variable's name"}


def _parts(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


def _level(text: str, _employees: set[object] | None) -> str | None:
    return None if _LEVEL.fullmatch(text) else f"{excerpt(text)} is not a level"


def _roles(text: str, _employees: set[object] | None) -> str | None:
    unknown = [r for r in _parts(text) if r not in KNOWN_ROLES]
    if unknown or not _parts(text):
        return f"unknown role(s) {', '.join(excerpt(r, 20) for r in unknown[:5])}; known roles: " \
               f"{', '.join(sorted(KNOWN_ROLES))}"
    return None


def _codes(text: str, employees: set[object] | None) -> str | None:
    codes = [c.upper() for c in _parts(text)]
    if not codes:
        return "names no employee"
    unknown = [c for c in codes if employees is not None and c not in employees]
    if not unknown:
        return None
    verb = "is" if len(unknown) == 1 else "are"
    return f"{', '.join(excerpt(c, 20) for c in unknown[:5])} {verb} not in employees.csv"


def _variable(text: str, _employees: set[object] | None) -> str | None:
    return None if _VARIABLE.fullmatch(text) else f"{excerpt(text)} is not a variable name"


_PARAMETER_CHECKS = {"level": _level, "roles": _roles, "codes": _codes, "variable": _variable}


def _check_grouping(rows: list[Row], problems: Problems) -> None:
    """A lane's rows stand together; lane-wide fields on its first row; no ``next`` after its last row."""
    first: dict[str, Row] = {}
    previous: str | None = None
    for index, row in enumerate(rows):
        lane = row.values.get("lane")
        if not isinstance(lane, str):
            previous = None
            continue
        if lane in first and previous != lane:
            _add(problems, row, "lane", f"lane {lane} continues apart from its rows (first on row "
                 f"{first[lane].line}); put a lane's rows together, in order")
        leading = first.setdefault(lane, row) is row
        if not leading and row.values.get("skip_prior_approvers") is not None:
            _add(problems, row, "skip_prior_approvers", f"is set on lane {lane}'s first row (row "
                 f"{first[lane].line}) only")
        if leading and not row.values.get("description") and "description" in row.values:
            _add(problems, row, "description", f"is required on lane {lane}'s first row")
        following = rows[index + 1].values.get("lane") if index + 1 < len(rows) else None
        if row.values.get("fallback") == "next" and following != lane:
            _add(problems, row, "fallback", f"next: lane {lane} has no next rule row; use escalate, "
                 "finance_director or leave it blank")
        previous = lane


def build_lanes(rows: list[Row]) -> tuple[LaneRule, ...]:
    """The rule rows in file order, lane-wide fields copied from each lane's first row; once the checks passed."""
    built: list[LaneRule] = []
    first: dict[str, LaneRule] = {}
    for row in rows:
        v = row.values
        lane = str(v["lane"])
        lead = first.get(lane)
        param = v["parameter"]
        rule = LaneRule(lane=lane, rule=str(v["rule"]), parameter=None if param is None else str(param),
                        fallback=str(v["fallback"] or ""),
                        skip_prior_approvers=bool(v["skip_prior_approvers"]) if lead is None
                        else lead.skip_prior_approvers,
                        description=str(v["description"] or "") if lead is None else lead.description)
        first.setdefault(lane, rule)
        built.append(rule)
    return tuple(built)
