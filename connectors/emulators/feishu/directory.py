"""The directory: the contact API's department children and users by department, and the control endpoints
``POST /_emulator/directory/users`` and ``/departments`` that change it."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from connectors.emulators.base import json_response
from connectors.emulators.feishu.auth import TenantAuth
from connectors.emulators.feishu.replies import error, paged, read_body
from connectors.emulators.feishu.state import Department, Person


class Directory(TenantAuth):
    def _descendants(self, department_id: str, recursive: bool) -> list[Department]:
        children = [d for d in self.departments.values() if d.parent_id == department_id and not d.deleted]
        if recursive:
            children += [g for c in children for g in self._descendants(c.department_id, True)]
        return children

    def department_children(self, request: Request, department_id: str) -> Response:
        refused = self._refused(request)
        if refused:
            return refused
        if department_id not in self.departments:
            return error(40003, "department not exist")  # contact API's "not found" (emulator's choice)
        with self.lock:
            found = self._descendants(department_id, request.args.get("fetch_child") == "true")
            items = [{"department_id": d.department_id, "open_department_id": "od-" + d.department_id,
                      "name": d.name, "parent_department_id": d.parent_id,
                      "status": {"is_deleted": d.deleted}} for d in found]
        return paged(request, items)

    def users_by_department(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused:
            return refused
        department_id = request.args.get("department_id", "")
        if department_id not in self.departments:
            return error(40003, "department not exist")
        with self.lock:
            items = [{"user_id": p.user_id, "open_id": p.open_id, "union_id": p.union_id, "name": p.name,
                      "department_ids": list(p.department_ids),
                      "status": {"is_activated": p.active, "is_frozen": not p.active, "is_resigned": False,
                                 "is_exited": False, "is_unjoin": False}}
                     for p in self.people.values() if department_id in p.department_ids]
        return paged(request, items)

    def control_user(self, request: Request) -> Response:
        body = read_body(request)
        user_id = str(body.get("user_id", ""))
        if not user_id:
            return json_response({"error": "user_id is required"}, 400)
        with self.lock:
            person = self.people.setdefault(user_id, Person(user_id, user_id, ["0"]))
            person.name = str(body.get("name", person.name))
            person.department_ids = [str(d) for d in body.get("department_ids", person.department_ids)]
            person.active = bool(body.get("active", person.active))
            person.open_id = str(body.get("open_id", person.open_id))  # to match a company's data dictionary
        return json_response({"user_id": person.user_id, "name": person.name, "open_id": person.open_id,
                              "department_ids": person.department_ids, "active": person.active})

    def control_department(self, request: Request) -> Response:
        body = read_body(request)
        department_id = str(body.get("department_id", ""))
        if not department_id or department_id == "0":
            return json_response({"error": "department_id is required (and the root cannot change)"}, 400)
        with self.lock:
            department = self.departments.setdefault(department_id, Department(department_id, department_id, "0"))
            department.name = str(body.get("name", department.name))
            department.parent_id = str(body.get("parent_id", department.parent_id))
            department.deleted = bool(body.get("deleted", department.deleted))
        return json_response({"department_id": department_id, "name": department.name,
                              "parent_id": department.parent_id, "deleted": department.deleted})
