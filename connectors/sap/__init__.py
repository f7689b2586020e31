"""SAP S/4HANA: journal entries posted through the SOAP service ``JournalEntryCreateRequestConfirmation_In``
(communication scenario SAP_COM_0002) with zeep, and read back through the OData service
``API_JOURNALENTRYITEMBASIC_SRV``. ``docs/erp/sap.md`` explains the mapping, exactly-once and the errors.

Settings (the ``[erp]`` table with ``connector = "sap"``)::

    connector = "sap"
    base_url = "https://my-tenant-api.s4hana.cloud.sap"  # required: the tenant's API host
    user = "BUDGETFLOW_COMM"      # required: the communication user of the SAP_COM_0002 arrangement
    password = "..."              # required: its password (Basic auth; never logged)
    book = "1010"                 # required: the company code when a voucher names none
    voucher_type = "SA"           # AccountingDocumentType when a voucher names none
    logical_system = ""           # OriginalReferenceDocumentLogicalSystem ("" leaves it out)
    created_by_user = ""          # CreatedByUser ("" sends the communication user)
    book_currency = ""            # the company code's currency: needed only for vouchers with an exchange rate
    timeout_seconds = 30          # read timeout of each call (connecting: 3 s)
    page_size = 1000              # OData $top per read-back window
    soap_path = "/sap/bc/srt/scs_ext/sap/journalentrycreaterequestconfi"
    odata_path = "/sap/opu/odata/sap/API_JOURNALENTRYITEMBASIC_SRV"
    dimensions = {cost_center = "CostCenter", department = "ProfitCenter", project = "WBSElement",
                  employee = "AssignmentReference"}   # the defaults; vendor has none; "" unmaps one

A dimension maps to one of the item's account assignments (CostCenter, ProfitCenter, FunctionalArea,
BusinessArea, Segment, OrderID, WBSElement) or to its AssignmentReference; a voucher line carrying a dimension
with no SAP field is refused rather than posted without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.erp import ErpClient
from connectors.sap.client import SapClient
from connectors.sap.settings import SapSettings, read_settings


def connect(settings: Mapping[str, Any]) -> ErpClient:
    """A client for the connection ``settings`` describe; ErpSettingsInvalid names a missing or wrong key."""
    return SapClient(read_settings(settings))


__all__ = ["SapClient", "SapSettings", "connect", "read_settings"]
