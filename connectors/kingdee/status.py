"""Reading Kingdee's ``ResponseStatus``: success, the lost-session signal, and refusals as field errors.

Every DynamicFormService write answers ``{"Result": {"ResponseStatus": {"IsSuccess", "ErrorCode", "Errors":
[{"FieldName", "Message", "DIndex"}], "SuccessEntitys": [{"Id", "Number", "DIndex"}], "MsgCode"}}}``.
``IsSuccess`` comes as a boolean or as the text ``"true"``. ``MsgCode`` 1 means the session is lost (idle for
about 20 minutes): log in again and repeat the call. ExecuteBillQuery answers a bare 2-D array, and its errors
come as that status wrapped in two lists (``[[{"Result": ...}]]``). Kingdee publishes no error-code table, so
refusals are told apart by the fields they name, not by code.

Unverified: for an entry's field we read ``DIndex`` as the 0-based entry row (what the emulator sends); a real
tenant may instead give the row only in the message text ("第2行").
"""

from __future__ import annotations

from typing import Any

from connectors.base import ConnectorError
from connectors.erp import POST_FAILED, FieldError

VENDOR = "Kingdee"
ENTRY_FIELDS = frozenset({"FEXPLANATION", "FACCOUNTID", "FDETAILID", "FCURRENCYID", "FEXCHANGERATETYPE",
                          "FEXCHANGERATE", "FAMOUNTFOR", "FDEBIT", "FCREDIT", "FENTITY"})


def response_status(answer: Any) -> dict[str, Any] | None:
    """The ResponseStatus in ``answer`` (a write's answer or a query's wrapped error), or None (query rows)."""
    while isinstance(answer, list) and len(answer) == 1 and isinstance(answer[0], list | dict):
        answer = answer[0]  # [[{"Result": ...}]]: a query's error
    if isinstance(answer, dict):
        status = (answer.get("Result") or {}).get("ResponseStatus")
        return status if isinstance(status, dict) else None
    return None


def succeeded(status: dict[str, Any]) -> bool:
    flag = status.get("IsSuccess")
    return flag is True or (isinstance(flag, str) and flag.lower() == "true")


def session_lost(answer: Any) -> bool:
    status = response_status(answer)
    return status is not None and not succeeded(status) and str(status.get("MsgCode")) == "1"


def saved_entity(status: dict[str, Any]) -> tuple[int, str]:
    """The Id and Number Save gave the new voucher."""
    entities = status.get("SuccessEntitys") or []
    if not entities or not isinstance(entities[0], dict) or not entities[0].get("Id"):
        raise ConnectorError(POST_FAILED, f"{VENDOR} reported success without the saved voucher's Id", vendor=VENDOR)
    return int(entities[0]["Id"]), str(entities[0].get("Number") or "")


def field_errors(status: dict[str, Any], scrub: tuple[str, ...] = ()) -> list[FieldError]:
    """Kingdee's Errors as field errors: the vendor's field name, the 1-based voucher line for an entry's field
    (None for the header) and the vendor's message."""
    errors = []
    for item in status.get("Errors") or []:
        if not isinstance(item, dict):
            continue
        name = str(item.get("FieldName") or "")
        message = _scrubbed(str(item.get("Message") or ""), scrub)
        is_entry = name.upper() in ENTRY_FIELDS or name.upper().startswith("FDETAILID__")
        index = item.get("DIndex")
        line = int(index) + 1 if is_entry and isinstance(index, int) else None
        errors.append(FieldError(name, line, message))
    return errors


def refusal(op: str, status: dict[str, Any], *, scrub: tuple[str, ...] = (), context: str = "") -> ConnectorError:
    """A definite refusal of ``op``: ``ERP_POST_FAILED``, not retryable, with Kingdee's field errors."""
    errors = field_errors(status, scrub)
    said = "; ".join(f"{e.field or 'voucher'}{f' line {e.line}' if e.line else ''}: {e.message}" for e in errors)
    message = f"{VENDOR} refused {op}{context}: {said or 'no reason given'}"
    return ConnectorError(POST_FAILED, message[:1000], retryable=False, errors=[e.as_dict() for e in errors],
                          vendor=VENDOR, vendor_code=status.get("ErrorCode"))


def _scrubbed(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text[:500]
