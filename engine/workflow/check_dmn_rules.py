"""``bpmn check`` rule for DMN hit policies: rules that can never match.

SpiffWorkflow supports the hit policies UNIQUE and COLLECT, and evaluates UNIQUE as *first match*:
rows are read top to bottom and the first matching one wins. A rule whose every cell is covered by
the same column of an earlier rule can then never be chosen. Under UNIQUE two rules that can both
match are an error too (the DMN standard's meaning: at most one rule matches), so a designer who
wants "first match wins" says so with hit policy FIRST, where overlaps are allowed. Both are decided
exactly for simple cells only (``-``, a literal, a comparison with a number); a rule with any other
cell is left alone, so the rule never reports a false alarm.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from engine.workflow.check_common import element_id
from engine.workflow.check_dmn import NUMBER_TYPES, SUPPORTED, cell_text, columns, namespace, tables, value_part

SUPPORTED_POLICIES = ("UNIQUE", "FIRST", "COLLECT")


@dataclass(frozen=True)
class Interval:
    low: float
    low_open: bool
    high: float
    high_open: bool

    def within(self, other: Interval) -> bool:
        above = self.low > other.low or (self.low == other.low and (self.low_open or not other.low_open))
        below = self.high < other.high or (self.high == other.high and (self.high_open or not other.high_open))
        return above and below

    def meets(self, other: Interval) -> bool:
        low, low_open = max((self.low, self.low_open), (other.low, other.low_open))
        high, high_closed = min((self.high, not self.high_open), (other.high, not other.high_open))
        return low < high or (low == high and not low_open and high_closed)


ANY = "any"
Cell = Interval | frozenset[Any] | str  # ANY, an interval of numbers, a set of literals


def check_dmn_rules(name: str, root: Any) -> Iterator[str]:
    ns = namespace(root)
    if ns not in SUPPORTED:
        return
    for table in tables(root):
        policy = (table.get("hitPolicy") or "UNIQUE").upper()
        if policy not in SUPPORTED_POLICIES:
            yield (f"{name}:{element_id(table)}: hit policy {policy!r} is not supported "
                   f"(supported: UNIQUE, read as first match, FIRST and COLLECT)")
            continue
        if policy == "COLLECT":
            continue
        types = [type_ref for _column, _expression, type_ref in columns(table, ns)]
        earlier: list[tuple[Any, list[Cell]]] = []
        for rule in table.findall(f"{{{ns}}}rule"):
            cells = [_cell(cell_text(c, ns), t) for c, t in zip(rule.findall(f"{{{ns}}}inputEntry"), types,
                                                                strict=False)]
            if len(cells) != len(types) or any(c is None for c in cells):
                continue
            known: list[Cell] = [c for c in cells if c is not None]
            cover = next((r for r, prior in earlier if all(map(_within, known, prior))), None)
            clash = next((r for r, prior in earlier if all(map(_meets, known, prior))), None)
            if cover is not None:
                yield (f"{name}:{element_id(rule)}: rule can never match: rule {element_id(cover)} above it matches "
                       f"every case it does, and the first matching rule wins ({policy})")
            elif clash is not None and policy == "UNIQUE":
                yield (f"{name}:{element_id(rule)}: rule overlaps rule {element_id(clash)} (some inputs match both), "
                       f"which hit policy UNIQUE forbids: make the rules exclusive, or set hitPolicy=\"FIRST\" "
                       f"if the first matching rule is meant to win")
            earlier.append((rule, known))


def _within(inner: Cell, outer: Cell) -> bool:
    if outer == ANY:
        return True
    if inner == ANY:
        return False
    if isinstance(inner, Interval) and isinstance(outer, Interval):
        return inner.within(outer)
    if isinstance(inner, frozenset) and isinstance(outer, frozenset):
        return inner <= outer
    return False


def _meets(one: Cell, other: Cell) -> bool:
    if one == ANY or other == ANY:
        return True
    if isinstance(one, Interval) and isinstance(other, Interval):
        return one.meets(other)
    if isinstance(one, frozenset) and isinstance(other, frozenset):
        return bool(one & other)
    return False


def _cell(text: str, type_ref: str) -> Cell | None:
    if text in ("", "-"):
        return ANY
    parsed = value_part(text) if "?" not in text else None
    if parsed is None:
        return None
    operator, node = parsed
    value = _literal(node)
    if value is None:
        return None
    if type_ref in NUMBER_TYPES and isinstance(value, int | float) and not isinstance(value, bool):
        return _interval(operator, float(value))
    if operator in ("", "==") and isinstance(value, str | bool):
        return frozenset({value})
    return None


def _literal(node: Any) -> Any:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, str | bool | int | float) else None


def _interval(operator: str, value: float) -> Interval | None:
    inf = math.inf
    return {"": Interval(value, False, value, False), "==": Interval(value, False, value, False),
            ">": Interval(value, True, inf, True), ">=": Interval(value, False, inf, True),
            "<": Interval(-inf, True, value, True), "<=": Interval(-inf, True, value, False)}.get(operator)
