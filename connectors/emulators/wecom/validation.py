"""What ``oa/applyevent`` accepts, as WeCom checks it: the template's controls and values, the summary, and
``message/send``'s text card limits. Each refusal is an ``Invalid`` with WeCom's errcode."""

from __future__ import annotations

import re
from typing import Any

from connectors.emulators.wecom.replies import Invalid

DECIMAL = re.compile(r"^-?\d{1,15}(\.\d{1,2})?$")


def check_contents(contents: Any, controls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not isinstance(contents, list):
        raise Invalid(301025, "apply_data.contents is required")
    by_id = {c["id"]: c for c in controls}
    given = set()
    for item in contents:
        control = by_id.get(item.get("id")) if isinstance(item, dict) else None
        if control is None or item.get("control") != control["control"]:
            raise Invalid(301025, f"control {str(item)[:80]} does not match the template's controls")
        check_value(control, item.get("value"))
        given.add(control["id"])
    missing = [c["id"] for c in controls if c["require"] and c["id"] not in given]
    if missing:
        raise Invalid(301025, f"required control {missing[0]} has no value")
    return contents


def check_number(cid: str, kind: str, value: dict[str, Any]) -> None:
    number = value.get("new_money" if kind == "Money" else "new_number")
    if not isinstance(number, str) or not DECIMAL.match(number):
        raise Invalid(301025, f"control {cid}: the amount must be a decimal string")


def check_text(cid: str, kind: str, value: dict[str, Any]) -> None:
    if not isinstance(value.get("text"), str):
        raise Invalid(301025, f"control {cid}: text must be a string")


def check_date(cid: str, kind: str, value: dict[str, Any]) -> None:
    date = value.get("date") or {}
    stamp = date.get("s_timestamp")
    if date.get("type") not in ("day", "hour") or not isinstance(stamp, str) or not stamp.isdigit():
        raise Invalid(301025, f"control {cid}: date needs type day|hour and s_timestamp as a string")


def check_files(cid: str, kind: str, value: dict[str, Any]) -> None:
    files = value.get("files")
    if not isinstance(files, list) or len(files) > 6:
        raise Invalid(301025, f"control {cid}: at most 6 files")


VALUE_CHECKS = {"Money": check_number, "Number": check_number, "Text": check_text, "Textarea": check_text,
                 "Date": check_date, "File": check_files}


def check_value(control: dict[str, Any], value: Any) -> None:
    kind, cid = control["control"], control["id"]
    if not isinstance(value, dict):
        raise Invalid(301025, f"control {cid} has no value object")
    if kind in VALUE_CHECKS:
        VALUE_CHECKS[kind](cid, kind, value)
    elif kind == "Table":
        rows = value.get("children")
        if not isinstance(rows, list) or not rows:
            raise Invalid(301025, f"control {cid}: a table needs at least one row")
        for row in rows:
            check_contents(row.get("list") if isinstance(row, dict) else None,
                           [{**child, "require": 1} for child in control["children"]])


def check_summary(summary: Any) -> None:
    if not isinstance(summary, list) or not 1 <= len(summary) <= 3 or not all(
            isinstance(row, dict) and isinstance(row.get("summary_info"), list) and row["summary_info"]
            for row in summary):
        raise Invalid(301025, "summary_list needs 1 to 3 rows of summary_info")


def check_textcard(card: dict[str, Any]) -> None:
    for key, limit in (("title", 128), ("description", 512), ("url", 2048)):
        value = card.get(key)
        if not isinstance(value, str) or not value:
            raise Invalid(41016 if key == "title" else 41017 if key == "description" else 41018, f"missing {key}")
        if len(value.encode()) > limit:
            raise Invalid(45002, f"{key} over {limit} bytes")
