"""A whole dictionary folder, validated into ``MasterData``, or every problem in it.

The service opens the files and hands over a ``Source`` for each; this module has them
streamed, decoded and every field checked (``reading.py``), every cross-reference checked
(``checks.py``), and builds the typed records (``records.py``), or raises MasterDataInvalid
listing *every* problem (see the package docstring for the format of a problem).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import TypeVar

from engine.domain.budget import ControlMode
from engine.domain.budget_line import BudgetLineKey, LinePolicy
from engine.domain.errors import MasterDataInvalid
from engine.domain.masterdata.checks import Tables, cross_check
from engine.domain.masterdata.fields import (
    DICTIONARY_FILES,
    LANES_FILE,
    LAYOUTS,
    MANIFEST,
    OA_FORMS,
    OPTIONAL_FILES,
    POSTING_RULES,
)
from engine.domain.masterdata.lane_checks import build_lanes, check_lanes
from engine.domain.masterdata.oa_form_checks import build_oa_forms, check_oa_forms
from engine.domain.masterdata.posting_rule_checks import build_posting_rules, check_posting_rules
from engine.domain.masterdata.reading import Problems, Row, parse_manifest, read_table
from engine.domain.masterdata.records import (
    BudgetLineRecord,
    CostCenterRecord,
    CurrencyRecord,
    EmployeeRecord,
    ExpenseSubjectRecord,
    Manifest,
    MasterData,
    OrgUnitRecord,
)
from engine.domain.masterdata.source import DictionaryDigest, Source, UnreadableFile, csv_lines, whole_text
from engine.domain.untrusted_text import as_label

R = TypeVar("R")


def require_unchanged_version(data: MasterData, imported_checksum: str | None) -> None:
    """A version, once imported, is frozen: other content must come under a new version."""
    if imported_checksum is not None and imported_checksum != data.checksum:
        raise MasterDataInvalid([
            f"{MANIFEST}:-:version: version {data.manifest.version} was already imported with different "
            "content; give this dictionary a new version"
        ])


def parse_dictionary(files: Mapping[str, Source], *, unexpected: Iterable[str] = ()) -> MasterData:
    """Validate a dictionary folder; raise MasterDataInvalid listing every problem.

    ``files`` holds the dictionary files found (name → opened Source); ``unexpected`` names other ``*.csv``
    files in the folder, which are errors and are never read. Files are read in name order, each once,
    so the checksum is computed as they stream past.
    """
    problems = Problems()
    for name in sorted(unexpected):
        problems.add(as_label(name), "-", "-",
                     f"is not part of the data dictionary; expected files: {_expected_files()}")
    for name in (n for n in DICTIONARY_FILES if n not in files and n not in OPTIONAL_FILES):
        problems.add(name, "-", "-", "required file is missing")
    digest = DictionaryDigest()
    manifest, read = None, dict.fromkeys(LAYOUTS)
    for name in sorted(n for n in files if n in DICTIONARY_FILES):
        digest.begin(name, files[name].size)
        if name == MANIFEST:
            manifest = _manifest(files[name], digest, problems)
        else:
            read[name] = read_table(name, csv_lines(files[name], digest), problems)
    tables = Tables(read)
    cross_check(tables, problems)
    check_oa_forms(tables.rows(OA_FORMS), problems)
    check_posting_rules(tables, problems)
    check_lanes(tables, problems)
    if problems or manifest is None:
        raise MasterDataInvalid(problems.lines())
    return _build(manifest, digest.hexdigest(), tables)


def _expected_files() -> str:
    required = [name for name in LAYOUTS if name not in OPTIONAL_FILES]
    optional = [name for name in LAYOUTS if name in OPTIONAL_FILES]
    return ", ".join(required) + " and, optionally, " + ", ".join(optional[:-1]) + " and " + optional[-1]


def _manifest(source: Source, digest: DictionaryDigest, problems: Problems) -> Manifest | None:
    try:
        return parse_manifest(whole_text(source, digest), problems)
    except UnreadableFile as exc:
        problems.add(MANIFEST, exc.row, "-", exc.message)
        return None


def _build(manifest: Manifest, digest: str, tables: Tables) -> MasterData:
    def records(name: str, cls: Callable[..., R]) -> tuple[R, ...]:  # a record class, given a row's fields
        return tuple(cls(row=row.line, **row.values) for row in tables.rows(name))

    return MasterData(
        manifest=manifest, checksum=digest,
        currencies=records("currencies.csv", CurrencyRecord),
        org_units=_parents_first(records("org_units.csv", OrgUnitRecord)),
        employees=records("employees.csv", EmployeeRecord),
        subjects=records("expense_subjects.csv", ExpenseSubjectRecord),
        cost_centers=records("cost_centers.csv", CostCenterRecord),
        budget_lines=tuple(_budget_line(row) for row in tables.rows("budget_lines.csv")),
        oa_forms=build_oa_forms(tables.rows(OA_FORMS)),
        posting_rules=build_posting_rules(tables.rows(POSTING_RULES)),
        lanes=build_lanes(tables.rows(LANES_FILE)),
    )


def _budget_line(row: Row) -> BudgetLineRecord:
    return BudgetLineRecord(
        row=row.line, key=_field(row, "key", BudgetLineKey), amount=_field(row, "amount", Decimal),
        currency=_field(row, "currency", str),
        policy=LinePolicy(_field(row, "control_mode", ControlMode), _field(row, "tolerance_pct", Decimal)),
        owner=_optional_text(row, "owner"),
    )


def _optional_text(row: Row, column: str) -> str | None:
    value = row.values.get(column)
    return None if value is None else str(value)


def _field(row: Row, column: str, kind: type[R]) -> R:
    """A field of a row that passed every check, as the type its column parses to."""
    value = row.values[column]
    if not isinstance(value, kind):  # the checks guarantee it; a change that breaks that must not slip through
        raise TypeError(f"{row.file}:{row.line}:{column}: holds a {type(value).__name__}, not a {kind.__name__}")
    return value


def _parents_first(units: tuple[OrgUnitRecord, ...]) -> tuple[OrgUnitRecord, ...]:
    parent_of = {u.code: u.parent_code for u in units}

    def depth(code: str | None) -> int:
        return 0 if code is None else 1 + depth(parent_of[code])

    return tuple(sorted(units, key=lambda u: (depth(u.parent_code), u.row)))
