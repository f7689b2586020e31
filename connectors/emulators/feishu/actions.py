"""The approver's actions, ``POST /_emulator/instances/<code>/<approve|reject|cancel>``: close the instance's
tasks and deliver the ``approval_task`` and ``approval_instance`` events they raise."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from connectors.emulators.base import json_response
from connectors.emulators.feishu.callbacks import Callbacks
from connectors.emulators.feishu.replies import read_body

STATUSES = {"approve": "APPROVED", "reject": "REJECTED", "cancel": "CANCELED"}


class Actions(Callbacks):
    def control_act(self, request: Request, code: str, action: str) -> Response:
        if action not in STATUSES:
            return json_response({"error": f"unknown action {action!r}: approve, reject or cancel"}, 404)
        body = read_body(request)
        with self.lock:
            instance = self.instances.get(code)
            if instance is None:
                return json_response({"error": "no such instance"}, 404)
            if instance["status"] != "PENDING":
                return json_response({"error": f"the instance is already {instance['status']}"}, 409)
            task = self._close_tasks(instance, action, str(body.get("user_id", "")), str(body.get("comment", "")))
        events = [] if action == "cancel" else [self._task_event(instance, task)]
        events.append(self._instance_event(instance))
        return json_response({"status": instance["status"], "deliveries": [self._deliver(e) for e in events]})

    def _close_tasks(self, instance: dict[str, Any], action: str, user_id: str, comment: str) -> dict[str, Any]:
        now_ms = str(int(self.clock.now() * 1000))
        instance["status"], instance["end_time"] = STATUSES[action], now_ms
        task = next((t for t in instance["task_list"] if t["user_id"] == user_id), instance["task_list"][0])
        for other in instance["task_list"]:
            other["status"], other["end_time"] = "DONE", now_ms
        task["status"] = STATUSES[action]
        if comment:
            instance["comment_list"].append({"id": now_ms, "user_id": task["user_id"], "comment": comment,
                                             "create_time": now_ms})
        instance["timeline"].append({"type": {"approve": "PASS", "reject": "REJECT", "cancel": "CANCEL"}[action],
                                     "create_time": now_ms, "user_id": user_id or task["user_id"], "ext": "{}"})
        return task

    def _common(self, instance: dict[str, Any]) -> dict[str, Any]:
        return {"app_id": self.app_id, "tenant_key": "emulator-tenant", "approval_code": instance["approval_code"],
                "instance_code": instance["instance_code"], "operate_time": instance["end_time"]}

    def _task_event(self, instance: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
        return {**self._common(instance), "type": "approval_task", "task_id": task["id"], "user_id": task["user_id"],
                "open_id": self.people[task["user_id"]].open_id if task["user_id"] in self.people else "",
                "status": task["status"], "def_key": "", "custom_key": "", "extra": ""}

    def _instance_event(self, instance: dict[str, Any]) -> dict[str, Any]:
        return {**self._common(instance), "type": "approval_instance", "status": instance["status"],
                "instance_operate_time": instance["end_time"], "uuid": instance["uuid"]}
