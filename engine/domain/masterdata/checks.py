"""Checks across the data dictionary's files: unique codes, references that resolve, the org tree.

Each version is a complete snapshot, so every reference must resolve inside the folder itself.
The checks add to the same ``Problems`` the file readers filled; a valid budget line gets its
``key`` and ``line_key`` here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from engine.domain.budget_line import BudgetLineKey
from engine.domain.errors import InvalidAmount
from engine.domain.identifiers import identifier_key
from engine.domain.masterdata.fields import OA_DEPT_FIELDS, OA_ID_FIELDS
from engine.domain.masterdata.reading import Problems, Row
from engine.domain.money import parse_amount


@dataclass(frozen=True, slots=True)
class Tables:
    """Each file's rows; None for a file that is missing or unusable as a whole."""

    by_file: Mapping[str, list[Row] | None]

    def rows(self, name: str) -> list[Row]:
        return self.by_file[name] or []

    def codes(self, name: str) -> set[object] | None:
        """The codes the file defines; None when unknown, so references to it go unchecked, not all flagged."""
        rows = self.by_file[name]
        if rows is None or not all(row.aligned for row in rows):
            return None
        return {row.values["code"] for row in rows if row.values.get("code")}


def check_unique(rows: list[Row], column: str, problems: Problems, *, report_as: str | None = None,
                  key: Callable[[str], object] = lambda value: value) -> None:
    """Each value once; ``key`` says when two spellings are the same value (OA ids compare without case)."""
    first: dict[object, Row] = {}
    for row in rows:
        value = row.values.get(column)
        if value is None:
            continue
        seen = first.setdefault(key(str(value)), row)
        if seen is not row:
            earlier = seen.values[column]
            spelt = f" as {earlier}" if earlier != value else ""
            problems.add(row.file, row.line, report_as or column, f"duplicate {column} {value} "
                         f"(first on row {seen.line}{spelt})")


def check_refs(rows: list[Row], column: str, known: Collection[object] | None, target: str,
                problems: Problems) -> None:
    for row in rows:
        value = row.values.get(column)
        if known is not None and value is not None and value not in known:
            problems.add(row.file, row.line, column, f"{value} is not in {target}")


def _find_cycles(parent_of: Mapping[str, str | None]) -> list[list[str]]:
    """Each cycle in the parent links once, as the list of its members."""
    done: set[str] = set()
    cycles: list[list[str]] = []
    for start in parent_of:
        path: list[str] = []
        node: str | None = start
        while node is not None and node in parent_of and node not in done and node not in path:
            path.append(node)
            node = parent_of[node]
        if node is not None and node in path:
            cycles.append(path[path.index(node):])
        done.update(path)
    return cycles


def _check_org_tree(tables: Tables, problems: Problems) -> None:
    units = tables.rows("org_units.csv")
    check_refs(units, "parent_code", tables.codes("org_units.csv"), "org_units.csv", problems)
    check_refs(units, "manager_code", tables.codes("employees.csv"), "employees.csv", problems)
    rows = {str(row.values["code"]): row for row in units if row.values.get("code")}
    parent_of = {code: _str_or_none(row.values.get("parent_code")) for code, row in rows.items()}
    for cycle in _find_cycles(parent_of):
        first = min(cycle, key=lambda code: rows[code].line)
        loop = " → ".join([*cycle[cycle.index(first):], *cycle[:cycle.index(first)], first])
        problems.add("org_units.csv", rows[first].line, "parent_code", f"the org tree has a cycle: {loop}")
    for column in OA_DEPT_FIELDS:  # one unit per OA department, or the org sync could not tell where people go
        check_unique(units, column, problems)


def _check_employees(tables: Tables, problems: Problems) -> None:
    employees = tables.rows("employees.csv")
    check_refs(employees, "org_unit_code", tables.codes("org_units.csv"), "org_units.csv", problems)
    for column in OA_ID_FIELDS:  # one person per OA account, or approvals reach the wrong person
        check_unique(employees, column, problems, key=identifier_key)


def _check_budget_lines(tables: Tables, problems: Problems) -> None:
    lines = tables.rows("budget_lines.csv")
    for column, target in (("org_unit_code", "org_units.csv"), ("cost_center_code", "cost_centers.csv"),
                           ("subject_code", "expense_subjects.csv"), ("currency", "currencies.csv")):
        check_refs(lines, column, tables.codes(target), target, problems)
    minor_units = {row.values.get("code"): row.values.get("minor_units") for row in tables.rows("currencies.csv")}
    for row in lines:
        _check_line_holder(row, problems)
        _check_amount(row, minor_units, problems)
    check_unique(lines, "line_key", problems, report_as="-")


def _check_line_holder(row: Row, problems: Problems) -> None:
    """A line belongs to exactly one org unit or cost center; a valid one gets its ``line_key``."""
    org, center = row.values.get("org_unit_code"), row.values.get("cost_center_code")
    if ("org_unit_code" in row.values and "cost_center_code" in row.values) and bool(org) == bool(center):
        problems.add(row.file, row.line, "org_unit_code", "give exactly one of org_unit_code or cost_center_code")
        row.complete = False
        return
    if row.complete:
        v = row.values
        key = BudgetLineKey(period=str(v["period"]), subject=str(v["subject_code"]), org_unit=_str_or_none(org),
                            cost_center=_str_or_none(center), project=_str_or_none(v["project"]))
        v["key"], v["line_key"] = key, key.label


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _check_amount(row: Row, minor_units: Mapping[object, object], problems: Problems) -> None:
    """The amount through ``parse_amount`` in the line's currency: zero or more, at most its minor units
    (from currencies.csv; a currency missing there, already reported, is held to its ISO 4217 units)."""
    text, currency = row.values.get("amount"), row.values.get("currency")
    if not isinstance(text, str) or not isinstance(currency, str):
        return
    places = minor_units.get(currency)
    try:
        row.values["amount"] = parse_amount(text, currency=currency, sign="non_negative",
                                            places=places if isinstance(places, int) else None)
    except InvalidAmount as exc:
        reason = str(exc).removeprefix("amount: ")
        hint = "; a budget is zero or more" if "negative" in reason else ""
        problems.add(row.file, row.line, "amount", reason + hint)
        row.complete = False
        del row.values["amount"]


def cross_check(tables: Tables, problems: Problems) -> None:
    for name in ("currencies.csv", "org_units.csv", "employees.csv", "expense_subjects.csv", "cost_centers.csv"):
        check_unique(tables.rows(name), "code", problems)
    _check_org_tree(tables, problems)
    _check_employees(tables, problems)
    check_refs(tables.rows("cost_centers.csv"), "org_unit_code", tables.codes("org_units.csv"), "org_units.csv",
                problems)
    _check_budget_lines(tables, problems)
