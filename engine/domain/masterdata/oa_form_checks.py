"""``oa_forms.csv``: the checks across its rows, and the OA form mappings built from them.

Each row maps one OA form control; the rows of one (vendor, template) make one ``OaForm``
(engine/domain/oa_forms.py). ``reading.py`` has parsed every cell by its column; here the rows of a
template must agree on direction and process, name each document field and each OA control once, and
a process may create approvals of at most one template per vendor (``oa/CreateApproval`` must know which).
The process ids are not checked against the deployed diagrams: a dictionary may come before its diagrams.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from engine.domain.masterdata.fields import OA_FORMS
from engine.domain.masterdata.reading import Problems, Row
from engine.domain.oa_forms import OaForm, OaFormField, control_key

Template = tuple[str, str]  # (vendor, template)


def _templates(rows: Iterable[Row]) -> dict[Template, list[Row]]:
    """The rows of each template, in file order; rows whose vendor or template did not parse are left out."""
    grouped: dict[Template, list[Row]] = {}
    for row in rows:
        vendor, template = row.values.get("vendor"), row.values.get("template")
        if isinstance(vendor, str) and isinstance(template, str):
            grouped.setdefault((vendor, template), []).append(row)
    return grouped


def check_oa_forms(rows: list[Row], problems: Problems) -> None:
    for row in rows:
        _check_row(row, problems)
    templates = _templates(rows)
    for (vendor, template), members in templates.items():
        for column in ("direction", "process_id"):
            _check_shared(members, column, f"{vendor} template {template}", problems)
        _check_unique(members, "field", str, problems, skip=lambda row: row.values.get("type") == "ignore")
        _check_unique(members, "oa_field", control_key, problems)
    _check_one_out_template(templates, problems)


def _check_row(row: Row, problems: Problems) -> None:
    kind, direction = row.values.get("type"), row.values.get("direction")
    if kind == "ignore":
        if direction == "out":
            _add(problems, row, "type", "ignore is only for direction in (an OA control budgetflow does not take)")
        if row.values.get("required") is True:
            _add(problems, row, "required", "an ignored OA control cannot be required")
    elif kind is not None and "field" in row.values and row.values["field"] is None:
        _add(problems, row, "field", "is required (only a row of type ignore may leave it blank)")


def _check_shared(members: list[Row], column: str, template: str, problems: Problems) -> None:
    """Every row of a template has the first row's value of ``column``."""
    first = next((row for row in members if row.values.get(column) is not None), None)
    if first is None:
        return
    for row in members:
        value = row.values.get(column)
        if value is not None and value != first.values[column]:
            _add(problems, row, column, f"{template} has {column} {first.values[column]} on row {first.line}; "
                 "all rows of one template share direction and process_id")


def _check_unique(members: list[Row], column: str, key: Callable[[str], str], problems: Problems, *,
                  skip: Callable[[Row], bool] = lambda _row: False) -> None:
    first: dict[str, Row] = {}
    for row in members:
        value = row.values.get(column)
        if not isinstance(value, str) or skip(row):
            continue
        seen = first.setdefault(key(value), row)
        if seen is not row:
            earlier = seen.values[column]
            spelt = f" as {earlier}" if earlier != value else ""
            _add(problems, row, column, f"duplicate {column} {value} in template {row.values['template']} "
                 f"(first on row {seen.line}{spelt})")


def _check_one_out_template(templates: dict[Template, list[Row]], problems: Problems) -> None:
    """``oa/CreateApproval`` finds its template by vendor and process: two would leave it guessing."""
    creating: dict[tuple[str, str], Row] = {}
    for (vendor, _template), members in templates.items():
        head = members[0]
        if head.values.get("direction") != "out" or not isinstance(process := head.values.get("process_id"), str):
            continue
        seen = creating.setdefault((vendor, process), head)
        if seen is not head:
            _add(problems, head, "template", f"process {process} already creates {vendor} approvals of template "
                 f"{seen.values['template']} (row {seen.line}); at most one out template per vendor and process")


def _add(problems: Problems, row: Row, column: str, message: str) -> None:
    problems.add(OA_FORMS, row.line, column, message)
    row.complete = False


def build_oa_forms(rows: list[Row]) -> tuple[OaForm, ...]:
    """The mappings, one per template in the order of their first rows; call only once the checks passed."""
    forms = []
    for (vendor, template), members in _templates(rows).items():
        head = members[0].values
        fields = tuple(OaFormField(field=str(row.values["field"] or ""), oa_field=str(row.values["oa_field"]),
                                   type=str(row.values["type"]), required=bool(row.values["required"]))
                       for row in members)
        forms.append(OaForm(vendor=vendor, template=template, direction=str(head["direction"]),
                            process_id=str(head["process_id"]), fields=fields))
    return tuple(forms)
