"""Master data import: upserts by natural key and the budget bookings, in one session and one transaction.

Rows are matched by ``code``; a row missing from the file is left alone (ledger
lines and history still point at it; deactivate it with ``active=false``); OA form
mappings and ERP posting rules, which nothing points at, are replaced by the file's. A
budget amount never overwrites a line's balance: a new line gets an ALLOCATE
entry, a changed amount an ADJUST entry for the difference, so the ledger stays
append-only and ``ledger verify`` keeps proving the cached balances. Nothing is
committed here: the service commits, and any exception rolls everything back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from types import TracebackType
from typing import Any, Self, TypeVar

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from engine.domain import budget
from engine.domain.budget import ControlMode, EntryKind, LineState
from engine.domain.errors import BudgetflowError, MasterDataInvalid
from engine.domain.idempotency import MAX_KEY_LENGTH, fingerprint
from engine.domain.identifiers import InvalidIdentifier, identifier_key
from engine.domain.masterdata.fields import OA_DEPT_FIELDS, OA_ID_FIELDS
from engine.domain.masterdata.records import BudgetLineRecord, Change, EntityCounts, ImportSummary, MasterData
from engine.domain.money import Money
from engine.domain.untrusted_text import excerpt
from engine.persistence import ledger_queries
from engine.persistence.lane_repository import row_values as lane_row_values
from engine.persistence.lane_tables import LaneRuleRow, ResourceOwner
from engine.persistence.ledger_repository import SqlLedgerRepository
from engine.persistence.oa_form_repository import fields_json
from engine.persistence.oa_tables import OaForm as OaFormRow
from engine.persistence.posting_rule_repository import row_values
from engine.persistence.posting_tables import PostingRule as PostingRuleRow
from engine.persistence.tables import (
    BudgetLine,
    CostCenter,
    Currency,
    Employee,
    EmployeeRole,
    ExpenseSubject,
    LedgerOperation,
    MasterDataImport,
    OrgUnit,
)
from engine.persistence.types import utcnow

Model = TypeVar("Model", Currency, OrgUnit, Employee, ExpenseSubject, CostCenter)
BUDGET_FILE = "budget_lines.csv"
SOURCE_LENGTH = 500  # master_data_import.source


class SqlMasterDataStore:
    """One import: enter opens the session, ``commit`` ends it well, leaving without commit rolls back."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory

    def __enter__(self) -> Self:
        self.session = self._factory()
        self.ledger = SqlLedgerRepository(self.session)
        self._problems: list[str] = []
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.session.rollback()  # a no-op after commit; undoes a half-done import otherwise
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()

    # ------------------------------------------------------------ import history

    def imported_checksum(self, version: str) -> str | None:
        """The checksum that ``version`` was last imported with, if it ever was."""
        stmt = (select(MasterDataImport.checksum).where(MasterDataImport.version == version)
                .order_by(MasterDataImport.id.desc()).limit(1))
        return self.session.execute(stmt).scalar()

    def was_imported(self, checksum: str) -> bool:
        stmt = select(func.count()).select_from(MasterDataImport).where(MasterDataImport.checksum == checksum)
        return bool(self.session.execute(stmt).scalar_one())

    def record_import(self, summary: ImportSummary, *, source: str) -> None:
        if len(source) > SOURCE_LENGTH:
            source = "…" + source[-(SOURCE_LENGTH - 1):]  # the end of a path says the most
        self.session.add(MasterDataImport(
            version=summary.version, source=source, checksum=summary.checksum, summary=summary.to_json(),
            imported_at=utcnow(),
        ))
        self.session.flush()
        summary.recorded = True

    # ------------------------------------------------------------ the upserts

    def apply(self, data: MasterData) -> ImportSummary:
        """Bring the database in line with ``data``; MasterDataInvalid if the database refuses some of it."""
        summary = ImportSummary(data.manifest.version, data.manifest.company, data.checksum)
        counts = summary.counts
        try:
            self._currencies(data, counts["currencies"])
            units = self._org_units(data, counts["org_units"])
            self._employees(data, units, counts["employees"])
            subjects = self._subjects(data, counts["expense_subjects"])
            centers = self._cost_centers(data, units, counts["cost_centers"])
            ids = {"org_unit": _ids(units), "cost_center": _ids(centers), "subject": _ids(subjects)}
            for record in data.budget_lines:
                counts["budget_lines"].add(self._budget_line(record, ids, summary))
            summary.oa_forms_removed = self._oa_forms(data, counts["oa_forms"])
            summary.posting_rules_removed = self._posting_rules(data, counts["posting_rules"])
            summary.lanes_removed = self._lanes(data, counts["lanes"])
            summary.owners_changed = self._owners(data)
        except (IntegrityError, DataError) as exc:
            # The checks above should leave nothing for the database to catch; say so plainly if it does.
            reason = excerpt(str(exc.orig).strip().splitlines()[0], 200)
            raise MasterDataInvalid([f"-:-:-: the database refused the import: {reason}"]) from None
        if self._problems:
            raise MasterDataInvalid(self._problems)
        return summary

    def _all(self, model: type[Model]) -> dict[str, Model]:
        return {row.code: row for row in self.session.scalars(select(model))}

    def _upsert(self, existing: dict[str, Model], model: type[Model], values: dict[str, Any]) -> tuple[Model, Change]:
        row = existing.get(values["code"])
        if row is None:
            row = model(**values)
            self.session.add(row)
            self.session.flush()  # children and roles need its id
            existing[row.code] = row
            return row, Change.CREATED
        changed = [name for name, value in values.items() if getattr(row, name) != value]
        for name in changed:
            setattr(row, name, values[name])
        return row, Change.UPDATED if changed else Change.UNCHANGED

    def _currencies(self, data: MasterData, counts: EntityCounts) -> None:
        existing = self._all(Currency)
        for c in data.currencies:
            counts.add(self._upsert(existing, Currency, {"code": c.code, "name": c.name,
                                                         "minor_units": c.minor_units})[1])

    def _org_units(self, data: MasterData, counts: EntityCounts) -> dict[str, OrgUnit]:
        units = self._all(OrgUnit)
        for u in data.org_units:  # parents come first, so a parent's id exists before its children need it
            parent_id = units[u.parent_code].id if u.parent_code else None
            counts.add(self._upsert(units, OrgUnit, {
                "code": u.code, "name": u.name, "name_en": u.name_en, "parent_id": parent_id,
                "manager_code": u.manager_code, "active": u.active,
                **{name: getattr(u, name) for name in OA_DEPT_FIELDS},
            })[1])
        return units

    def _employees(self, data: MasterData, units: dict[str, OrgUnit], counts: EntityCounts) -> None:
        employees = self._all(Employee)
        self._check_oa_ids_free(data, employees)
        if self._problems:  # stop before the unique constraints turn them into a vaguer database error
            raise MasterDataInvalid(self._problems)
        roles = self._roles_by_employee()
        for e in data.employees:
            values = {name: getattr(e, name) for name in (
                "code", "name", "email", *OA_ID_FIELDS, "erp_employee_code", "erp_vendor_code", "active")}
            row, change = self._upsert(employees, Employee, {**values, "org_unit_id": units[e.org_unit_code].id})
            if self._sync_roles(row.id, wanted=set(e.roles), held=roles.get(row.id, set())):
                change = Change.CREATED if change is Change.CREATED else Change.UPDATED
            counts.add(change)
        self.session.flush()

    def _check_oa_ids_free(self, data: MasterData, employees: dict[str, Employee]) -> None:
        """An OA account held by an employee who is not in the file cannot move to someone else.

        Ids are compared by ``identifier_key`` (without case), as within the file: ``DT_Hanxue`` in the file
        is the account ``dt_hanxue`` stored earlier.
        """
        in_file = {e.code for e in data.employees}
        holders = {(name, _oa_key(getattr(row, name))): code for code, row in employees.items()
                   if code not in in_file for name in OA_ID_FIELDS if getattr(row, name)}
        for e in data.employees:
            for name in OA_ID_FIELDS:
                value = getattr(e, name)
                if value and (holder := holders.get((name, _oa_key(value)))) is not None:
                    self._problems.append(f"employees.csv:{e.row}:{name}: {value} already belongs to "
                                          f"employee {holder} in the database; list {holder} with active=false "
                                          "and a blank id to free it")

    def _roles_by_employee(self) -> dict[int, set[str]]:
        held: dict[int, set[str]] = {}
        for employee_id, role in self.session.execute(select(EmployeeRole.employee_id, EmployeeRole.role_code)):
            held.setdefault(employee_id, set()).add(role)
        return held

    def _sync_roles(self, employee_id: int, *, wanted: set[str], held: set[str]) -> bool:
        """Make the employee's roles exactly ``wanted``; True if anything changed."""
        for role in sorted(wanted - held):
            self.session.add(EmployeeRole(employee_id=employee_id, role_code=role))
        if held - wanted:
            self.session.execute(delete(EmployeeRole).where(
                EmployeeRole.employee_id == employee_id, EmployeeRole.role_code.in_(held - wanted)))
        return wanted != held

    def _subjects(self, data: MasterData, counts: EntityCounts) -> dict[str, ExpenseSubject]:
        subjects = self._all(ExpenseSubject)
        for s in data.subjects:
            values = {name: getattr(s, name) for name in (
                "code", "name", "name_en", "gl_kingdee", "gl_yonyou", "gl_sap", "tax_treatment", "active")}
            counts.add(self._upsert(subjects, ExpenseSubject, values)[1])
        return subjects

    def _cost_centers(self, data: MasterData, units: dict[str, OrgUnit], counts: EntityCounts) -> dict[str, CostCenter]:
        centers = self._all(CostCenter)
        for c in data.cost_centers:
            counts.add(self._upsert(centers, CostCenter, {
                "code": c.code, "name": c.name, "org_unit_id": units[c.org_unit_code].id, "active": c.active,
            })[1])
        self.session.flush()
        return centers

    # ------------------------------------------------------------ OA form mappings

    def _oa_forms(self, data: MasterData, counts: EntityCounts) -> int:
        """Make the stored mappings exactly ``oa_forms.csv``'s (none without it); how many were removed.

        Unlike codes, nothing points at a mapping, so one the file no longer has is deleted: a stale
        mapping would keep turning OA approvals into documents.
        """
        stored = {(row.vendor, row.template): row for row in self.session.scalars(select(OaFormRow))}
        wanted = {(form.vendor, form.template): {"vendor": form.vendor, "template": form.template,
                                                 "direction": form.direction, "process_id": form.process_id,
                                                 "fields": fields_json(form)} for form in data.oa_forms}
        return self._replace_exactly(stored, wanted, OaFormRow, counts)

    # ------------------------------------------------------------ ERP posting rules

    def _posting_rules(self, data: MasterData, counts: EntityCounts) -> int:
        """Make the stored rules exactly ``posting_rules.csv``'s (none without it); how many were removed.

        Like OA form mappings, nothing points at a rule: an ERP the file no longer has loses its rule, so
        nothing is posted there by rules the company has withdrawn.
        """
        stored = {row.erp: row for row in self.session.scalars(select(PostingRuleRow))}
        wanted = {rule.erp: row_values(rule) for rule in data.posting_rules}
        return self._replace_exactly(stored, wanted, PostingRuleRow, counts)

    # ------------------------------------------------------------ lanes and the owners their rules name

    def _lanes(self, data: MasterData, counts: EntityCounts) -> int:
        """Make the stored lane rules exactly ``lanes.csv``'s (none without it: the built-ins apply)."""
        stored = {(row.lane, row.position): row for row in self.session.scalars(select(LaneRuleRow))}
        positions: dict[str, int] = {}
        wanted = {}
        for rule in data.lanes:
            positions[rule.lane] = positions.get(rule.lane, 0) + 1
            wanted[(rule.lane, positions[rule.lane])] = lane_row_values(rule, positions[rule.lane])
        return self._replace_exactly(stored, wanted, LaneRuleRow, counts)

    def _owners(self, data: MasterData) -> bool:
        """Make the stored owners exactly the ``owner`` columns' (budget lines, cost centers); whether any changed."""
        stored = {(row.kind, row.code): row for row in self.session.scalars(select(ResourceOwner))}
        wanted = {("budget_line", line.key.label): line.owner for line in data.budget_lines if line.owner}
        wanted.update({("cost_center", center.code): center.owner for center in data.cost_centers if center.owner})
        counts = EntityCounts()
        removed = self._replace_exactly(stored, {key: {"kind": key[0], "code": key[1], "employee": owner}
                                                 for key, owner in wanted.items()}, ResourceOwner, counts)
        return bool(removed or counts.created or counts.updated)

    def _replace_exactly(self, stored: dict[Any, Any], wanted: dict[Any, dict[str, Any]], make: Callable[..., Any],
                         counts: EntityCounts) -> int:
        """Make the ``stored`` rows (by key) exactly the ``wanted`` values: create, update, delete the rest;
        how many were deleted."""
        for key, values in wanted.items():
            row = stored.pop(key, None)
            if row is None:
                self.session.add(make(**values))
                counts.add(Change.CREATED)
                continue
            changed = [name for name, value in values.items() if getattr(row, name) != value]
            for name in changed:
                setattr(row, name, values[name])
            counts.add(Change.UPDATED if changed else Change.UNCHANGED)
        for row in stored.values():
            self.session.delete(row)
        self.session.flush()
        return len(stored)

    # ------------------------------------------------------------ budget lines

    def _budget_line(self, record: BudgetLineRecord, ids: dict[str, dict[str, int]], summary: ImportSummary) -> Change:
        line, created = self._open_line(record, ids)
        if line.currency != record.currency:
            self._problem(record, "currency", f"budget line {line.label} is kept in {line.currency}; a line's "
                          f"currency cannot change (book a new line, e.g. with a project code, instead)")
            return Change.UNCHANGED
        line, policy_changed = self._set_policy(line, record)
        delta = record.amount - line.budget
        if (policy_changed or delta) and not self._stays_within_control(line, record):
            return Change.UNCHANGED
        if delta:
            kind = EntryKind.ALLOCATE if created else EntryKind.ADJUST
            if not self._book(line, record, delta, kind=kind, version=summary.version):
                return Change.UNCHANGED
            if kind is EntryKind.ALLOCATE:
                summary.allocations += 1
            else:
                summary.adjustments += 1
        if created:
            return Change.CREATED
        return Change.UPDATED if policy_changed or delta else Change.UNCHANGED

    def _open_line(self, record: BudgetLineRecord, ids: dict[str, dict[str, int]]) -> tuple[LineState, bool]:
        line_id = ledger_queries.find_line(self.session, record.key)
        created = line_id is None
        if line_id is None:
            key = record.key
            holders = {"org_unit": ids["org_unit"].get(key.org_unit or ""), "subject": ids["subject"][key.subject],
                       "cost_center": ids["cost_center"].get(key.cost_center or "")}
            line_id = ledger_queries.create_line(self.session, key, ids=holders, currency=record.currency,
                                                 policy=record.policy)
        return self.ledger.lock_line(line_id), created

    def _set_policy(self, line: LineState, record: BudgetLineRecord) -> tuple[LineState, bool]:
        """Control mode and tolerance are settings, not money: they change in place."""
        policy = record.policy
        if (line.control_mode, line.tolerance_pct) == (policy.control_mode, policy.tolerance_pct):
            return line, False
        table = BudgetLine.__table__
        self.session.execute(update(table).where(table.c.id == line.line_id).values(
            control_mode=policy.control_mode.value, tolerance_pct=policy.tolerance_pct))
        return replace(line, control_mode=policy.control_mode, tolerance_pct=policy.tolerance_pct), True

    def _stays_within_control(self, line: LineState, record: BudgetLineRecord) -> bool:
        """A new budget or policy may not leave a FORBID line over-committed (``ledger verify`` would fail)."""
        after = replace(line, budget=record.amount)
        if after.control_mode is not ControlMode.FORBID or after.committed <= after.hard_limit:
            return True
        committed, wanted = Money(after.committed, line.currency), Money(record.amount, line.currency)
        self._problem(record, "amount" if record.amount != line.budget else "control_mode",
                      f"budget line {line.label} already has {committed} reserved or consumed; a budget of {wanted} "
                      f"under FORBID with {after.tolerance_pct.normalize():f}% tolerance would leave it over-committed")
        return False

    def _book(
        self, line: LineState, record: BudgetLineRecord, delta: Decimal, *, kind: EntryKind, version: str
    ) -> bool:
        """Book ``delta`` as ``kind`` (ALLOCATE on a new line, else ADJUST); False, with a problem, if refused."""
        try:
            posting = budget.plan_budget_change(line, Money(delta, line.currency), kind)
        except BudgetflowError as exc:
            self._problem(record, "amount", str(exc))
            return False
        key = self._booking_key(version, line.label)
        self.ledger.append(line, [posting], key=key, document=None,
                           memo=f"master data {version}: budget {Money(record.amount, line.currency)}")
        fp = fingerprint("masterdata_budget", line=line.label, kind=kind.value, amount=delta, budget=record.amount,
                         currency=line.currency)
        result = {"line_id": line.line_id, "budget_after": str(record.amount)}
        self.ledger.store_result(key, kind.value.lower(), fp, result)
        return True

    def _booking_key(self, version: str, label: str) -> str:
        """``masterdata:{version}:{line}``, suffixed ``#n`` when an earlier import of this version used it."""
        base = f"masterdata:{version}:{label}"
        if len(base) > MAX_KEY_LENGTH - 8:  # leave room for the suffix
            base = f"masterdata:{version}:{hashlib.sha256(label.encode()).hexdigest()[:40]}"
        key = LedgerOperation.key
        taken = self.session.execute(select(func.count()).select_from(LedgerOperation).where(
            or_(key == base, key.startswith(f"{base}#", autoescape=True)))).scalar_one()
        return f"{base}#{taken + 1}" if taken else base

    def _problem(self, record: BudgetLineRecord, column: str, message: str) -> None:
        self._problems.append(f"{BUDGET_FILE}:{record.row}:{column}: {message}")


def _oa_key(value: str) -> str:
    try:
        return identifier_key(value)
    except InvalidIdentifier:  # a value stored before ids were checked: compare it as it is
        return value


def _ids(rows: dict[str, Any]) -> dict[str, int]:
    return {code: row.id for code, row in rows.items()}
