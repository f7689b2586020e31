"""``SapEmulator``: SAP S/4HANA's journal-entry SOAP service and its OData read-back, on loopback."""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from connectors.emulators.base import Clock, json_response
from connectors.emulators.erp_base import ErpEmulator
from connectors.emulators.sap import odata
from connectors.emulators.sap.envelope import EntryIn, LogItem, Malformed, confirmation, fault, read_request
from connectors.emulators.sap.validation import errors
from connectors.erp import VoucherLine

USER = "BUDGETFLOW_COMM"
PASSWORD = "Welcome-to-S4-2026"  # noqa: S105 - the emulator's demo communication user, not a real secret
COMPANY_CODES = ("1010",)
DEMO_ACCOUNTS = ("6602010000", "6602020000", "6602030000", "6602040000", "2241000000", "2221010100", "1002000000")
SESSION_TTL = 1800.0  # seconds of the emulator's clock a SAP_SESSIONID cookie stays good
SESSION_COOKIE = "SAP_SESSIONID_S4H_100"
SOAP_PATH = "/sap/bc/srt/scs_ext/sap/journalentrycreaterequestconfi"
ODATA_SET = "/sap/opu/odata/sap/API_JOURNALENTRYITEMBASIC_SRV/A_JournalEntryItemBasic"
DIMENSION_FIELDS = {"cost_center": "CostCenter", "department": "ProfitCenter", "project": "WBSElement",
                    "employee": "AssignmentReference"}  # the book's neutral names as SAP fields


