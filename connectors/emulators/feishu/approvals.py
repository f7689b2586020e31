"""Approval instances: create (with Feishu's validation), get, list, and the subscribe gate for their events."""

from __future__ import annotations

import json
import uuid
from typing import Any

from werkzeug.wrappers import Request, Response

from connectors.emulators.feishu.auth import TenantAuth
from connectors.emulators.feishu.replies import error, ok, read_body

SUBSCRIPTION_EXISTS = 1390007  # Feishu's answer to subscribing an approval twice


class Approvals(TenantAuth):
    def create_instance(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused:
            return refused
        body = read_body(request)
        problem = self._invalid_create(body)
        if problem:
            return error(1390001, f"param is invalid: {problem}")
        with self.lock:
            key = body.get("uuid")
            if key and key in self.by_uuid:
                return error(60012, "uuid is duplicate", 400)
            code = str(uuid.uuid4()).upper()
            self.instances[code] = self._new_instance(code, body)
            if key:
                self.by_uuid[key] = code
        return ok({"instance_code": code})

    def _invalid_create(self, body: dict[str, Any]) -> str:
        if body.get("approval_code") not in self.approval_codes:
            return "approval_code not found"
        person = self.people.get(self._creator(body))
        if person is None or not person.active:
            return "user_id not found" if body.get("user_id") else "open_id not found"
        form = body.get("form")
        if not isinstance(form, str):
            return "form must be a JSON string"
        try:
            widgets = json.loads(form)
        except ValueError:
            return "form is not JSON"
        if not isinstance(widgets, list) or not all(isinstance(w, dict) and {"id", "type", "value"} <= w.keys()
                                                    for w in widgets):
            return "form must be a list of widgets with id, type and value"
        key = body.get("uuid")
        if key is not None and (not isinstance(key, str) or not 1 <= len(key) <= 64):
            return "uuid must be 1 to 64 characters"
        nodes = body.get("node_approver_user_id_list") or []
        if not isinstance(nodes, list) or not all(isinstance(n, dict) and isinstance(n.get("value"), list)
                                                  and all(u in self.people for u in n["value"]) for n in nodes):
            return "node_approver_user_id_list must name known users"
        return ""

    def _creator(self, body: dict[str, Any]) -> str:
        """The applicant's user_id: Feishu takes the creator as ``user_id`` or as ``open_id``."""
        if body.get("user_id"):
            return str(body["user_id"])
        open_id = str(body.get("open_id", ""))
        return next((uid for uid, person in self.people.items() if open_id and person.open_id == open_id), "")

    def _new_instance(self, code: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "user_id": self._creator(body)}
        now_ms = str(int(self.clock.now() * 1000))
        approvers = [user for node in body.get("node_approver_user_id_list") or [] for user in node.get("value", [])]
        approvers = approvers or [next(iter(self.people))]
        return {"instance_code": code, "approval_code": body["approval_code"], "approval_name": "Expense",
                "status": "PENDING", "start_time": now_ms, "end_time": "0", "user_id": body["user_id"],
                "open_id": self.people[body["user_id"]].open_id, "serial_number": str(len(self.instances) + 1),
                "department_id": self.people[body["user_id"]].department_ids[0], "uuid": body.get("uuid", ""),
                "form": body["form"], "reverted": False,
                "task_list": [{"id": str(len(self.instances) * 100 + i + 1), "user_id": user, "status": "PENDING",
                               "node_id": "APPROVAL", "node_name": "Approval", "start_time": now_ms,
                               "end_time": "0"} for i, user in enumerate(approvers)],
                "comment_list": [], "timeline": [{"type": "START", "create_time": now_ms,
                                                  "user_id": body["user_id"], "ext": "{}"}]}

    def get_instance(self, request: Request, code: str) -> Response:
        refused = self._refused(request)
        if refused:
            return refused
        with self.lock:
            found = self.instances.get(code)
            return ok(json.loads(json.dumps(found))) if found else error(1390003, "instance code not found")

    def list_instances(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused:
            return refused
        approval_code = request.args.get("approval_code", "")
        if approval_code not in self.approval_codes:
            return error(1390001, "param is invalid: approval_code not found")
        start, end = request.args.get("start_time", 0, type=int), request.args.get("end_time", 0, type=int)
        with self.lock:
            codes = [c for c, i in self.instances.items() if i["approval_code"] == approval_code
                     and start <= int(i["start_time"]) and (not end or int(i["start_time"]) <= end)]
        offset = max(0, request.args.get("page_token", 0, type=int))
        size = max(1, min(100, request.args.get("page_size", 100, type=int)))
        page, more = codes[offset:offset + size], offset + size < len(codes)
        return ok({"instance_code_list": page, "has_more": more, "page_token": str(offset + size) if more else ""})

    def subscribe(self, request: Request, approval_code: str) -> Response:
        refused = self._refused(request)
        if refused:
            return refused
        if approval_code not in self.approval_codes:
            return error(1390001, "param is invalid: approval_code not found")
        with self.lock:
            if approval_code in self.subscribed:
                return error(SUBSCRIPTION_EXISTS, "subscription existed")
            self.subscribed.add(approval_code)
        return ok({})
