"""The directory: departments and users as the legacy ``topapi`` lists them, and the ``/_emulator/`` edits
(add, change, leave) that HR's changes make."""

from __future__ import annotations

import uuid
from typing import Any

from werkzeug.wrappers import Request, Response

from connectors.emulators.base import json_response
from connectors.emulators.dingtalk.tokens import Tokens
from connectors.emulators.dingtalk.wire import legacy_error, read_json


class Directory(Tokens):
    def list_departments(self, request: Request) -> Response:
        refused = self._legacy_guard(request)
        if refused:
            return refused
        parent = int(read_json(request).get("dept_id") or 1)
        with self.lock:
            if parent not in self.departments:
                return legacy_error(60003, "部门不存在")
            children = [{**d, "create_dept_group": False, "auto_add_user": False}
                        for d in self.departments.values() if d["parent_id"] == parent and d["dept_id"] != parent]
        return json_response({"errcode": 0, "errmsg": "ok", "result": children, "request_id": uuid.uuid4().hex})

    def get_department(self, request: Request) -> Response:
        refused = self._legacy_guard(request)
        if refused:
            return refused
        with self.lock:
            department = self.departments.get(int(read_json(request).get("dept_id") or 0))
        if department is None:
            return legacy_error(60003, "部门不存在")
        shown = {k: v for k, v in department.items() if not (k == "parent_id" and v == 0)}  # the root has none
        return json_response({"errcode": 0, "errmsg": "ok", "result": shown, "request_id": uuid.uuid4().hex})

    def list_users(self, request: Request) -> Response:
        refused = self._legacy_guard(request)
        if refused:
            return refused
        body = read_json(request)
        dept, cursor, size = int(body.get("dept_id") or 0), int(body.get("cursor") or 0), int(body.get("size") or 0)
        if not 1 <= size <= 100:
            return legacy_error(40035, "size 取值范围 1-100")
        with self.lock:
            if dept not in self.departments:
                return legacy_error(60003, "部门不存在")
            members = sorted((u for u in self.users.values() if dept in u["dept_id_list"]), key=lambda u: u["userid"])
        page = members[cursor:cursor + size]
        result: dict[str, Any] = {"has_more": cursor + size < len(members), "list": page}
        if result["has_more"]:
            result["next_cursor"] = cursor + size
        return json_response({"errcode": 0, "errmsg": "ok", "result": result, "request_id": uuid.uuid4().hex})

    def get_user(self, request: Request) -> Response:
        refused = self._legacy_guard(request)
        if refused:
            return refused
        with self.lock:
            user = self.users.get(str(read_json(request).get("userid", "")))
        if user is None:
            return legacy_error(60121, "找不到该用户")
        return json_response({"errcode": 0, "errmsg": "ok", "result": user, "request_id": uuid.uuid4().hex})

    def control_user(self, request: Request) -> Response:
        body = read_json(request)
        if not body.get("userid"):
            return json_response({"error": "userid is required"}, 400)
        with self.lock:
            unknown = [d for d in body.get("dept_id_list", []) if d not in self.departments]
            if unknown:
                return json_response({"error": f"no departments {unknown}"}, 400)
            if body["userid"] not in self.users and not body.get("name"):
                return json_response({"error": "a new user needs a name"}, 400)
            return json_response(self._upsert_user(body))

    def control_leave(self, request: Request, userid: str) -> Response:
        with self.lock:
            user = self.users.pop(userid, None)
            self.codes = {c: v for c, v in self.codes.items() if v[0] != userid}
            self.web_codes = {c: v for c, v in self.web_codes.items() if v[0] != userid}
        if user is None:
            return json_response({"error": f"no user {userid!r}"}, 404)
        return json_response({"left": userid})

    def control_department(self, request: Request) -> Response:
        body = read_json(request)
        try:
            dept_id = int(body["dept_id"])
        except (KeyError, TypeError, ValueError):
            return json_response({"error": "dept_id (a number) is required"}, 400)
        with self.lock:
            department = self.departments.setdefault(dept_id, {"dept_id": dept_id, "name": "", "parent_id": 1})
            if "name" in body:
                department["name"] = str(body["name"])
            if "parent_id" in body:
                if int(body["parent_id"]) not in self.departments or int(body["parent_id"]) == dept_id:
                    return json_response({"error": "parent_id names no other department"}, 400)
                department["parent_id"] = int(body["parent_id"])
            return json_response(department)
