"""The SAP connection's settings, read once and checked, so a worker refuses a half-read configuration.

Keys (one TOML table; ``connectors/sap/__init__.py`` and ``docs/erp/sap.md`` show an example):
``base_url``, ``user``, ``password``, ``book`` are required; the rest have defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.erp import DIMENSIONS
from connectors.erp_registry import ErpSettingsInvalid, require

WHERE = "ERP settings [sap]"
SOAP_PATH = "/sap/bc/srt/scs_ext/sap/journalentrycreaterequestconfi"
ODATA_PATH = "/sap/opu/odata/sap/API_JOURNALENTRYITEMBASIC_SRV"
# Where a neutral dimension can go: the journal entry item's account assignment, or the item's Assignment
# (ZUONR) field. The OData read-back names these fields the same way.
ACCOUNT_ASSIGNMENT_FIELDS = ("CostCenter", "ProfitCenter", "FunctionalArea", "BusinessArea", "Segment", "OrderID",
                             "WBSElement")
ITEM_FIELDS = ("AssignmentReference",)
DEFAULT_DIMENSIONS = {"cost_center": "CostCenter", "department": "ProfitCenter", "project": "WBSElement",
                      "employee": "AssignmentReference"}  # vendor: no default (a supplier is a CreditorItem in SAP)


@dataclass(frozen=True)
class SapSettings:
    base_url: str
    user: str
    password: str = field(repr=False)
    book: str  # the default company code
    voucher_type: str = "SA"  # AccountingDocumentType when the draft names none
    logical_system: str = ""  # OriginalReferenceDocumentLogicalSystem; "" leaves it out
    created_by_user: str = ""  # CreatedByUser; "" sends the communication user
    book_currency: str = ""  # the company code's currency, needed only for drafts with an exchange rate
    timeout_seconds: float = 30.0
    page_size: int = 1000  # OData $top
    soap_path: str = SOAP_PATH
    odata_path: str = ODATA_PATH
    dimensions: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_DIMENSIONS))

    @property
    def soap_url(self) -> str:
        return self.base_url + self.soap_path

    @property
    def odata_url(self) -> str:
        return self.base_url + self.odata_path


def read_settings(settings: Mapping[str, Any]) -> SapSettings:
    """``settings`` checked; ErpSettingsInvalid names the first key that is missing or wrong."""
    return SapSettings(
        base_url=require(settings, "base_url", where=WHERE).rstrip("/"),
        user=require(settings, "user", where=WHERE),
        password=require(settings, "password", where=WHERE),
        book=require(settings, "book", where=WHERE),
        voucher_type=_text(settings, "voucher_type", "SA"),
        logical_system=_text(settings, "logical_system", ""),
        created_by_user=_text(settings, "created_by_user", ""),
        book_currency=_text(settings, "book_currency", ""),
        timeout_seconds=_positive(settings, "timeout_seconds", 30.0),
        page_size=_page_size(settings.get("page_size", 1000)),
        soap_path=_path(settings, "soap_path", SOAP_PATH),
        odata_path=_path(settings, "odata_path", ODATA_PATH),
        dimensions=_dimensions(settings.get("dimensions")),
    )


def _text(settings: Mapping[str, Any], key: str, default: str) -> str:
    value = settings.get(key, default)
    if not isinstance(value, str):
        raise ErpSettingsInvalid(f"{WHERE}: {key} must be text")
    return value.strip()


def _path(settings: Mapping[str, Any], key: str, default: str) -> str:
    value = _text(settings, key, default)
    if not value.startswith("/"):
        raise ErpSettingsInvalid(f"{WHERE}: {key} must start with /")
    return value.rstrip("/")


def _positive(settings: Mapping[str, Any], key: str, default: float) -> float:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ErpSettingsInvalid(f"{WHERE}: {key} must be a positive number")
    return float(value)


def _page_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ErpSettingsInvalid(f"{WHERE}: page_size must be a whole number of at least 1")
    return value


def _dimensions(table: Any) -> dict[str, str]:
    """The defaults, overridden by ``dimensions = {department = "CostCenter", ...}`` ("" unmaps one)."""
    if table is None:
        return dict(DEFAULT_DIMENSIONS)
    if not isinstance(table, Mapping):
        raise ErpSettingsInvalid(f"{WHERE}: dimensions must be a table of neutral name = SAP field")
    mapped = dict(DEFAULT_DIMENSIONS)
    for name, target in table.items():
        if name not in DIMENSIONS:
            raise ErpSettingsInvalid(f"{WHERE}: dimensions.{name}: not one of {', '.join(DIMENSIONS)}")
        if not isinstance(target, str) or (target and target not in (*ACCOUNT_ASSIGNMENT_FIELDS, *ITEM_FIELDS)):
            raise ErpSettingsInvalid(f"{WHERE}: dimensions.{name} must be one of "
                                     f"{', '.join((*ACCOUNT_ASSIGNMENT_FIELDS, *ITEM_FIELDS))} (or \"\")")
        mapped[name] = target
    mapped = {name: target for name, target in mapped.items() if target}
    if len(set(mapped.values())) != len(mapped):
        raise ErpSettingsInvalid(f"{WHERE}: dimensions: two neutral names map to the same SAP field")
    return mapped
