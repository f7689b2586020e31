"""Approval templates and the checks DingTalk makes on a create body's form and approvers."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

# a template's components: name → componentType; the emulator refuses names the template does not have
DEFAULT_TEMPLATES: dict[str, dict[str, Any]] = {
    "PROC-BUDGETFLOW-EXPENSE": {"name": "费用报销", "components": {
        "金额(元)": "MoneyField", "事由": "TextareaField", "费用类型": "DDSelectField", "单号": "TextField",
        "预算科目": "TextField", "预算余额(元)": "MoneyField", "链接": "TextField"}},
    "PROC-BUDGETFLOW-TRAVEL": {"name": "出差申请", "components": {
        "出差事由": "TextareaField", "目的地": "TextField", "开始日期": "DDDateField", "结束日期": "DDDateField",
        "预计费用(元)": "MoneyField"}},
}


def create_problem(templates: dict[str, dict[str, Any]], users: dict[str, dict[str, Any]],
                   body: dict[str, Any]) -> tuple[str, str] | None:
    """(code, message) of what DingTalk would refuse in a create body, or None."""
    template = templates.get(str(body.get("processCode")))
    if template is None:
        return "paramError", "processCode不存在或未发布"
    if body.get("originatorUserId") not in users:
        return "paramError", "originatorUserId不存在"
    values = body.get("formComponentValues")
    if not isinstance(values, list) or not values:
        return "paramError", "formComponentValues不能为空"
    for value in values:
        problem = component_problem(template["components"], value)
        if problem:
            return "paramError", problem
    for group in body.get("approvers") or []:
        if not isinstance(group, dict) or not group.get("userIds") or \
                any(userid not in users for userid in group["userIds"]):
            return "paramError", "approvers中的userIds不存在"
    return None


def component_problem(components: dict[str, str], value: object) -> str | None:
    """What is wrong with one formComponentValues entry, as DingTalk would say it, or None."""
    if not isinstance(value, dict) or not isinstance(value.get("name"), str) or "value" not in value:
        return "formComponentValues的每一项都需要name和value"
    if value["name"] not in components:
        return f"表单组件{value['name']}不存在"
    if not isinstance(value["value"], str):
        return f"表单组件{value['name']}的值必须是字符串"
    if components[value["name"]] == "MoneyField":
        try:
            Decimal(value["value"])
        except InvalidOperation:
            return f"表单组件{value['name']}的金额格式错误"
    return None
