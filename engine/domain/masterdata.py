"""The data dictionary (主数据): a versioned folder of CSV files plus ``manifest.toml``.

Parsing is pure: the service hands over the files' bytes; this module decodes them,
checks every field and every cross-reference, and returns typed records, or raises
MasterDataInvalid listing *every* problem as ``FILE:ROW:FIELD: what is wrong``.
ROW is the CSV line number (the header is line 1); ``-`` stands for "the whole
file" (ROW) or "the whole row" (FIELD). The format is documented in
docs/master-data.md.

Each version is a complete snapshot, so every reference must resolve inside the
folder itself.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from enum import StrEnum

from engine.domain.budget_line import BudgetLineKey, LinePolicy
from engine.domain.errors import MasterDataInvalid
from engine.domain.masterdata_fields import DICTIONARY_FILES, LAYOUTS, MANIFEST, MANIFEST_KEYS, OA_ID_FIELDS, VERSION

# ---------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class Manifest:
    version: str
    company: str
    company_en: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class CurrencyRecord:
    row: int
    code: str
    name: str
    minor_units: int


@dataclass(frozen=True, slots=True)
class OrgUnitRecord:
    row: int
    code: str
    name: str
    name_en: str | None
    parent_code: str | None
    manager_code: str | None
    active: bool


@dataclass(frozen=True, slots=True)
class EmployeeRecord:
    row: int
    code: str
    name: str
    email: str | None
    org_unit_code: str
    roles: tuple[str, ...]
    dingtalk_userid: str | None
    wecom_userid: str | None
    feishu_open_id: str | None
    erp_employee_code: str | None
    erp_vendor_code: str | None
    active: bool


@dataclass(frozen=True, slots=True)
class ExpenseSubjectRecord:
    row: int
    code: str
    name: str
    name_en: str | None
    gl_kingdee: str | None
    gl_yonyou: str | None
    gl_sap: str | None
    tax_treatment: str
    active: bool


@dataclass(frozen=True, slots=True)
class CostCenterRecord:
    row: int
    code: str
    name: str
    org_unit_code: str
    active: bool


@dataclass(frozen=True, slots=True)
class BudgetLineRecord:
    row: int
    key: BudgetLineKey
    amount: Decimal
    currency: str
    policy: LinePolicy


@dataclass(frozen=True, slots=True)
class MasterData:
    """One validated dictionary version; ``org_units`` lists parents before their children."""

    manifest: Manifest
    checksum: str
    currencies: tuple[CurrencyRecord, ...]
    org_units: tuple[OrgUnitRecord, ...]
    employees: tuple[EmployeeRecord, ...]
    subjects: tuple[ExpenseSubjectRecord, ...]
    cost_centers: tuple[CostCenterRecord, ...]
    budget_lines: tuple[BudgetLineRecord, ...]


# ---------------------------------------------------------------- import outcome


class Change(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(slots=True)
class EntityCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, change: Change) -> None:
        setattr(self, change.value, getattr(self, change.value) + 1)


ENTITIES = ("currencies", "org_units", "employees", "expense_subjects", "cost_centers", "budget_lines")


@dataclass(slots=True)
class ImportSummary:
    version: str
    company: str
    checksum: str
    counts: dict[str, EntityCounts] = field(default_factory=lambda: {name: EntityCounts() for name in ENTITIES})
    allocations: int = 0  # ALLOCATE entries booked for new lines
    adjustments: int = 0  # ADJUST entries booked for changed amounts
    recorded: bool = False  # whether a master_data_import row was written

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated for c in self.counts.values())

    def to_json(self) -> str:
        counts = {name: asdict(c) for name, c in self.counts.items()}
        return json.dumps({"counts": counts, "allocations": self.allocations, "adjustments": self.adjustments},
                          sort_keys=True)


def require_unchanged_version(data: MasterData, imported_checksum: str | None) -> None:
    """A version, once imported, is frozen: other content must come under a new version."""
    if imported_checksum is not None and imported_checksum != data.checksum:
        raise MasterDataInvalid([
            f"{MANIFEST}:-:version: version {data.manifest.version} was already imported with different "
            "content; give this dictionary a new version"
        ])



# ---------------------------------------------------------------- reading


class _Problems(list[tuple[str, int | str, str, str]]):
    def add(self, file: str, row: int | str, column: str, message: str) -> None:
        self.append((file, row, column, message))

    def lines(self) -> list[str]:
        """``FILE:ROW:FIELD: message``, in dictionary file order, then by row, then by column."""
        def order(p: tuple[str, int | str, str, str]) -> tuple[int, int, int]:
            file, row, column = p[:3]
            file_rank = DICTIONARY_FILES.index(file) if file in DICTIONARY_FILES else -1
            columns = [c.name for c in LAYOUTS.get(file, ())]
            return file_rank, row if isinstance(row, int) else 0, columns.index(column) if column in columns else -1
        return [f"{file}:{row}:{column}: {message}" for file, row, column, message in sorted(self, key=order)]


@dataclass(slots=True)
class _Row:
    file: str
    line: int
    values: dict[str, object]  # the fields that parsed; a wrong field is absent
    complete: bool = True
    aligned: bool = True  # False when the row's values do not match the header's columns


def checksum(files: Mapping[str, bytes]) -> str:
    """sha256 over the dictionary's files (names and bytes), in name order."""
    digest = hashlib.sha256()
    for name in sorted(n for n in files if n in DICTIONARY_FILES):
        digest.update(f"{name}\0{len(files[name])}\0".encode())
        digest.update(files[name])
    return digest.hexdigest()


