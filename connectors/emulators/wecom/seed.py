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


def default_directory() -> tuple[dict[int, dict[str, Any]], dict[str, dict[str, Any]]]:
    departments = {1: {"id": 1, "name": "示例科技", "name_en": "Example Tech", "parentid": 0, "order": 100000000},
                   2: {"id": 2, "name": "财务部", "name_en": "Finance", "parentid": 1, "order": 99999000},
                   3: {"id": 3, "name": "销售部", "name_en": "Sales", "parentid": 1, "order": 99998000}}
    people = [("zhangsan", "张三", 3, "销售经理"), ("lisi", "李四", 2, "财务经理"), ("wangwu", "王五", 2, "财务总监"),
              ("zhaoliu", "赵六", 3, "销售代表")]
    users = {uid: {"userid": uid, "name": name, "department": [dept], "main_department": dept,
                   "position": position, "status": 1, "enable": 1} for uid, name, dept, position in people}
    return departments, users
