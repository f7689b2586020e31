"""The approval events DingTalk calls back with: ``bpms_instance_change`` and ``bpms_task_change``."""

from __future__ import annotations

from typing import Any

from connectors.emulators.dingtalk.state import DingTalkState, Instance


class Events(DingTalkState):
    def _instance_event(self, instance: Instance, change: str, staff: str | None = None) -> dict[str, Any]:
        event = {"EventType": "bpms_instance_change", "processInstanceId": instance.id, "corpId": self.corp_id,
                 "createTime": instance.create_ms, "processCode": instance.process_code, "title": instance.title,
                 "type": change, "staffId": staff or instance.originator, "bizCategoryId": ""}
        if change != "start":
            event["finishTime"] = instance.finish_ms
        if change == "finish":
            event["result"] = instance.result
        return event

    def _task_event(self, instance: Instance, task: dict[str, Any], change: str, result: str = "",
                    finish_ms: int | None = None) -> dict[str, Any]:
        event = {"EventType": "bpms_task_change", "processInstanceId": instance.id, "corpId": self.corp_id,
                 "createTime": instance.create_ms if change == "start" else int(self.clock.now() * 1000),
                 "processCode": instance.process_code, "title": instance.title, "type": change,
                 "staffId": task["userId"], "taskId": task["taskId"], "activityId": task["activityId"]}
        if finish_ms is not None:
            event["finishTime"] = finish_ms
        if result:
            event["result"] = result
        return event
