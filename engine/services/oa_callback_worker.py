"""The worker's side of OA callbacks: apply each stored event once (modes 1 and 2).

The web process stored every accepted callback and answered the vendor at once; here each pending event is
claimed by one worker and applied:

- an approval budgetflow created (mode 2, linked in ``oa_external_ref``) that the OA decided: the document's
  run gets the ``oa_approval_result`` message. A run not waiting for it yet is tried again a little later; one
  that already moved on (its poll saw the decision first) makes the event ``ignored``;
- an approval made and approved in the OA whose template the data dictionary maps ``in`` (mode 1): its form is
  read from the OA, mapped, and the mapped process starts on the ``oa_approved`` message under a new document
  number, once per OA instance however often the OA reports it;
- anything else (a pending step, a template nobody mapped) is ``ignored``, with the reason kept.

A mapping error (an unmapped or mistyped field, an unknown applicant) marks the event ``failed`` with every
problem named, is audited, and starts nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from connectors.base import ConnectorError
from connectors.oa.http import TokenCache
from engine.domain.errors import BudgetflowError, OaFormInvalid
from engine.domain.oa_forms import OaForm, incoming
from engine.oa_settings import OaConnection
from engine.services import document_numbers, processes
from engine.services.oa_approval_jobs import ExternalRefs
from engine.services.oa_approvals import OaChange, callback_change, state
from engine.services.oa_clients import client_for, feishu_for
from engine.services.ports import UnitOfWorkFactory
from engine.services.steps import NotAllowed

log = logging.getLogger("budgetflow.oa.callbacks")
LEASE = timedelta(seconds=120)  # a worker that died holding an event frees it after this
RETRY_WAITS = (5, 15, 60, 300)  # seconds before trying a not-yet-applicable event again; then it is ignored
BATCH = 50


class CallbackStore(Protocol):  # engine/persistence/oa_stores.py SqlCallbackInbox
    def pending(self, limit: int = 100, *, now: datetime | None = None) -> list[dict[str, Any]]: ...
    def claim(self, callback_id: int, *, now: datetime, lease: timedelta) -> bool: ...
    def retry_later(self, callback_id: int, error: str, *, not_before: datetime) -> None: ...
    def finish(self, callback_id: int, status: str, error: str | None = None) -> None: ...


class NotYet(Exception):
    """The event is fine but its document is not ready for it: try again later."""


@dataclass(frozen=True)
class Verdict:
    status: str  # done, ignored or failed
    reason: str = ""


@dataclass
class OaCallbackWorker:
    inbox: CallbackStore
    refs: ExternalRefs
    uow: UnitOfWorkFactory
    connections: Mapping[str, OaConnection]
    tokens: TokenCache
    incoming_form: Callable[[str, str], OaForm | None]  # (vendor, template) -> its `in` form
    clock: Callable[[], datetime]
    subscribe_templates: Callable[[], list[str]] = list  # the Feishu templates of oa_forms.csv
    subscribed: bool = False

    def run(self) -> int:
        """Apply the due events; how many were settled or put off."""
        if not self.subscribed:
            self._subscribe()
        now, handled = self.clock(), 0
        for event in self.inbox.pending(BATCH, now=now):
            if not self.inbox.claim(event["id"], now=now, lease=LEASE):
                continue  # another worker has it
            handled += 1
            self._settle(event, now)
        return handled

    def _subscribe(self) -> None:
        """Feishu posts an approval's events only once the app subscribed to it: do so for every mapped
        template, once per worker (subscribing again is harmless); a failure is retried on the next pass."""
        if "feishu" not in self.connections:
            self.subscribed = True
            return
        try:
            client = feishu_for(self.connections["feishu"], self.tokens)
            for template in self.subscribe_templates():
                client.subscribe(template)
        except ConnectorError as exc:
            log.warning("feishu: subscribing the mapped approvals failed, trying again: %s", exc)
            return
        self.subscribed = True

    def _settle(self, event: dict[str, Any], now: datetime) -> None:
        label = f"{event['vendor']} callback {event['event_key']}"
        try:
            verdict = self.apply(event["vendor"], event["kind"], event["payload"])
        except (NotYet, ConnectorError) as exc:
            if isinstance(exc, ConnectorError) and not exc.retryable:
                verdict = Verdict("failed", f"{exc.code}: {exc}")
            elif event["attempts"] < len(RETRY_WAITS):
                wait = RETRY_WAITS[event["attempts"]]
                self.inbox.retry_later(event["id"], str(exc), not_before=now + timedelta(seconds=wait))
                log.info("%s: %s; trying again in %d s", label, exc, wait)
                return
            else:
                verdict = Verdict("ignored", f"gave up after {event['attempts'] + 1} attempts: {exc}")
        except (OaFormInvalid, BudgetflowError) as exc:  # the mapping, the applicant or the process is wrong
            verdict = Verdict("failed", str(exc))
        self.inbox.finish(event["id"], verdict.status, verdict.reason or None)
        if verdict.status == "failed":
            log.warning("%s failed: %s", label, verdict.reason)
            self._audit_failure(event, verdict.reason)
        else:
            log.info("%s: %s%s", label, verdict.status, f" ({verdict.reason})" if verdict.reason else "")

    def apply(self, vendor: str, kind: str, payload: dict[str, Any]) -> Verdict:
        change = callback_change(vendor, kind, payload)
        if change is None:
            return Verdict("ignored", f"not an approval event ({kind})")
        if not change.terminal:
            return Verdict("ignored", f"{change.instance_id} is still {change.status}")
        linked = self.refs.document_of(vendor, change.instance_id)
        if linked is not None:
            document_no, link = linked
            if link == "origin":
                return Verdict("ignored", f"{change.instance_id} already started {document_no}")
            return self._deliver(vendor, change, document_no)
        form = self.incoming_form(vendor, change.template)
        if form is None:
            return Verdict("ignored", f"no 'in' form in oa_forms.csv for {vendor} template {change.template!r}")
        if change.status != "approved":
            return Verdict("ignored", f"{change.instance_id} was {change.status} in the OA")
        return self._start(vendor, change, form)

    def _deliver(self, vendor: str, change: OaChange, document_no: str) -> Verdict:
        found = self.refs.instance_of(document_no)
        if found is None:
            return Verdict("ignored", f"document {document_no} is gone")
        if found[2] == "complete":
            return Verdict("ignored", f"{document_no} is already complete")
        payload = {"vendor": vendor, "instance_id": change.instance_id, "status": change.status, "terminal": True}
        try:
            processes.send_message(self.uow, instance_id=found[0], name="oa_approval_result", payload=payload,
                                   user=f"oa:{vendor}")
        except NotAllowed as exc:
            raise NotYet(str(exc)) from None
        return Verdict("done", f"{document_no}: {change.status}")

    def _start(self, vendor: str, change: OaChange, form: OaForm) -> Verdict:
        found = state(vendor, client_for(self.connections[vendor], self.tokens), change.instance_id)
        if found.status != "approved":  # the callback and the OA disagree: the OA's own record wins
            return Verdict("ignored", f"{change.instance_id} is {found.status} in the OA")
        data = incoming(form, found.values)
        applicant = self.refs.employee_of(vendor, found.applicant)
        if applicant is None:
            raise OaFormInvalid([f"{vendor} user {found.applicant!r} who applied is no active employee in the data "
                                 f"dictionary (its {vendor} id column)"])
        number = document_numbers.next_document_number(self.uow, form.process_id)
        owner = self.refs.remember(vendor, change.instance_id, number, "origin")
        if owner != number:  # another event of the same approval got there first
            return Verdict("ignored", f"{change.instance_id} already started {owner}")
        origin = {"vendor": vendor, "instance_id": change.instance_id, "template": form.template}
        try:
            processes.start(self.uow, process_id=form.process_id, applicant=applicant, business_key=number,
                            data=data, message=("oa_approved", origin), actor=f"oa:{vendor}")
        except Exception:
            self.refs.forget(vendor, change.instance_id, number)  # a later retry may start it
            raise
        return Verdict("done", f"started {number}")

    def _audit_failure(self, event: dict[str, Any], reason: str) -> None:
        with self.uow() as uow:
            uow.record(actor=f"oa:{event['vendor']}", action="oa.callback_failed", subject_type="oa_callback",
                       subject_id=str(event["event_key"])[:200],
                       payload={"kind": event["kind"], "reason": reason[:2000]})
            uow.commit()