def _decode(name: str, data: bytes, problems: _Problems) -> str | None:
    try:
        return data.decode("utf-8-sig")  # Excel writes a BOM; accept it
    except UnicodeDecodeError as exc:
        problems.add(name, "-", "-", f"is not UTF-8 text (byte {exc.start} cannot be decoded); save it as UTF-8")
        return None


def _read_table(name: str, data: bytes, problems: _Problems) -> list[_Row] | None:
    """The file's rows; None when the file as a whole is unusable (then nothing is checked against it)."""
    text = _decode(name, data, problems)
    if text is None:
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[_Row] = []
    try:
        header = [h.strip() for h in next(reader, [])]
        if not _header_usable(name, header, problems):
            return None
        start = reader.line_num + 1
        for record in reader:
            if any(cell.strip() for cell in record):  # blank lines are allowed and skipped
                rows.append(_parse_row(name, start, header, record, problems))
            start = reader.line_num + 1
    except csv.Error as exc:
        problems.add(name, reader.line_num, "-", f"is not valid CSV: {exc}")
        return None
    return rows


def _header_usable(name: str, header: list[str], problems: _Problems) -> bool:
    """Unknown columns are errors, yet the known ones can still be read; optional columns may be left out."""
    known = [c.name for c in LAYOUTS[name]]
    if not any(header):
        problems.add(name, 1, "-", f"has no header line; expected columns: {', '.join(known)}")
        return False
    for column in (h for h in header if h not in known):
        problems.add(name, 1, column or "-", f"unknown column; expected columns: {', '.join(known)}")
    before = len(problems)
    for column in sorted({h for h in header if header.count(h) > 1}):
        problems.add(name, 1, column, "column appears more than once")
    for column in LAYOUTS[name]:
        if column.required and column.name not in header:
            problems.add(name, 1, column.name, "required column is missing")
    return len(problems) == before


def _parse_row(name: str, line: int, header: list[str], record: list[str], problems: _Problems) -> _Row:
    row = _Row(name, line, {})
    if len(record) != len(header):
        hint = " (put a value containing ',' in double quotes)" if len(record) > len(header) else ""
        problems.add(name, line, "-", f"has {len(record)} values but the header has {len(header)} columns{hint}")
        row.complete = row.aligned = False
        return row
    cells = dict(zip(header, (cell.strip() for cell in record), strict=True))
    for column in LAYOUTS[name]:
        text = cells.get(column.name, "")
        if not text:
            if column.required:
                problems.add(name, line, column.name, "is required")
                row.complete = False
            else:
                row.values[column.name] = column.default
            continue
        try:
            row.values[column.name] = column.parse(text)
        except ValueError as exc:
            problems.add(name, line, column.name, str(exc))
            row.complete = False
    return row


