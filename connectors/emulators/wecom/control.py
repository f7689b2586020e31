"""The emulator's own endpoints besides the callback ones (see the package docstring for all of them): act as
an approver, issue a sign-in code, change the directory, show the state and the control page."""

from __future__ import annotations

from typing import Any

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from connectors.emulators.base import json_response
from connectors.emulators.wecom.callbacks import Callbacks
from connectors.emulators.wecom.model import AGENT_ID, CODE_TTL
from connectors.emulators.wecom.page import sheets_page
from connectors.emulators.wecom.signin import SignIn


class Control(SignIn, Callbacks):
    """``/_emulator/approvals/<sp_no>/<action>``, ``oauth/code``, ``users``, ``departments``, ``state`` and ``/``."""

    def control_act(self, request: Request, sp_no: str, action: str) -> Response:
        body = request.get_json(silent=True) or dict(request.form)
        with self.lock:
            info = self.instances.get(sp_no)
            if info is None:
                return json_response({"error": f"no sheet {sp_no}"}, 404)
            try:
                change_event = act(info, action, str(body.get("userid") or ""), str(body.get("speech") or ""),
                                   int(self.clock.now()))
            except ValueError as exc:
                return json_response({"error": str(exc)}, 409)
            event = self._event(sp_no, change_event, AGENT_ID)
        delivery = self._deliver(event)
        if request.form.get("back"):
            return redirect("/_emulator/", 303)
        return json_response({"sp_no": sp_no, "sp_status": info["sp_status"],
                              "delivered": delivery.status if delivery else None})

    def control_code(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        if body.get("openid"):
            return json_response({"code": self._issue_code({"openid": str(body["openid"])}), "expires_in": CODE_TTL})
        userid = str(body.get("userid", ""))
        if self.users.get(userid, {}).get("status") != 1:
            return json_response({"error": f"no active member {userid!r}"}, 404)
        return json_response({"code": self._issue_code({"userid": userid}), "expires_in": CODE_TTL})

    def control_user(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        userid = str(body.get("userid", ""))
        if not userid:
            return json_response({"error": "userid is required"}, 400)
        with self.lock:
            departments = body.get("department")
            if departments is not None and (not departments or any(d not in self.departments for d in departments)):
                return json_response({"error": "department names an unknown department"}, 400)
            user = self.users.setdefault(userid, {"userid": userid, "name": userid, "department": [1],
                                                  "main_department": 1, "position": "", "status": 1, "enable": 1})
            for key in ("name", "position"):
                if key in body:
                    user[key] = str(body[key])
            if departments:
                user["department"], user["main_department"] = list(departments), departments[0]
            if "status" in body:
                user["status"] = int(body["status"])
                user["enable"] = 1 if user["status"] == 1 else 0
            return json_response(dict(user))

    def control_department(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        with self.lock:
            try:
                dept_id = int(body["id"])
            except (KeyError, TypeError, ValueError):
                return json_response({"error": "id is required"}, 400)
            parent = body.get("parentid")
            if parent is not None and (int(parent) not in self.departments or int(parent) == dept_id):
                return json_response({"error": "parentid names an unknown department"}, 400)
            dept = self.departments.setdefault(dept_id, {"id": dept_id, "name": str(dept_id), "name_en": "",
                                                          "parentid": 1, "order": 0})
            if "name" in body:
                dept["name"] = str(body["name"])
            if parent is not None:
                dept["parentid"] = int(parent)
            return json_response(dict(dept))

    def control_state(self, request: Request) -> Response:
        with self.lock:
            return json_response({"instances": self.instances, "messages": self.messages,
                                  "deliveries": [vars(d) for d in self.deliveries],
                                  "callback_url": self.callback.url if self.callback else None})

    def control_page(self, request: Request) -> Response:
        with self.lock:
            page = sheets_page(self.corp_id, self.instances.values())
        return Response(page, content_type="text/html; charset=utf-8")


def act(info: dict[str, Any], action: str, userid: str, speech: str, now: int) -> int:
    """Apply an approver's (or the applicant's) action to the sheet; the StatuChangeEvent it fires."""
    if action == "cancel":
        if info["sp_status"] == 1:
            info["sp_status"] = 4
            return 6
        if info["sp_status"] == 2:
            info["sp_status"] = 6
            return 8
        raise ValueError("only a pending or approved sheet can be cancelled")
    if action not in ("approve", "reject"):
        raise ValueError("action is one of approve, reject, cancel")
    if info["sp_status"] != 1:
        raise ValueError("the sheet is no longer pending")
    node = next(r for r in info["sp_record"] if r["sp_status"] == 1)
    pending = [d for d in node["details"] if d["sp_status"] == 1]
    detail = next((d for d in pending if d["approver"]["userid"] == userid), None) if userid else pending[0]
    if detail is None:
        raise ValueError(f"{userid} is not a pending approver of the current node")
    detail.update(sp_status=2 if action == "approve" else 3, speech=speech, sptime=now)
    if action == "reject":
        node["sp_status"] = info["sp_status"] = 3
        return 3
    if node["approverattr"] == 1 or len(pending) == 1:  # 或签: one is enough; 会签: the last one closes the node
        node["sp_status"] = 2
        if all(r["sp_status"] == 2 for r in info["sp_record"]):
            info["sp_status"] = 2
    return 2
