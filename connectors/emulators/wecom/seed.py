"""The demo corp a fresh emulator starts with: an expense template and a small directory."""

from __future__ import annotations

from typing import Any

from connectors.emulators.wecom.model import Template


def default_template() -> Template:
    text = {"control": "Text", "id": "Text-1640339319582", "title": "事由", "require": 1}
    money = {"control": "Money", "id": "Money-1640339319583", "title": "金额", "require": 1}
    date = {"control": "Date", "id": "Date-1640339319584", "title": "发生日期", "require": 0}
    count = {"control": "Number", "id": "Number-1640339319585", "title": "票据张数", "require": 0}
    table = {"control": "Table", "id": "Table-1640339319586", "title": "费用明细", "require": 0, "children": [
        {"control": "Text", "id": "Text-1640339319587", "title": "项目", "require": 1},
        {"control": "Money", "id": "Money-1640339319588", "title": "金额", "require": 1}]}
    files = {"control": "File", "id": "File-1640339319589", "title": "附件", "require": 0}
    return Template("费用报销", [text, money, date, count, table, files], [(1, ["lisi"]), (1, ["wangwu"])])


def travel_template() -> Template:
    """A travel application (出差申请) people fill in WeCom itself: budgetflow takes the approved ones (mode 1)."""
    controls = [{"control": "Text", "id": "Text-1640339400001", "title": "出差事由", "require": 1},
                {"control": "Text", "id": "Text-1640339400002", "title": "目的地", "require": 1},
                {"control": "Date", "id": "Date-1640339400003", "title": "开始日期", "require": 1},
                {"control": "Date", "id": "Date-1640339400004", "title": "结束日期", "require": 0},
                {"control": "Money", "id": "Money-1640339400005", "title": "预计费用", "require": 1}]
    return Template("出差申请", controls, [(1, ["lisi"])])


def budget_template() -> Template:
    """An approval budgetflow creates in WeCom (mode 2): the document, its amount and the budget left."""
    controls = [{"control": "Text", "id": "Text-1640339500001", "title": "单号", "require": 1},
                {"control": "Text", "id": "Text-1640339500002", "title": "事由", "require": 1},
                {"control": "Money", "id": "Money-1640339500003", "title": "金额", "require": 1},
                {"control": "Text", "id": "Text-1640339500004", "title": "预算科目", "require": 0},
                {"control": "Money", "id": "Money-1640339500005", "title": "预算余额", "require": 0}]
    return Template("预算审批", controls, [(1, ["lisi"])])


def default_directory() -> tuple[dict[int, dict[str, Any]], dict[str, dict[str, Any]]]:
    departments = {1: {"id": 1, "name": "示例科技", "name_en": "Example Tech", "parentid": 0, "order": 100000000},
                   2: {"id": 2, "name": "财务部", "name_en": "Finance", "parentid": 1, "order": 99999000},
                   3: {"id": 3, "name": "销售部", "name_en": "Sales", "parentid": 1, "order": 99998000}}
    people = [("zhangsan", "张三", 3, "销售经理"), ("lisi", "李四", 2, "财务经理"), ("wangwu", "王五", 2, "财务总监"),
              ("zhaoliu", "赵六", 3, "销售代表")]
    users = {uid: {"userid": uid, "name": name, "department": [dept], "main_department": dept,
                   "position": position, "status": 1, "enable": 1} for uid, name, dept, position in people}
    return departments, users
