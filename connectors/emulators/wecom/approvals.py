"""The approval APIs (``oa/applyevent``, ``oa/getapprovaldetail``, ``oa/getapprovalinfo``,
``oa/gettemplatedetail``): sheets made, read, listed by time and filter, and the template described."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from connectors.emulators.wecom.access import Access
from connectors.emulators.wecom.callbacks import Callbacks
from connectors.emulators.wecom.model import CHINA, MAX_WINDOW, Template
from connectors.emulators.wecom.replies import Invalid, ok
from connectors.emulators.wecom.validation import check_contents, check_summary


class Approvals(Access, Callbacks):
    """The oa/* endpoints; each new sheet posts its ``sys_approval_change`` callback."""

    def applyevent(self, request: Request) -> Response:
        return self._api(request, self._applyevent, approval=True)

    def _applyevent(self, request: Request, agent_id: int) -> Response:
        body = self._body(request)
        creator = str(body.get("creator_userid", ""))
        if self.users.get(creator, {}).get("status") != 1:
            raise Invalid(301025, f"creator_userid {creator[:64]!r} is not an active member")
        template = self.templates.get(str(body.get("template_id", "")))
        if template is None:
            raise Invalid(301025, "template_id not found")
        nodes = self._flow(body, template)
        contents = check_contents((body.get("apply_data") or {}).get("contents"), template.controls)
        check_summary(body.get("summary_list"))
        with self.lock:
            sp_no = self._next_sp_no()
            self.instances[sp_no] = self._new_instance(sp_no, creator, body, template, nodes, contents)
            event = self._event(sp_no, 1, agent_id)
        self._deliver(event)
        return ok(sp_no=sp_no)

    def _flow(self, body: dict[str, Any], template: Template) -> list[tuple[int, list[str]]]:
        if body.get("use_template_approver", 0) in (1, "1"):
            return template.nodes
        nodes: list[tuple[int, list[str]]] = []
        for node in body.get("approver") or []:  # the older shape: [{attr: 1 或签 / 2 会签, userid: [...]}]
            nodes.append((int(node.get("attr", 1)), [str(u) for u in node.get("userid") or []]))
        for node in (body.get("process") or {}).get("node_list") or []:  # type 1 approver; apv_rel 1 会签 2 或签 3 依次
            if node.get("type") == 1:
                nodes.append((2 if node.get("apv_rel") in (1, 3) else 1, [str(u) for u in node.get("userid") or []]))
        if not nodes or any(not users or any(self.users.get(u, {}).get("status") != 1 for u in users)
                            for _attr, users in nodes):
            raise Invalid(301025, "approver is empty or names someone who is not an active member")
        return nodes

    def _next_sp_no(self) -> str:
        day = (datetime.fromtimestamp(self.clock.now(), UTC) + CHINA).strftime("%Y%m%d")
        self._sequence[day] = self._sequence.get(day, 0) + 1
        return f"{day}{self._sequence[day]:04d}"

    def _new_instance(self, sp_no: str, creator: str, body: dict[str, Any], template: Template,
                      nodes: list[tuple[int, list[str]]], contents: list[dict[str, Any]]) -> dict[str, Any]:
        record = [{"sp_status": 1, "approverattr": attr,
                   "details": [{"approver": {"userid": u}, "speech": "", "sp_status": 1, "sptime": 0,
                                "media_id": []} for u in users]} for attr, users in nodes]
        return {"sp_no": sp_no, "sp_name": template.name, "sp_status": 1, "template_id": body["template_id"],
                "apply_time": int(self.clock.now()),
                "applyer": {"userid": creator, "partyid": str(self.users[creator]["main_department"])},
                "sp_record": record, "notifyer": [{"userid": u} for u in body.get("notifyer") or []],
                "apply_data": {"contents": contents}, "comments": [],
                "summary_list": body.get("summary_list")}

    def getapprovaldetail(self, request: Request) -> Response:
        return self._api(request, self._getapprovaldetail, approval=True)

    def _getapprovaldetail(self, request: Request, agent_id: int) -> Response:
        sp_no = str(self._body(request).get("sp_no", ""))
        with self.lock:
            info = self.instances.get(sp_no)
            if info is None:
                raise Invalid(301025, "sp_no not found")
            return ok(info=json.loads(json.dumps(info)))

    def getapprovalinfo(self, request: Request) -> Response:
        return self._api(request, self._getapprovalinfo, approval=True)

    def _getapprovalinfo(self, request: Request, agent_id: int) -> Response:
        body = self._body(request)
        try:
            start, end = int(body["starttime"]), int(body["endtime"])
            size = int(body.get("size", 100))
        except (KeyError, TypeError, ValueError):
            raise Invalid(301025, "starttime and endtime are required epoch seconds") from None
        if not 0 < end - start <= MAX_WINDOW:
            raise Invalid(301025, "endtime must be after starttime and within 31 days of it")
        if not 0 < size <= 100:
            raise Invalid(301025, "size must be 1..100")
        old_style = "new_cursor" not in body  # wechatpy still sends the older cursor/filter pair
        offset = int(body.get("cursor") or 0) if old_style else int(body.get("new_cursor") or 0)
        filters = body.get("filter" if old_style else "filters") or []
        with self.lock:
            found = sorted((info["apply_time"], sp_no) for sp_no, info in self.instances.items()
                           if start <= info["apply_time"] <= end and matches(info, filters))
        page = [sp_no for _t, sp_no in found[offset:offset + size]]
        more = offset + size < len(found)
        if old_style:
            return ok(sp_no_list=page, next_cursor=offset + size if more else 0)
        return ok(sp_no_list=page, new_next_cursor=str(offset + size) if more else "")

    def gettemplatedetail(self, request: Request) -> Response:
        return self._api(request, self._gettemplatedetail, approval=True)

    def _gettemplatedetail(self, request: Request, agent_id: int) -> Response:
        template = self.templates.get(str(self._body(request).get("template_id", "")))
        if template is None:
            raise Invalid(301025, "template_id not found")
        controls = [{"property": {"control": c["control"], "id": c["id"], "require": c["require"],
                                  "title": [{"text": c["title"], "lang": "zh_CN"}]},
                     "config": {"table": {"children": [{"property": {"control": k["control"], "id": k["id"],
                                                                     "title": [{"text": k["title"], "lang": "zh_CN"}],
                                                                     "require": k["require"]}}
                                                       for k in c.get("children", [])]}}}
                    for c in template.controls]
        return ok(template_names=[{"text": template.name, "lang": "zh_CN"}],
                   template_content={"controls": controls})


def matches(info: dict[str, Any], filters: list[dict[str, Any]]) -> bool:
    values = {"template_id": info["template_id"], "creator": info["applyer"]["userid"],
              "department": info["applyer"]["partyid"], "sp_status": str(info["sp_status"])}
    return all(values.get(str(f.get("key"))) == str(f.get("value")) for f in filters if isinstance(f, dict))
