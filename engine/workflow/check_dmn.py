"""``bpmn check`` rules for DMN decision tables: what SpiffWorkflow's DMN engine would do wrong at run time.

Structure first (a supported DMN namespace, one decision with one decision table, ids, as many cells
as columns), since SpiffWorkflow's parser fails on these with a bare IndexError or KeyError. Then the
cells: each input cell against its column's ``typeRef`` (``> 1,000`` is a Python tuple, so always
true; an unquoted ``TRAINING`` is a variable that does not exist, failing every request that reaches
the table), empty output cells and FEEL's ``true``/``false``/``null`` in them (Python reads a variable),
and rules an earlier rule fully shadows (``check_dmn_rules.py``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from engine.workflow.check_common import element_id, one_line

SUPPORTED = ("http://www.omg.org/spec/DMN/20151101/dmn.xsd", "https://www.omg.org/spec/DMN/20191111/MODEL/")
NUMBER_TYPES = frozenset({"number", "integer", "long", "double", "decimal"})
KNOWN_TYPES = NUMBER_TYPES | {"string", "boolean", "date", "datetime", "dateTime", "time", "any"}
_OPERATORS = ("<=", ">=", "==", "!=", "<", ">")


def namespace(root: Any) -> str:
    return root.tag[1:].partition("}")[0] if isinstance(root.tag, str) and root.tag.startswith("{") else ""


def tables(root: Any) -> list[Any]:
    ns = namespace(root)
    return [t for t in root.iter(f"{{{ns}}}decisionTable")]


def check_dmn_structure(name: str, root: Any) -> Iterator[str]:
    ns = namespace(root)
    if ns not in SUPPORTED:
        yield (f"{name}:{element_id(root)}: DMN namespace {ns or '(none)'!r} is not supported "
               f"(supported: {', '.join(SUPPORTED)})")
        return
    if root.prefix not in (None, "dmn"):
        yield (f"{name}:{element_id(root)}: the DMN elements carry the prefix {root.prefix + ':'!r}; the engine "
               f"reads DMN in the default namespace (xmlns=\"{ns}\") or with the prefix dmn:")
        return
    decisions = root.findall(f"{{{ns}}}decision")
    if len(decisions) != 1:
        yield f"{name}:{element_id(root)}: the file has {len(decisions)} decisions; the engine reads exactly one"
    for decision in decisions:
        if not decision.get("id"):
            yield f"{name}:-: a decision has no id"
        if len(decision.findall(f"{{{ns}}}decisionTable")) != 1:
            yield f"{name}:{element_id(decision)}: the decision needs exactly one decision table"
    for table in tables(root):
        yield from _table_shape(name, table, ns)


def _table_shape(name: str, table: Any, ns: str) -> Iterator[str]:
    inputs, outputs = table.findall(f"{{{ns}}}input"), table.findall(f"{{{ns}}}output")
    if not outputs:
        yield f"{name}:{element_id(table)}: the decision table has no output column"
    for output in outputs:
        if not (output.get("name") or "").strip():
            yield f"{name}:{element_id(output)}: output column has no name: name the variable it sets"
    for column in (*inputs, *outputs, *table.findall(f"{{{ns}}}rule")):
        if not column.get("id"):
            yield f"{name}:{element_id(table)}: a {column.tag.rpartition('}')[2]} of the table has no id"
    for rule in table.findall(f"{{{ns}}}rule"):
        cells = rule.findall(f"{{{ns}}}inputEntry"), rule.findall(f"{{{ns}}}outputEntry")
        if (len(cells[0]), len(cells[1])) != (len(inputs), len(outputs)):
            yield (f"{name}:{element_id(rule)}: rule has {len(cells[0])} input and {len(cells[1])} output "
                   f"cells; the table has {len(inputs)} inputs and {len(outputs)} outputs")
        for cell in (*cells[0], *cells[1]):
            if not cell.get("id"):
                yield f"{name}:{element_id(rule)}: a cell of the rule has no id"


def columns(table: Any, ns: str) -> list[tuple[Any, str, str]]:
    """(input element, expression text, typeRef) per input column."""
    found = []
    for column in table.findall(f"{{{ns}}}input"):
        expression = column.find(f"{{{ns}}}inputExpression")
        text = expression.findtext(f"{{{ns}}}text", default="") if expression is not None else ""
        type_ref = (expression.get("typeRef") if expression is not None else None) or column.get("typeRef") or ""
        found.append((column, (text or "").strip(), type_ref.strip()))
    return found


_FEEL_WORDS = {"true": "True", "false": "False", "null": "None"}  # FEEL/JSON spellings Python does not know


def cell_text(cell: Any, ns: str) -> str:
    return (cell.findtext(f"{{{ns}}}text", default="") or "").strip()


def check_dmn_cells(name: str, root: Any) -> Iterator[str]:
    ns = namespace(root)
    if ns not in SUPPORTED:
        return
    for table in tables(root):
        rules = table.findall(f"{{{ns}}}rule")
        for index, column in enumerate(columns(table, ns)):
            cells = [entries[index] for entries in (r.findall(f"{{{ns}}}inputEntry") for r in rules)
                     if len(entries) > index]
            yield from _column_problems(name, column, cells, ns)
        for rule in rules:
            for cell in rule.findall(f"{{{ns}}}outputEntry"):
                text = cell_text(cell, ns)
                if not text:
                    yield (f"{name}:{element_id(cell)}: output cell is empty: say what rule "
                           f"{element_id(rule)} decides (True, False, a number, a quoted text)")
                elif text in _FEEL_WORDS:  # SpiffWorkflow evaluates an output as Python
                    yield (f"{name}:{element_id(cell)}: output cell {text!r} reads a variable {text!r}, which "
                           f"breaks every request rule {element_id(rule)} decides: write {_FEEL_WORDS[text]}")


def _column_problems(name: str, column: tuple[Any, str, str], cells: list[Any], ns: str) -> Iterator[str]:
    element, expression, type_ref = column
    if not expression:
        yield f"{name}:{element_id(element)}: input column has no expression (what does it test?)"
    if any(cell_text(c, ns) not in ("", "-") for c in cells):
        if not type_ref:
            yield (f"{name}:{element_id(element)}: input column has no typeRef; say what it holds "
                   f"(string, number, boolean or date) so its cells can be checked")
        elif type_ref not in KNOWN_TYPES:
            yield (f"{name}:{element_id(element)}: typeRef {type_ref!r} is unknown "
                   f"({', '.join(sorted(KNOWN_TYPES))})")
    for cell in cells:
        problem = cell_problem(cell_text(cell, ns), type_ref)
        if problem:
            yield f"{name}:{element_id(cell)}: {problem}"


def value_part(text: str) -> tuple[str, Any] | None:
    """(operator, parsed value) of a simple cell: ``> 20000``, ``"TRAVEL"``, ``!= 5``; None when not simple."""
    operator = next((op for op in _OPERATORS if text.startswith(op)), "")
    try:
        node = ast.parse(text[len(operator):].strip(), mode="eval").body
    except (SyntaxError, ValueError):
        return None
    return operator, node


def cell_problem(text: str, type_ref: str) -> str | None:
    """What is wrong with an input cell for a column of ``type_ref``, or None."""
    if not text or text == "-" or "?" in text:
        return None
    parsed = value_part(text)
    if parsed is None:
        return None  # not a simple cell; the code rule compiles it
    operator, node = parsed
    shown = one_line(text)
    if isinstance(node, ast.Tuple) and not text.lstrip(" <>=!").startswith("("):
        if operator or type_ref in NUMBER_TYPES:
            return (f"cell {shown!r} is a tuple in Python (a comparison with it is always true): "
                    f"write numbers without thousands separators, e.g. 1000")
        return f"cell {shown!r} is a list of values, which never equals the input: write ? in ({text})"
    if type_ref in NUMBER_TYPES:
        return _number_cell(shown, node)
    if type_ref == "string":
        return _string_cell(shown, operator, node)
    if type_ref == "boolean":
        return _boolean_cell(shown, node)
    return None


def _boolean_cell(shown: str, node: Any) -> str | None:
    if isinstance(node, ast.Name) and node.id.lower() in ("true", "false"):
        return f"cell {shown!r} is not a boolean: write {node.id.capitalize()}"
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return f"cell {shown!r} compares a boolean column with a text, which never matches: write True or False"
    return None


def _number_cell(shown: str, node: Any) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return f"cell {shown!r} compares a number column with a text; write the number unquoted"
    if isinstance(node, ast.Name):
        return f"cell {shown!r} names a variable {node.id!r} in a number column; write a number"
    return None


def _string_cell(shown: str, operator: str, node: Any) -> str | None:
    if isinstance(node, ast.Name):
        return (f"cell {shown!r} is not quoted, so it reads variable {node.id!r} (which breaks every request "
                f"that reaches this table): write \"{node.id}\"")
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return f"cell {shown!r} compares a text column with a number; quote it"
    if operator in ("<", "<=", ">", ">="):
        return f"cell {shown!r} orders texts; a text column compares with == or != only"
    return None
