"""Each vendor's emulator as the org sync tests drive it: its settings, and its directory changed through its
``/_emulator/`` control endpoints (docs/oa-dingtalk.md, oa-wecom.md, oa-feishu.md), filled with the demo company.

The demo's org units map departments (engine/seed/demo/org_units.csv): DingTalk and WeCom 1–10, Feishu "0"
and D100…D410. The emulators start with three of them (root, finance, sales); ``seed_demo_directory`` adds the
rest and puts every active demo employee in their unit's department, so that a first sync changes nobody of
the demo company (only the emulator's own sample people are new).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from connectors.emulators import dingtalk, feishu, wecom
from engine.seed import demo_folder

UNMAPPED_DEPT = {"dingtalk": "99", "wecom": "99", "feishu": "D990"}  # no org unit maps these


def post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = requests.post(url, json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


@dataclass(frozen=True)
class Suite:
    name: str
    emulator: Callable[[], Any]
    settings: Callable[[str], str]  # the oa.toml table, given the emulator's URL
    department: Callable[[str, str, str, str | None], None]  # (url, id, name, parent id)
    person: Callable[[str, str, str, str], None]  # (url, OA id as the data dictionary has it, name, department)
    disable: Callable[[str, str], None]  # (url, OA id): disabled, or for DingTalk, gone from the company
    oa_id_column: str


def feishu_user_id(open_id: str) -> str:
    return "u" + open_id[-8:]  # Feishu matches by open_id; the tenant's user_id only names new employees


SUITES = {
    "dingtalk": Suite(
        "dingtalk", dingtalk.DingTalkEmulator,
        lambda url: f'[dingtalk]\napp_key = "{dingtalk.DEFAULT_APP_KEY}"\n'
                    f'app_secret = "{dingtalk.DEFAULT_APP_SECRET}"\ncallback_token = "t"\n'
                    f'encoding_aes_key = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"\nbase_url = "{url}"\n',
        lambda url, dept, name, parent: post(f"{url}/_emulator/departments", {
            "dept_id": int(dept), "name": name, **({"parent_id": int(parent)} if parent else {})}) and None,
        lambda url, oa_id, name, dept: post(f"{url}/_emulator/users", {
            "userid": oa_id, "name": name, "dept_id_list": [int(dept)]}) and None,
        lambda url, oa_id: post(f"{url}/_emulator/users/{oa_id}/leave", {}) and None,
        "dingtalk_userid"),
    "wecom": Suite(
        "wecom", wecom.WeComEmulator,
        lambda url: f'[wecom]\ncorp_id = "{wecom.CORP_ID}"\nagent_id = "{wecom.AGENT_ID}"\n'
                    f'secret = "{wecom.APP_SECRET}"\ncallback_token = "t"\n'
                    f'encoding_aes_key = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"\nbase_url = "{url}"\n',
        lambda url, dept, name, parent: post(f"{url}/_emulator/departments", {
            "id": int(dept), "name": name, **({"parentid": int(parent)} if parent else {})}) and None,
        lambda url, oa_id, name, dept: post(f"{url}/_emulator/users", {
            "userid": oa_id, "name": name, "department": [int(dept)], "status": 1}) and None,
        lambda url, oa_id: post(f"{url}/_emulator/users", {"userid": oa_id, "status": 2}) and None,
        "wecom_userid"),
    "feishu": Suite(
        "feishu", feishu.FeishuEmulator,
        lambda url: f'[feishu]\napp_id = "cli_emulator0001"\napp_secret = "emulator-app-secret"\n'
                    f'verification_token = "t"\nencrypt_key = "k"\nbase_url = "{url}"\n',
        lambda url, dept, name, parent: post(f"{url}/_emulator/directory/departments", {
            "department_id": dept, "name": name, "parent_id": parent or "0"}) and None,
        lambda url, oa_id, name, dept: post(f"{url}/_emulator/directory/users", {
            "user_id": feishu_user_id(oa_id), "open_id": oa_id, "name": name, "department_ids": [dept],
            "active": True}) and None,
        lambda url, oa_id: post(f"{url}/_emulator/directory/users", {
            "user_id": feishu_user_id(oa_id), "active": False}) and None,
        "feishu_open_id"),
}
DEPT_COLUMNS = {"dingtalk": "dingtalk_dept_id", "wecom": "wecom_dept_id", "feishu": "feishu_dept_id"}


def demo_rows(name: str) -> list[dict[str, str]]:
    with (demo_folder() / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_settings(instance_dir: Any, suite: Suite, url: str) -> None:
    path = instance_dir / "oa.toml"
    path.write_text(suite.settings(url), encoding="utf-8")
    path.chmod(0o600)


def seed_demo_directory(suite: Suite, url: str) -> dict[str, str]:
    """Every demo unit's department and every active demo employee in it; employee code -> OA id."""
    units = {row["code"]: row for row in demo_rows("org_units.csv")}
    dept = {code: row[DEPT_COLUMNS[suite.name]] for code, row in units.items()}
    for code, row in units.items():  # parents before children: the demo file lists them so
        if row["parent_code"]:
            suite.department(url, dept[code], row["name"], dept[row["parent_code"]])
    suite.department(url, UNMAPPED_DEPT[suite.name], "外包团队", None)
    ids = {}
    for row in demo_rows("employees.csv"):
        if row["active"] == "true":
            suite.person(url, row[suite.oa_id_column], row["name"], dept[row["org_unit_code"]])
            ids[row["code"]] = row[suite.oa_id_column]
    return ids


def dept_of(suite: Suite, unit: str) -> str:
    return next(row[DEPT_COLUMNS[suite.name]] for row in demo_rows("org_units.csv") if row["code"] == unit)