def _parse_manifest(data: bytes, problems: _Problems) -> Manifest | None:
    text = _decode(MANIFEST, data, problems)
    try:
        doc = tomllib.loads(text) if text is not None else None
    except tomllib.TOMLDecodeError as exc:
        problems.add(MANIFEST, "-", "-", f"is not valid TOML: {exc}")
        return None
    if doc is None:
        return None
    for key in sorted(set(doc) - MANIFEST_KEYS):
        problems.add(MANIFEST, "-", key, f"unknown key; expected: {', '.join(sorted(MANIFEST_KEYS))}")
    values = {key: _manifest_string(doc, key, problems) for key in sorted(MANIFEST_KEYS)}
    version, company = values.pop("version"), values.pop("company")
    if version is not None and not VERSION.match(version):
        problems.add(MANIFEST, "-", "version", f'{version!r} is not a version: letters, digits, ".", "_" or "-", '
                     'at most 64 characters, e.g. "2026.1"')
        version = None
    return Manifest(version, company, **values) if version and company else None


def _manifest_string(doc: Mapping[str, object], key: str, problems: _Problems) -> str | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        # TOML reads version = 2026.1 as a float; a version is a label, not a number.
        problems.add(MANIFEST, "-", key, f'must be a quoted string, e.g. {key} = "{value}"')
        return None
    text = (value or "").strip() or None
    if text is None and key in _MANIFEST_REQUIRED:
        problems.add(MANIFEST, "-", key, f"is required ({_MANIFEST_REQUIRED[key]})")
    return text


_MANIFEST_REQUIRED = {"version": 'e.g. version = "2026.1"', "company": "the company's legal name"}


# ---------------------------------------------------------------- cross-checks


@dataclass(frozen=True, slots=True)
class _Tables:
    """Each file's rows; None for a file that is missing or unusable as a whole."""

    by_file: Mapping[str, list[_Row] | None]

    def rows(self, name: str) -> list[_Row]:
        return self.by_file[name] or []

    def codes(self, name: str) -> set[object] | None:
        """The codes the file defines; None when unknown, so references to it go unchecked, not all flagged."""
        rows = self.by_file[name]
        if rows is None or not all(row.aligned for row in rows):
            return None
        return {row.values["code"] for row in rows if row.values.get("code")}


def _check_unique(rows: list[_Row], column: str, problems: _Problems, *, report_as: str | None = None) -> None:
    first: dict[object, int] = {}
    for row in rows:
        value = row.values.get(column)
        if value is None:
            continue
        if value in first:
            problems.add(row.file, row.line, report_as or column, f"duplicate {column} {value} "
                         f"(first on row {first[value]})")
        else:
            first[value] = row.line


def _check_refs(rows: list[_Row], column: str, known: Collection[object] | None, target: str,
                problems: _Problems) -> None:
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


def _check_org_tree(tables: _Tables, problems: _Problems) -> None:
    units = tables.rows("org_units.csv")
    _check_refs(units, "parent_code", tables.codes("org_units.csv"), "org_units.csv", problems)
    _check_refs(units, "manager_code", tables.codes("employees.csv"), "employees.csv", problems)
    rows = {str(row.values["code"]): row for row in units if row.values.get("code")}
    parent_of = {code: _str_or_none(row.values.get("parent_code")) for code, row in rows.items()}
    for cycle in _find_cycles(parent_of):
        first = min(cycle, key=lambda code: rows[code].line)
        loop = " → ".join([*cycle[cycle.index(first):], *cycle[:cycle.index(first)], first])
        problems.add("org_units.csv", rows[first].line, "parent_code", f"the org tree has a cycle: {loop}")


def _check_employees(tables: _Tables, problems: _Problems) -> None:
    employees = tables.rows("employees.csv")
    _check_refs(employees, "org_unit_code", tables.codes("org_units.csv"), "org_units.csv", problems)
    for column in OA_ID_FIELDS:  # one person per OA account, or approvals reach the wrong person
        _check_unique(employees, column, problems)


