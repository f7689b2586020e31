"""A local SAP S/4HANA: the journal-entry SOAP service (SAP_COM_0002) and its OData read-back.

Vendor endpoints (Basic auth with the communication user on every call; a ``SAP_SESSIONID_S4H_100`` cookie is
set and lives ``SESSION_TTL`` seconds of the emulator's clock, after which the next call logs on again from
its Basic credentials, or, with ``refuse_stale_sessions``, is refused with 401; bad credentials: HTTP 401
with SAP's HTML "Logon failed" page):

- ``POST /sap/bc/srt/scs_ext/sap/journalentrycreaterequestconfi``: ``JournalEntryBulkCreateRequest`` in a
  SOAP 1.1 envelope, read with lxml. A message it cannot read is a SOAP Fault (HTTP 500, faultcode
  ``soap-env:Client``, ``connectors/emulators/sap/envelope.py``). A readable one is checked
  (``connectors/emulators/sap/validation.py``: company code known, document type defined, every GL account in
  the chart, cost centers known when the emulator was given a list, amounts non-zero with their sign matching
  S/H, one currency, balanced in it and, when the items carry it, in company code currency) and answered
  HTTP 200 with ``JournalEntryBulkCreateConfirmation``: the new
  AccountingDocument (10 digits, 1000000001 on) and an information log, or ``0000000000`` and error items
  (severity 3; ``TypeID`` SAP's message id, ``ReferenceObjectNodeSequenceID`` the item). **No idempotency**:
  the same request twice posts two entries, as SAP does.
- ``GET /sap/opu/odata/sap/API_JOURNALENTRYITEMBASIC_SRV/A_JournalEntryItemBasic``: one row per item of every
  voucher in the book, with ``$filter``, ``$top``/``$skip`` and server-side paging (``max_page``, ``__next``)
  (``connectors/emulators/sap/odata.py``); a paid voucher's credit items carry ``ClearingDate``.

Faults: the shared ERP switches (``connectors/emulators/erp_base.py``). ``server_error()`` is SAP's HTTP 500
SOAP Fault (faultcode ``soap-env:Server``, "Web service processing error ..."); while down, the OData
service answers HTTP 503. Read-backs never draw the ratio faults, only ``down_for``.
"""

from connectors.emulators.sap.app import (
    COMPANY_CODES,
    DEMO_ACCOUNTS,
    ODATA_SET,
    PASSWORD,
    SESSION_COOKIE,
    SESSION_TTL,
    SOAP_PATH,
    USER,
    SapEmulator,
)

__all__ = ["COMPANY_CODES", "DEMO_ACCOUNTS", "ODATA_SET", "PASSWORD", "SESSION_COOKIE", "SESSION_TTL", "SOAP_PATH",
           "USER", "SapEmulator"]
