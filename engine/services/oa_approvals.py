"""One shape for OA approvals across the suites: create one from a document, read its status, read its form.

Each vendor's client speaks its own API (a DingTalk component list, WeCom controls, Feishu widgets); the data
dictionary's OA form mapping (``oa_forms.csv``, engine/domain/oa_forms.py) says which document field goes to
which control with which type. This module turns the mapping's typed values into each client's call and each
vendor's answer back into ``control -> value``, so modes 1 and 2 never branch on the vendor.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from connectors.base import ConnectorError
from connectors.oa import dingtalk_callbacks, feishu_client, wecom_callbacks, wecom_client
from connectors.oa.callbacks import CheckedCallback
from engine.domain.oa_forms import OaForm, OaFormField

Values = Sequence[tuple[OaFormField, object]]
_CHINA = timezone(timedelta(hours=8))
_CHINA_NOON = 12  # a day-only date sent as an instant: noon, so every time zone shows the same day
_FEISHU_WIDGETS = {"text": "input", "money": "amount", "number": "number", "date": "date"}


@dataclass(frozen=True)
class OaApprovalState:
    instance_id: str
    status: str  # pending, approved, rejected or cancelled
    terminal: bool
    applicant: str  # the OA user id (Feishu: open_id) of who applied
    values: dict[str, object]  # OA control -> value as the OA holds it
    template: str


@dataclass(frozen=True)
class OaChange:
    """What a stored callback says about an approval instance, the same for every vendor."""

    instance_id: str
    template: str
    status: str  # pending, approved, rejected or cancelled
    terminal: bool


def callback_change(vendor: str, kind: str, payload: dict[str, Any]) -> OaChange | None:
    """The approval change a stored (already checked) callback reports; None for any other event."""
    if vendor == "feishu":
        return _feishu_change(kind, payload)
    checked = CheckedCallback(vendor=vendor, event_key="", kind=kind, payload=payload, reply=b"", content_type="")
    if vendor == "dingtalk":
        ding = dingtalk_callbacks.approval_change(checked)
        if ding is None or ding.task_id:  # a task event: the instance event carries the outcome
            return None
        return OaChange(ding.instance_id, ding.process_code, ding.status, ding.terminal)
    if vendor == "wecom":
        sheet = wecom_callbacks.approval_change(checked)
        return None if sheet is None else OaChange(sheet.instance_id, sheet.template_id, sheet.status,
                                                   sheet.terminal)
    return None


def _feishu_change(kind: str, payload: dict[str, Any]) -> OaChange | None:
    """Feishu's ``approval_instance`` event, v1 (type in the event) or v2 (type in the header)."""
    event = payload.get("event")
    if kind != "approval_instance" or not isinstance(event, dict):
        return None
    status = feishu_client.STATUSES.get(str(event.get("status", "")).upper())
    if status is None:
        return None
    return OaChange(str(event.get("instance_code", "")), str(event.get("approval_code", "")), status,
                    status != "pending")


def create(vendor: str, client: Any, form: OaForm, values: Values, *, applicant: str, key: str) -> str:
    """Create the approval of ``form`` in ``vendor`` for the OA user ``applicant``; its instance id.

    ``key`` (the document number) makes the create safe to retry where the vendor allows it: Feishu's uuid,
    WeCom's look-up of an earlier sheet carrying the key. DingTalk has no such key (see its client)."""
    if vendor == "dingtalk":
        return str(client.create_approval(process_code=form.template, originator_user_id=applicant,
                                          form={f.oa_field: _dingtalk_value(v) for f, v in values}))
    if vendor == "wecom":
        controls = [_wecom_control(f, v) for f, v in values]
        keyed = any(f.field == "document_no" and f.type == "text" for f, _ in values)
        return str(client.create_approval(template=form.template, user_id=applicant, form=controls,
                                          summary=_summary(values), key=key if keyed else None))
    if vendor == "feishu":
        widgets = [{"id": f.oa_field, "type": _FEISHU_WIDGETS[f.type], "value": _feishu_value(v)}
                   for f, v in values]
        return str(client.create_approval(template=form.template, open_id=applicant, form=widgets, key=key))
    raise ConnectorError("OA_NOT_CONFIGURED", f"no OA approvals for vendor {vendor!r}", retryable=False)