def _check_budget_lines(tables: _Tables, problems: _Problems) -> None:
    lines = tables.rows("budget_lines.csv")
    for column, target in (("org_unit_code", "org_units.csv"), ("cost_center_code", "cost_centers.csv"),
                           ("subject_code", "expense_subjects.csv"), ("currency", "currencies.csv")):
        _check_refs(lines, column, tables.codes(target), target, problems)
    minor_units = {row.values["code"]: row.values.get("minor_units") for row in tables.rows("currencies.csv")}
    for row in lines:
        _check_line_holder(row, problems)
        _check_amount_scale(row, minor_units, problems)
    _check_unique(lines, "line_key", problems, report_as="-")


def _check_line_holder(row: _Row, problems: _Problems) -> None:
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


def _check_amount_scale(row: _Row, minor_units: Mapping[object, object], problems: _Problems) -> None:
    amount, currency = row.values.get("amount"), row.values.get("currency")
    places = minor_units.get(currency)
    if not isinstance(amount, Decimal) or not isinstance(places, int):
        return
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        problems.add(row.file, row.line, "amount", f"{amount} has more than {places} decimal places for {currency}")


def _cross_check(tables: _Tables, problems: _Problems) -> None:
    for name in ("currencies.csv", "org_units.csv", "employees.csv", "expense_subjects.csv", "cost_centers.csv"):
        _check_unique(tables.rows(name), "code", problems)
    _check_org_tree(tables, problems)
    _check_employees(tables, problems)
    _check_refs(tables.rows("cost_centers.csv"), "org_unit_code", tables.codes("org_units.csv"), "org_units.csv",
                problems)
    _check_budget_lines(tables, problems)


# ---------------------------------------------------------------- the whole folder


def parse_dictionary(files: Mapping[str, bytes]) -> MasterData:
    """Validate a dictionary folder's files (name → bytes); raise MasterDataInvalid listing every problem."""
    problems = _Problems()
    for name in sorted(n for n in files if n.lower().endswith(".csv") and n not in LAYOUTS):
        problems.add(name, "-", "-", f"is not part of the data dictionary; expected files: {', '.join(LAYOUTS)}")
    for name in (n for n in DICTIONARY_FILES if n not in files):
        problems.add(name, "-", "-", "required file is missing")
    manifest = _parse_manifest(files[MANIFEST], problems) if MANIFEST in files else None
    tables = _Tables({name: _read_table(name, files[name], problems) if name in files else None
                      for name in LAYOUTS})
    _cross_check(tables, problems)
    if problems or manifest is None:
        raise MasterDataInvalid(problems.lines())
    return _build(manifest, checksum(files), tables)


def _build(manifest: Manifest, digest: str, tables: _Tables) -> MasterData:
    def records(name: str, cls: type) -> tuple:  # type: ignore[type-arg]
        return tuple(cls(row=row.line, **row.values) for row in tables.rows(name))

    return MasterData(
        manifest=manifest, checksum=digest,
        currencies=records("currencies.csv", CurrencyRecord),
        org_units=_parents_first(records("org_units.csv", OrgUnitRecord)),
        employees=records("employees.csv", EmployeeRecord),
        subjects=records("expense_subjects.csv", ExpenseSubjectRecord),
        cost_centers=records("cost_centers.csv", CostCenterRecord),
        budget_lines=tuple(_budget_line(row) for row in tables.rows("budget_lines.csv")),
    )


def _budget_line(row: _Row) -> BudgetLineRecord:
    v = row.values
    return BudgetLineRecord(
        row=row.line, key=v["key"], amount=v["amount"], currency=v["currency"],  # type: ignore[arg-type]
        policy=LinePolicy(v["control_mode"], v["tolerance_pct"]),  # type: ignore[arg-type]
    )


def _parents_first(units: tuple[OrgUnitRecord, ...]) -> tuple[OrgUnitRecord, ...]:
    parent_of = {u.code: u.parent_code for u in units}

    def depth(code: str | None) -> int:
        return 0 if code is None else 1 + depth(parent_of[code])

    return tuple(sorted(units, key=lambda u: (depth(u.parent_code), u.row)))
