"""The records of the data dictionary (主数据), and the outcome of importing one version.

``MasterData`` is what ``parse_dictionary`` (``dictionary.py``) returns once every file and every
cross-reference checked out; ``ImportSummary`` is what the import use case reports back.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from enum import StrEnum

from engine.domain.budget_line import BudgetLineKey, LinePolicy
from engine.domain.lanes import LaneRule
from engine.domain.oa_forms import OaForm
from engine.domain.posting import PostingRule

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
    dingtalk_dept_id: str | None = None  # the unit's department in each OA suite (the org sync)
    wecom_dept_id: str | None = None
    feishu_dept_id: str | None = None


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
    owner: str | None = None  # the employee the cost_center_owner lane rule names


@dataclass(frozen=True, slots=True)
class BudgetLineRecord:
    row: int
    key: BudgetLineKey
    amount: Decimal
    currency: str
    policy: LinePolicy
    owner: str | None = None  # the employee the budget_line_owner lane rule names


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
    oa_forms: tuple[OaForm, ...] = ()  # oa_forms.csv, optional: none without it
    posting_rules: tuple[PostingRule, ...] = ()  # posting_rules.csv, optional: one per ERP, none without it
    lanes: tuple[LaneRule, ...] = ()  # lanes.csv, optional: the built-in lanes apply without it


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


ENTITIES = ("currencies", "org_units", "employees", "expense_subjects", "cost_centers", "budget_lines", "oa_forms",
            "posting_rules", "lanes")


@dataclass(slots=True)
class ImportSummary:
    version: str
    company: str
    checksum: str
    counts: dict[str, EntityCounts] = field(default_factory=lambda: {name: EntityCounts() for name in ENTITIES})
    allocations: int = 0  # ALLOCATE entries booked for new lines
    adjustments: int = 0  # ADJUST entries booked for changed amounts
    recorded: bool = False  # whether a master_data_import row was written
    # OA form mappings and posting rules are replaced, not kept like codes: a template no longer in
    # oa_forms.csv, an ERP no longer in posting_rules.csv, is removed.
    oa_forms_removed: int = 0
    posting_rules_removed: int = 0
    lanes_removed: int = 0  # lane rule rows no longer in lanes.csv (all of them when it is left out)
    owners_changed: bool = False  # an owner column of budget_lines.csv or cost_centers.csv changed

    @property
    def changed(self) -> bool:
        return (self.oa_forms_removed > 0 or self.posting_rules_removed > 0 or self.lanes_removed > 0
                or self.owners_changed or any(c.created or c.updated for c in self.counts.values()))

    def to_json(self) -> str:
        counts = {name: asdict(c) for name, c in self.counts.items()}
        return json.dumps({"counts": counts, "allocations": self.allocations, "adjustments": self.adjustments,
                           "oa_forms_removed": self.oa_forms_removed,
                           "posting_rules_removed": self.posting_rules_removed,
                           "lanes_removed": self.lanes_removed}, sort_keys=True)