def state(vendor: str, client: Any, instance_id: str) -> OaApprovalState:
    """The instance as the vendor has it now."""
    found = client.get_approval(instance_id)
    raw, status = found.get("raw") or {}, str(found["status"])
    terminal = bool(found.get("terminal", status != "pending"))
    if vendor == "dingtalk":
        values = {str(c.get("name")): c.get("value") for c in raw.get("formComponentValues") or []}
        return OaApprovalState(instance_id, status, terminal, str(raw.get("originatorUserId", "")), values,
                               str(raw.get("processCode", "")))
    if vendor == "wecom":
        contents = (raw.get("apply_data") or {}).get("contents") or []
        values = {str(c.get("id")): _wecom_read(c) for c in contents if isinstance(c, dict)}
        applyer = raw.get("applyer") or {}
        return OaApprovalState(instance_id, status, terminal, str(applyer.get("userid", "")), values,
                               str(raw.get("template_id", "")))
    if vendor == "feishu":
        widgets = _json_list(raw.get("form"))
        values = {str(w.get("id")): _feishu_read(w) for w in widgets if isinstance(w, dict)}
        return OaApprovalState(instance_id, status, terminal, str(raw.get("open_id", "")), values,
                               str(raw.get("approval_code", "")))
    raise ConnectorError("OA_NOT_CONFIGURED", f"no OA approvals for vendor {vendor!r}", retryable=False)


def _dingtalk_value(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def _wecom_control(field: OaFormField, value: object) -> dict[str, Any]:
    if field.type == "money" and isinstance(value, Decimal):
        return wecom_client.money(field.oa_field, value)
    if field.type == "number" and isinstance(value, Decimal):
        return wecom_client.number(field.oa_field, value)
    if field.type == "date" and isinstance(value, date):
        return wecom_client.date(field.oa_field, datetime.combine(value, time(_CHINA_NOON), tzinfo=UTC))
    return wecom_client.text(field.oa_field, str(value))


def _wecom_read(control: Mapping[str, Any]) -> object:
    """A control's value as one plain value: text, amount, number or the date's epoch milliseconds."""
    value = control.get("value") or {}
    kind = control.get("control")
    if kind == "Money":
        return value.get("new_money")
    if kind == "Number":
        return value.get("new_number")
    if kind == "Date":  # epoch seconds; a day-only date is midnight in China, so read it there
        seconds = str((value.get("date") or {}).get("s_timestamp", ""))
        return datetime.fromtimestamp(int(seconds), _CHINA).date().isoformat() if seconds.isdigit() else seconds
    if kind == "Text" or kind == "Textarea":
        return value.get("text")
    return value or None  # files, tables, selectors: only an `ignore` mapping takes them


def _feishu_value(value: object) -> object:
    if isinstance(value, date):  # Feishu's date widget wants RFC 3339
        return datetime.combine(value, time(_CHINA_NOON), tzinfo=UTC).isoformat()
    return value


def _feishu_read(widget: Mapping[str, Any]) -> object:
    value = widget.get("value")
    if widget.get("type") == "date" and isinstance(value, str) and "T" in value:
        return value[:10]  # RFC 3339: the day as written, in the writer's zone
    return value


def _summary(values: Values) -> list[str]:
    """WeCom's card shows one to three lines: the first mapped values."""
    lines = [f"{f.field}: {v}" for f, v in values][:3]
    return lines or ["budgetflow"]


def _json_list(text: object) -> list[Any]:
    if isinstance(text, list):
        return text
    try:
        found = json.loads(str(text or "[]"))
    except ValueError:
        return []
    return found if isinstance(found, list) else []
