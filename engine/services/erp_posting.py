"""erp/PostVoucher: build the claim's voucher from the posting rules, post it once, record what the ERP answered.

The voucher's idempotency key is the claim's document number: every attempt of every posting job of one claim
(a retry after a timeout, finance's retry after fixing a mapping) carries the same key, so the ERP can hold at
most one voucher per claim. A job's second and later attempts ask the connector to look the key up before
posting (``resolve_first``): the first may have reached the ERP and lost its answer.

Failures: a voucher the rules cannot build, or one the ERP refuses, is ``ERP_POST_FAILED`` with the field errors,
and goes to finance's task in the diagram; an ERP that is down is retried by the outbox, then an incident.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from connectors.base import ConnectorError
from connectors.erp import POST_FAILED, ErpClient, VoucherDraft
from engine.domain.errors import InvalidAmount
from engine.domain.posting import (
    LOCAL_RULE,
    DraftFacts,
    PostingInvalid,
    PostingRule,
    SubjectAccount,
    build_voucher,
    input_vat_by_account,
)
from engine.services.outbox import Completed
from engine.services.ports import UnitOfWork

log = logging.getLogger(__name__)
CACHE_SECONDS = 60.0  # posting rules and the chart are reread this often (and at once after a refusal)


@dataclass
class PostingSources:
    """Where posting reads the dictionary (the engine passes database reads; tests may pass their own)."""

    rule: Callable[[str], PostingRule | None]  # erp -> its posting_rules.csv row
    subjects: Callable[[str], Mapping[str, SubjectAccount]]  # erp -> subject code -> account
    # applicant code, currency, document number -> the claim's facts (one read); None: an unknown applicant
    facts: Callable[[str, str, str], DraftFacts | None]


@dataclass
class VoucherPosting:
    erp: ErpClient
    sources: PostingSources
    today: Callable[[], date]
    _cache: dict[str, tuple[float, Any]] = field(default_factory=dict)

    def post(self, params: Mapping[str, Any], *, attempt: int = 1) -> Completed:
        """Post the claim's voucher; the result carries budgetflow's record of it (``erp_voucher``), written by
        the outbox in the transaction that marks the job done. A worker that dies before that commit leaves no
        record: the job's retry finds the voucher in the ERP (``resolve_first``) and records it then."""
        draft = self.draft(params)
        try:
            posted = self.erp.post_voucher(draft, idempotency_key=draft.document_no, resolve_first=attempt > 1)
        except ConnectorError as exc:
            if exc.code == POST_FAILED:
                self._cache.clear()  # finance fixes the mapping next: the retry must read the fix
            raise
        vat = input_vat_by_account(params.get("lines") or [], self._subjects(), self._rule() or LOCAL_RULE)
        erp, posting_date = self.erp.name, draft.posting_date or self.today()
        log.info("voucher %s for %s in %s%s", posted.voucher_no, draft.document_no, erp,
                 " (found, not posted again)" if posted.replayed else "")

        def record(uow: UnitOfWork) -> None:
            uow.erp_vouchers.record(erp, draft.document_no, draft, posted, posting_date, vat)

        return Completed({"voucher_no": posted.voucher_no, "replayed": posted.replayed, "erp": erp}, write=record)

    def draft(self, params: Mapping[str, Any]) -> VoucherDraft:
        """The voucher the claim would post now (also the finance page's preview); ERP_POST_FAILED if it
        cannot be built, naming each field."""
        try:
            return self._build(params)
        except PostingInvalid as exc:
            self._cache.clear()
            raise ConnectorError(POST_FAILED, f"voucher for {params.get('document_no')}: {exc}",
                                 errors=exc.errors, vendor=self.erp.name) from exc
        except InvalidAmount as exc:
            raise ConnectorError(POST_FAILED, str(exc), errors=[{"field": "lines", "line": None,
                                                                 "message": str(exc)}]) from exc

    def _build(self, params: Mapping[str, Any]) -> VoucherDraft:
        document_no, currency = str(params.get("document_no", "")), str(params.get("currency") or "CNY")
        rule = self._rule()
        if rule is None:
            raise PostingInvalid([{"field": "posting_rules.csv", "line": None,
                                   "message": f"the data dictionary has no posting rule for the {self.erp.name} ERP"}])
        applicant_code = str(params.get("applicant", ""))
        facts = self.sources.facts(applicant_code, currency, document_no)
        if facts is None:
            raise PostingInvalid([{"field": "applicant", "line": None,
                                   "message": f"employee {applicant_code!r} is not in the data dictionary"}])
        lines = params.get("lines") or []
        if not isinstance(lines, list):
            raise PostingInvalid([{"field": "lines", "line": None, "message": "is not a list of claim lines"}])
        return build_voucher(document_no=document_no, currency=currency, lines=lines, rule=rule,
                             subjects=self._subjects(), applicant=facts.applicant,
                             minor_units=facts.minor_units or 2, attachments=facts.attachments,
                             posting_date=self.today())

    def rule(self) -> PostingRule | None:
        """The posting rule this ERP's vouchers are built by (None: the dictionary has none for it)."""
        return self._rule()

    def _rule(self) -> PostingRule | None:
        rule: PostingRule | None = self._cached(f"rule:{self.erp.name}", lambda: self.sources.rule(self.erp.name))
        return rule

    def _subjects(self) -> Mapping[str, SubjectAccount]:
        found: Mapping[str, SubjectAccount] = self._cached(f"subjects:{self.erp.name}",
                                                           lambda: self.sources.subjects(self.erp.name))
        return found

    def _cached(self, name: str, read: Callable[[], Any]) -> Any:
        now = time.monotonic()
        found = self._cache.get(name)
        if found is None or now - found[0] > CACHE_SECONDS:
            found = (now, read())
            self._cache[name] = found
        return found[1]
