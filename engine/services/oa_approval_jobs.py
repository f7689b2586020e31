"""The outbox side of mode 2 (the OA as the approval surface): ``oa/CreateApproval`` and ``oa/GetApproval``.

CreateApproval finds the suite (the diagram's ``vendor``, else the first configured suite, by name, that knows
the applicant and has an ``out`` form for the document's process in the data dictionary), maps the diagram's
``fields`` through that form, creates the approval and links the OA instance to the document (the callback
worker correlates by that link), all before the job reports done. GetApproval reads an instance's status: the
diagram's polling timer calls it because missed callbacks are normal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from connectors.base import ConnectorError
from connectors.oa.http import TokenCache
from engine.domain.errors import OaFormInvalid
from engine.domain.oa_forms import OaForm, outgoing
from engine.oa_settings import OaConnection
from engine.services import oa_approvals
from engine.services.oa_clients import client_for, feishu_for


class ExternalRefs(Protocol):  # engine/persistence/oa_refs.py
    def remember(self, vendor: str, external_id: str, document_no: str, kind: str) -> str: ...
    def forget(self, vendor: str, external_id: str, document_no: str) -> None: ...
    def document_of(self, vendor: str, external_id: str) -> tuple[str, str] | None: ...
    def instance_of(self, document_no: str) -> tuple[int, str, str] | None: ...
    def employee_of(self, vendor: str, oa_id: str) -> str | None: ...


@dataclass(frozen=True)
class OaApprovalJobs:
    connections: Mapping[str, OaConnection]
    tokens: TokenCache
    refs: ExternalRefs
    forms: Callable[[str, str], OaForm | None]  # (vendor, process id) -> its `out` form
    oa_ids: Callable[[list[str], str], dict[str, str]]  # (employee codes, vendor) -> code -> OA user id
    public_url: str = ""  # budgetflow's address: a mapped ``link`` field opens the document there

    def create(self, params: Mapping[str, Any]) -> dict[str, Any]:
        document_no, applicant = str(params["document_no"]), str(params["applicant"])
        found = self.refs.instance_of(document_no)
        if found is None:
            raise ConnectorError("OA_REJECTED", f"document {document_no} does not exist", retryable=False)
        vendor, form, oa_id = self._route(str(params.get("vendor") or ""), applicant, found[1])
        fields = dict(params["fields"]) if isinstance(params.get("fields"), Mapping) else {}
        if self.public_url:
            fields.setdefault("link", f"{self.public_url}/documents/{quote(document_no)}")
        try:
            values = outgoing(form, fields)
        except OaFormInvalid as exc:  # the diagram and the data dictionary disagree: a designer must fix it
            raise ConnectorError("OA_REJECTED", f"{document_no}: {exc}", retryable=False) from exc
        client = client_for(self.connections[vendor], self.tokens)
        if vendor == "feishu":  # Feishu sends an approval's events only once it is subscribed (idempotent)
            feishu_for(self.connections[vendor], self.tokens).subscribe(form.template)
        try:
            instance_id = oa_approvals.create(vendor, client, form, values, applicant=oa_id, key=document_no)
        except ConnectorError as exc:
            if exc.code == "OA_BAD_REQUEST":  # the OA refuses this approval (an unknown applicant, a form its
                # template does not take): the diagram's OA_REJECTED path tells the applicant, nothing to retry
                raise ConnectorError("OA_REJECTED", f"{vendor} refused the approval of {document_no}: {exc}",
                                     retryable=False) from exc
            raise  # busy or away: retried; credentials or an unknown outcome: an incident for an admin
        owner = self.refs.remember(vendor, instance_id, document_no, "approval")
        if owner != document_no:  # cannot happen unless the vendor reuses ids: stop rather than cross documents
            raise ConnectorError("OA_REJECTED", f"{vendor} instance {instance_id} already belongs to {owner}",
                                 retryable=False)
        return {"vendor": vendor, "instance_id": instance_id, "template": form.template}

    def get(self, params: Mapping[str, Any]) -> dict[str, Any]:
        vendor, instance_id = str(params["vendor"]), str(params["instance_id"])
        if vendor not in self.connections:
            raise ConnectorError("OA_NOT_CONFIGURED", f"no {vendor} connection is configured", retryable=False)
        found = oa_approvals.state(vendor, client_for(self.connections[vendor], self.tokens), instance_id)
        return {"vendor": vendor, "instance_id": instance_id, "status": found.status, "terminal": found.terminal}

    def _route(self, vendor: str, applicant: str, process_id: str) -> tuple[str, OaForm, str]:
        """(vendor, its out form for the process, the applicant's OA id) or OA_NOT_CONFIGURED saying why."""
        candidates = [vendor] if vendor else sorted(self.connections)
        reasons = []
        for name in candidates:
            if name not in self.connections:
                reasons.append(f"{name} is not configured")
                continue
            form = self.forms(name, process_id)
            oa_id = self.oa_ids([applicant], name).get(applicant)
            if form is None:
                reasons.append(f"oa_forms.csv has no 'out' form of {name} for process {process_id}")
            elif oa_id is None:
                reasons.append(f"{applicant} has no {name} user id in the data dictionary")
            else:
                return name, form, oa_id
        raise ConnectorError("OA_NOT_CONFIGURED", "; ".join(reasons) or "no OA suite is configured",
                             retryable=False)
