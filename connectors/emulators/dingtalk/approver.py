"""Acting as the OA approver (``/_emulator/instances/<id>/approve|reject|cancel``), calling back what changed."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from connectors.emulators.base import json_response
from connectors.emulators.dingtalk.approvals import Approvals
from connectors.emulators.dingtalk.state import Instance
from connectors.emulators.dingtalk.wire import read_json, utc


class Approver(Approvals):
    def control_act(self, request: Request, instance_id: str, action: str) -> Response:
        body = read_json(request)
        with self.lock:
            instance = self.instances.get(instance_id)
            if instance is None:
                return json_response({"error": f"no instance {instance_id}"}, 404)
            if instance.status != "RUNNING":
                return json_response({"error": f"the instance is {instance.status}"}, 409)
            events: list[dict[str, Any]] | None
            if action == "cancel":
                events = self._terminate(instance)
            elif action in ("approve", "reject"):
                events = self._decide(instance, action == "approve", body.get("user_id"), body.get("remark", ""))
            else:
                return json_response({"error": "action is approve, reject or cancel"}, 404)
            if events is None:
                return json_response({"error": "that user has no open task on this instance"}, 409)
            view = self._instance_view(instance)
        self.flush()  # the instance's start events go first
        for event in events:
            self._deliver(event)
        if request.mimetype == "application/x-www-form-urlencoded":  # a button on the page: back to the page
            return Response(status=303, headers={"Location": "/_emulator/"})
        return json_response(view)

    def _decide(self, instance: Instance, agree: bool, userid: str | None,
                remark: str) -> list[dict[str, Any]] | None:
        task = next((t for t in instance.tasks if t["status"] == "RUNNING" and userid in (None, t["userId"])), None)
        if task is None:
            return None
        now_ms = int(self.clock.now() * 1000)
        task.update(status="COMPLETED", result="AGREE" if agree else "REFUSE", finishTime=utc(now_ms))
        instance.records.append({"userId": task["userId"], "date": utc(now_ms), "type": "EXECUTE_TASK_NORMAL",
                                 "result": task["result"], "remark": remark, "showName": "审批人"})
        events = [self._task_event(instance, task, "finish", "agree" if agree else "refuse", now_ms)]
        running = [t for t in instance.tasks if t["status"] == "RUNNING"]
        if agree and running and not instance.or_sign:
            return events
        for other in running:
            other.update(status="CANCELED", finishTime=utc(now_ms))
        instance.status, instance.result, instance.finish_ms = "COMPLETED", "agree" if agree else "refuse", now_ms
        return [*events, self._instance_event(instance, "finish", task["userId"])]

    def _terminate(self, instance: Instance) -> list[dict[str, Any]]:
        now_ms = int(self.clock.now() * 1000)
        events = []
        for task in instance.tasks:
            if task["status"] == "RUNNING":
                task.update(status="CANCELED", finishTime=utc(now_ms))
                events.append(self._task_event(instance, task, "cancel", "", now_ms))
        instance.records.append({"userId": instance.originator, "date": utc(now_ms),
                                 "type": "TERMINATE_PROCESS_INSTANCE", "result": "NONE", "showName": "撤销"})
        instance.status, instance.finish_ms = "TERMINATED", now_ms
        return [*events, self._instance_event(instance, "terminate", instance.originator)]
