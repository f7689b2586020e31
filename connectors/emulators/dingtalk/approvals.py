"""The approval API: create an instance (announced by callback), read one, list a template's instance ids."""

from __future__ import annotations

import time
import uuid
from typing import Any

from werkzeug.wrappers import Request, Response

from connectors.emulators.base import json_response
from connectors.emulators.dingtalk.callbacks import Callbacks
from connectors.emulators.dingtalk.events import Events
from connectors.emulators.dingtalk.forms import create_problem
from connectors.emulators.dingtalk.state import Instance
from connectors.emulators.dingtalk.tokens import Tokens
from connectors.emulators.dingtalk.wire import new_error, read_json, utc


class Approvals(Tokens, Callbacks, Events):
    def create_instance(self, request: Request) -> Response:
        refused = self._new_api_guard(request)
        if refused:
            return refused
        body = read_json(request)
        problem = create_problem(self.templates, self.users, body)
        if problem:
            return new_error(400, *problem)
        with self.lock:
            instance = self._new_instance(body)
            self.instances[instance.id] = instance
        events = [self._instance_event(instance, "start")]
        events += [self._task_event(instance, task, "start") for task in instance.tasks]
        self._deliver_later(events)
        return json_response({"instanceId": instance.id})

    def _new_instance(self, body: dict[str, Any]) -> Instance:
        now_ms = int(self.clock.now() * 1000)
        originator = self.users[body["originatorUserId"]]
        template = self.templates[body["processCode"]]
        groups = body.get("approvers") or [{"actionType": "NONE", "userIds": ["manager01"]}]
        instance = Instance(
            id=uuid.uuid4().hex[:8] + "-" + uuid.uuid4().hex[:16], process_code=body["processCode"],
            title=f"{originator['name']}提交的{template['name']}", originator=originator["userid"],
            dept_id=int(body.get("deptId") or originator["dept_id_list"][0]),
            business_id=time.strftime("%Y%m%d%H%M", time.gmtime(now_ms / 1000)) + f"{len(self.instances):06d}",
            form=[{"name": v["name"], "value": v["value"], "componentType": template["components"][v["name"]],
                   "id": f"field-{i}"} for i, v in enumerate(body["formComponentValues"])],
            create_ms=now_ms, or_sign=any(g.get("actionType") == "OR" for g in groups))
        instance.records.append({"userId": instance.originator, "date": utc(now_ms), "type": "START_PROCESS_INSTANCE",
                                 "result": "NONE", "showName": "发起审批"})
        for userid in [u for g in groups for u in g["userIds"]]:
            self._next_task += 1
            instance.tasks.append({"taskId": self._next_task, "userId": userid, "status": "RUNNING",
                                   "result": "NONE", "activityId": "act-approve", "createTime": utc(now_ms),
                                   "processInstanceId": instance.id})
        return instance

    def get_instance(self, request: Request) -> Response:
        refused = self._new_api_guard(request)
        if refused:
            return refused
        with self.lock:
            instance = self.instances.get(request.args.get("processInstanceId", ""))
            if instance is None:
                return new_error(400, "paramError", "processInstanceId不存在")
            return json_response({"success": True, "result": self._instance_view(instance)})

    def _instance_view(self, instance: Instance) -> dict[str, Any]:
        view = {"title": instance.title, "status": instance.status, "result": instance.result,
                "businessId": instance.business_id, "originatorUserId": instance.originator,
                "originatorDeptId": str(instance.dept_id),
                "originatorDeptName": self.departments.get(instance.dept_id, {}).get("name", ""),
                "createTime": utc(instance.create_ms), "formComponentValues": instance.form,
                "operationRecords": instance.records, "tasks": instance.tasks,
                "approverUserIds": [t["userId"] for t in instance.tasks], "ccUserIds": [], "bizAction": "NONE"}
        if instance.finish_ms is not None:
            view["finishTime"] = utc(instance.finish_ms)
        return view

    def list_instance_ids(self, request: Request) -> Response:
        refused = self._legacy_guard(request)
        if refused:
            return refused
        body = read_json(request)
        start, end = int(body.get("start_time", 0)), int(body.get("end_time") or 2**62)
        size, cursor = min(int(body.get("size", 20)), 20), int(body.get("cursor", 0))
        with self.lock:
            ids = [i.id for i in self.instances.values()
                   if i.process_code == body.get("process_code") and start <= i.create_ms <= end]
        page = ids[cursor:cursor + size]
        result: dict[str, Any] = {"list": page}
        if cursor + size < len(ids):
            result["next_cursor"] = cursor + size
        return json_response({"errcode": 0, "errmsg": "ok", "result": result, "request_id": uuid.uuid4().hex})