class SapEmulator(ErpEmulator):
    """One S/4HANA tenant with company codes, a chart of accounts and (optionally) a list of cost centers."""

    book_prefix = "10"  # AccountingDocument numbers: 10 digits, 1000000001 on
    rules = [
        Rule(SOAP_PATH, endpoint="journal_entry_post", methods=["POST"]),
        Rule(ODATA_SET, endpoint="journal_entry_items", methods=["GET"]),
    ]

    def __init__(self, clock: Clock | None = None, *, accounts: Iterable[str] = DEMO_ACCOUNTS,
                 company_codes: Iterable[str] = COMPANY_CODES, cost_centers: Iterable[str] = (),
                 user: str = USER, password: str = PASSWORD, max_page: int = 100,
                 dimension_fields: Mapping[str, str] | None = None, refuse_stale_sessions: bool = False,
                 seed: int = 7) -> None:
        super().__init__(clock, accounts=accounts, seed=seed)
        self.company_codes = list(company_codes)
        self.cost_centers = set(cost_centers)
        self.credentials = (user, password)
        self.max_page = max_page
        self.dimension_fields = dict(dimension_fields or DIMENSION_FIELDS)
        self.sessions: dict[str, float] = {}  # session id -> expiry on the emulator's clock
        self.logons = 0  # sessions opened: each call without a good session cookie logs on again
        # True: a call with an expired or unknown session cookie gets 401 even with good Basic credentials
        # (what some SAP systems answer to a stale session); False: it logs on again from them.
        self.refuse_stale_sessions = refuse_stale_sessions

    # -- the vendor's endpoints ------------------------------------------------------------------------------

    def journal_entry_post(self, request: Request) -> Response:
        stopped = self.before_commit(request)
        if stopped is not None:
            return stopped
        session = self._logon(request)
        if session is None:
            return self.unauthorized()
        try:
            entry = read_request(request.get_data())
        except Malformed as exc:
            return self._soap(fault("Client", f"Deserialization failed: {exc}"), 500, session)
        found = errors(entry, company_codes=self.company_codes, cost_centers=self.cost_centers,
                       rejected_account=self.rejected_account)
        company = entry.header["CompanyCode"]
        if found:
            return self._soap(confirmation("0000000000", company, "0000", found), 200, session)
        number = self._commit(entry)
        note = f"Document posted successfully: BKPFF {number}{company}{entry.posting_date.year} S4HCLNT100"
        answer = confirmation(number, company, str(entry.posting_date.year), [LogItem("605(RW)", 1, note)])
        return self.after_commit(request, self._soap(answer, 200, session))

    def journal_entry_items(self, request: Request) -> Response:
        if self.is_down():
            return self._odata_error("SY/530", "Service unavailable", 503)
        session = self._logon(request)
        if session is None:
            return self.unauthorized()
        keyed = odata.reference_filter(request.args.get("$filter", ""))  # the look-up by key: the book's index
        vouchers = self.book.by_reference(keyed) if keyed is not None else self.book.all()
        every = [row for voucher in vouchers
                 for row in odata.rows(voucher, self.dimension_fields, self.company_codes[0])]
        try:
            found = odata.matching(every, request.args.get("$filter", ""))
            body = odata.page(found, request.args, request.base_url, self.max_page)
        except odata.BadQuery as exc:
            return self._odata_error("/IWBEP/CM_MGW_RT/022", str(exc), 400)
        response = json_response({"d": body})
        self._set_session(response, session)
        return response

    # -- what SAP answers around them ------------------------------------------------------------------------

    def server_error(self) -> Response:
        stamp = datetime.fromtimestamp(self.clock.now(), UTC).strftime("%Y%m%d%H%M%S")
        text = ("Web service processing error; more details in the web service error log on provider side "
                f"(UTC timestamp {stamp}; Transaction ID {secrets.token_hex(16).upper()})")
        return Response(fault("Server", text), status=500, content_type="text/xml; charset=utf-8")

    def unauthorized(self) -> Response:
        return Response("<html><body><h1>Logon failed</h1></body></html>", status=401,
                        content_type="text/html; charset=utf-8",
                        headers={"WWW-Authenticate": 'Basic realm="SAP NetWeaver Application Server [S4H/100]"'})

    def _logon(self, request: Request) -> str | None:
        """The caller's session id: its cookie while good, else a new one after checking the Basic credentials
        (budgetflow sends them with every call, so an expired session costs it nothing but a new logon)."""
        now = self.clock.now()
        with self.lock:
            cookie = request.cookies.get(SESSION_COOKIE, "")
            if self.sessions.get(cookie, 0) > now:
                return cookie
            if cookie and self.refuse_stale_sessions:
                return None
            if not self._basic_ok(request):
                return None
            session = secrets.token_urlsafe(24)
            self.sessions[session] = now + SESSION_TTL
            self.logons += 1
            return session

    def _basic_ok(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return secrets.compare_digest(f"{user}:{password}", ":".join(self.credentials))

    def _set_session(self, response: Response, session: str) -> None:
        response.set_cookie(SESSION_COOKIE, session, httponly=True, path="/")

    def _soap(self, body: bytes, status: int, session: str) -> Response:
        response = Response(body, status=status, content_type="text/xml; charset=utf-8")
        self._set_session(response, session)
        return response

    def _odata_error(self, code: str, message: str, status: int) -> Response:
        return json_response({"error": {"code": code, "message": {"lang": "en", "value": message}}}, status)

    def _commit(self, entry: EntryIn) -> str:
        fields = {target: name for name, target in self.dimension_fields.items()}
        lines = [VoucherLine(item.gl_account, item.amount if item.amount > 0 else Decimal(0),
                             -item.amount if item.amount < 0 else Decimal(0), item.text,
                             tuple(sorted((fields.get(k, k), v) for k, v in item.fields.items())))
                 for item in entry.items]
        voucher = self.book.add(
            reference=entry.header.get("DocumentReferenceID", ""), posting_date=entry.posting_date,
            currency=entry.items[0].currency, lines=lines, status="posted",
            extra={"company_code": entry.header["CompanyCode"], "document_type": entry.header["AccountingDocumentType"],
                   "header_text": entry.header.get("DocumentHeaderText", ""),
                   "created_by": entry.header["CreatedByUser"]})
        return voucher.voucher_no


