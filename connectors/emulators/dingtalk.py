"""A DingTalk (钉钉) emulator: the new API (``/v1.0/...``) and the legacy ``topapi`` on one address.

Vendor endpoints (real paths and shapes; a real tenant serves the first two on ``api.dingtalk.com``, the rest
on ``oapi.dingtalk.com``):

- ``POST /v1.0/oauth2/accessToken {appKey, appSecret}`` → ``{accessToken, expireIn: 7200}``; asking again
  within 7,200 s returns the same token and extends it. Legacy ``GET /gettoken?appkey&appsecret``.
- ``POST /v1.0/workflow/processInstances`` (create; component names validated against the template; no
  idempotency: the same body twice makes two instances) and ``GET /v1.0/workflow/processInstances
  ?processInstanceId=`` (read), token in the ``x-acs-dingtalk-access-token`` header. Legacy
  ``POST /topapi/processinstance/listids`` for reconciling.
- ``POST /topapi/message/corpconversation/asyncsend_v2`` (work notification), ``POST /topapi/v2/user/getuserinfo
  {code}`` (SSO code, single use, 5 minutes), ``POST /topapi/v2/department/listsub {dept_id}``,
  ``POST /topapi/v2/department/get {dept_id}``, ``POST /topapi/v2/user/list {dept_id, cursor, size}``,
  ``POST /topapi/v2/user/get {userid}``; legacy calls take ``?access_token=`` and answer HTTP 200
  ``{errcode, errmsg, ...}``.
- The browser sign-in: ``GET /oauth2/auth`` (login.dingtalk.com's page: here a list of people to sign in as; back
  to ``redirect_uri?authCode&state``), ``POST /v1.0/oauth2/userAccessToken``, ``GET /v1.0/contact/users/me``
  (→ ``unionId``), ``POST /topapi/user/getbyunionid`` (→ ``userid``).

Errors as DingTalk gives them: new API HTTP 400 ``{code: InvalidAuthentication, message, requestid}`` for a bad or
expired token, HTTP 403 ``Forbidden.AccessDenied.QpsLimitForAppkeyAndApi`` when throttled, HTTP 400 with a
parameter code for validation; legacy errcode 40014 / 42001 (token), 90018 (throttle), 40078 (auth code).

Control endpoints (the emulator's own; JSON in, JSON out):

- ``POST /_emulator/faults``, ``POST /_emulator/clock {advance}``: see ``connectors.emulators.base``.
- ``POST /_emulator/callback {url, token, aes_key, receive_id?, verify?}``: where and how to post callbacks
  (``receive_id`` defaults to the app key); ``verify: true`` posts ``check_url`` first and keeps the settings only
  if the URL answers a sealed "success" within 1.5 s, as DingTalk does when a URL is registered.
- ``POST /_emulator/instances/<id>/approve|reject {user_id?, remark?}``: act as an approver (default: the first
  approver still to act); ``POST /_emulator/instances/<id>/cancel``: the originator withdraws it. Each posts
  ``bpms_task_change`` and, when the instance ends, ``bpms_instance_change``, honouring the drop/duplicate faults
  (a duplicate is the same event in a fresh envelope, as DingTalk's retries are).
- ``POST /_emulator/oauth/code {user_id, web?}`` → ``{code}``: what ``dd.requestAuthCode`` gives the app in
  DingTalk; with ``web: true`` the ``authCode`` the browser sign-in brings back instead.
- ``POST /_emulator/users {userid, name?, dept_id_list?, active?}`` adds or changes a user (rename, move, mark
  inactive); ``POST /_emulator/users/<userid>/leave`` removes them (DingTalk has no disabled state: people who
  leave vanish from the directory); ``POST /_emulator/departments {dept_id, name?, parent_id?}`` adds or changes one.
- ``POST /_emulator/redeliver``: DingTalk's retry: posts again every event whose delivery was not acknowledged
  (no answer within 1.5 s, or not a sealed "success"), each in a fresh envelope.
- ``GET /_emulator/state``: instances, messages and callback deliveries; ``GET /_emulator/``: a page listing
  instances with approve/reject/cancel buttons.
"""

from __future__ import annotations

import copy
import html
import json
import secrets
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

import requests
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from connectors.emulators.base import Clock, Emulator, json_response
from connectors.oa.dingtalk_callbacks import DingTalkCallbackConfig, reply_is_success
from connectors.oa.envelope import seal, sha1_signature

TOKEN_SECONDS = 7200
CODE_SECONDS = 300
REPLY_DEADLINE_S = 1.5  # DingTalk counts a slower answer as a failed delivery
TOKEN_HEADER = "x-acs-dingtalk-access-token"  # noqa: S105 (a header name)

DEFAULT_APP_KEY, DEFAULT_APP_SECRET = "dingemulatorappkey", "emulator-app-secret"
DEFAULT_CORP_ID, DEFAULT_AGENT_ID = "dingemulatorcorp", 1000001

# a template's components: name → componentType; the emulator refuses names the template does not have
DEFAULT_TEMPLATES: dict[str, dict[str, Any]] = {
    "PROC-BUDGETFLOW-EXPENSE": {"name": "费用报销", "components": {
        "金额(元)": "MoneyField", "事由": "TextareaField", "费用类型": "DDSelectField", "单号": "TextField",
        "预算科目": "TextField", "预算余额(元)": "MoneyField", "链接": "TextField"}},
    "PROC-BUDGETFLOW-TRAVEL": {"name": "出差申请", "components": {
        "出差事由": "TextareaField", "目的地": "TextField", "开始日期": "DDDateField", "结束日期": "DDDateField",
        "预计费用(元)": "MoneyField"}},
}


@dataclass
class Instance:
    """One approval instance, in the new API's terms."""

    id: str
    process_code: str
    title: str
    originator: str
    dept_id: int
    business_id: str
    form: list[dict[str, Any]]
    create_ms: int
    tasks: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    status: str = "RUNNING"  # RUNNING, COMPLETED, TERMINATED
    result: str = ""  # agree or refuse once COMPLETED
    finish_ms: int | None = None
    or_sign: bool = False  # approvers' actionType OR: the first to act decides


def _utc(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(ms / 1000))


class DingTalkEmulator(Emulator):
    rules = [
        Rule("/v1.0/oauth2/accessToken", endpoint="new_token", methods=["POST"]),
        Rule("/gettoken", endpoint="legacy_token", methods=["GET"]),
        Rule("/v1.0/workflow/processInstances", endpoint="create_instance", methods=["POST"]),
        Rule("/v1.0/workflow/processInstances", endpoint="get_instance", methods=["GET"]),
        Rule("/topapi/processinstance/listids", endpoint="list_instance_ids", methods=["POST"]),
        Rule("/topapi/message/corpconversation/asyncsend_v2", endpoint="send_message", methods=["POST"]),
        Rule("/topapi/v2/user/getuserinfo", endpoint="user_for_code", methods=["POST"]),
        Rule("/oauth2/auth", endpoint="web_authorize", methods=["GET"]),
        Rule("/v1.0/oauth2/userAccessToken", endpoint="web_user_token", methods=["POST"]),
        Rule("/v1.0/contact/users/me", endpoint="web_me", methods=["GET"]),
        Rule("/topapi/user/getbyunionid", endpoint="userid_for_unionid", methods=["POST"]),
        Rule("/topapi/v2/department/listsub", endpoint="list_departments", methods=["POST"]),
        Rule("/topapi/v2/department/get", endpoint="get_department", methods=["POST"]),
        Rule("/topapi/v2/user/list", endpoint="list_users", methods=["POST"]),
        Rule("/topapi/v2/user/get", endpoint="get_user", methods=["POST"]),
        Rule("/_emulator/", endpoint="control_page", methods=["GET"]),
        Rule("/_emulator/state", endpoint="control_state", methods=["GET"]),
        Rule("/_emulator/callback", endpoint="control_callback", methods=["POST"]),
        Rule("/_emulator/redeliver", endpoint="control_redeliver", methods=["POST"]),
        Rule("/_emulator/instances/<instance_id>/<action>", endpoint="control_act", methods=["POST"]),
        Rule("/_emulator/oauth/code", endpoint="control_code", methods=["POST"]),
        Rule("/_emulator/users", endpoint="control_user", methods=["POST"]),
        Rule("/_emulator/users/<userid>/leave", endpoint="control_leave", methods=["POST"]),
        Rule("/_emulator/departments", endpoint="control_department", methods=["POST"]),
    ]

    def __init__(self, clock: Clock | None = None, *, app_key: str = DEFAULT_APP_KEY,
                 app_secret: str = DEFAULT_APP_SECRET, corp_id: str = DEFAULT_CORP_ID,
                 agent_id: int = DEFAULT_AGENT_ID, post: Callable[..., requests.Response] | None = None) -> None:
        # a werkzeug Rule binds to one Map: each emulator gets unbound copies, so several can run in one process
        self.rules = [rule.empty() for rule in type(self).rules]
        super().__init__(clock)
        self.app_key, self.app_secret, self.corp_id, self.agent_id = app_key, app_secret, corp_id, agent_id
        self.templates = copy.deepcopy(DEFAULT_TEMPLATES)
        self.tokens: dict[str, float] = {}  # token → expires at
        self.current_token: str | None = None
        self.fresh_tokens: set[str] = set()  # issued and not used yet (the expire_tokens fault)
        self.token_requests = 0
        self.instances: dict[str, Instance] = {}
        self.codes: dict[str, tuple[str, float]] = {}  # in-app SSO code → (userid, expires at)
        self.web_codes: dict[str, tuple[str, float]] = {}  # browser sign-in authCode → (userid, expires at)
        self.user_tokens: dict[str, tuple[str, float]] = {}  # a person's access token → (userid, expires at)
        self.messages: list[dict[str, Any]] = []
        self.callback: DingTalkCallbackConfig | None = None
        self.callback_url = ""
        self.deliveries: list[dict[str, Any]] = []
        self._post = post or requests.post
        self._sender: ThreadPoolExecutor | None = None  # posts creation's callbacks after the answer, in order
        self._pending: list[Future[None]] = []
        self._next_task = 60000
        self.departments: dict[int, dict[str, Any]] = {
            1: {"dept_id": 1, "name": "Emulated Corp", "parent_id": 0},
            2: {"dept_id": 2, "name": "财务部", "parent_id": 1},
            3: {"dept_id": 3, "name": "销售部", "parent_id": 1}}
        self.users: dict[str, dict[str, Any]] = {}
        for userid, name, depts in [("manager01", "王经理", [1]), ("finance01", "李会计", [2]),
                                    ("sales01", "张三", [3]), ("sales02", "赵四", [3])]:
            self._upsert_user({"userid": userid, "name": name, "dept_id_list": depts})

    # ---- tokens and the vendor's error shapes -------------------------------------------------------------

    def new_token(self, request: Request) -> Response:
        if self.throttled_now():
            return self._new_throttled()
        body = _json(request)
        if body.get("appKey") != self.app_key or body.get("appSecret") != self.app_secret:
            return self._new_error(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
        return json_response({"accessToken": self._issue_token(), "expireIn": TOKEN_SECONDS})

    def legacy_token(self, request: Request) -> Response:
        if self.throttled_now():
            return _legacy_error(90018, "当前企业调用该接口的qps超过了限制")
        if request.args.get("appkey") != self.app_key or request.args.get("appsecret") != self.app_secret:
            return _legacy_error(40089, "不合法的corpid或corpsecret")
        return json_response({"errcode": 0, "errmsg": "ok", "access_token": self._issue_token(),
                              "expires_in": TOKEN_SECONDS})

    def _issue_token(self) -> str:
        """The current token if it is still good (its life extended), else a new one."""
        with self.lock:
            now = self.clock.now()
            token = self.current_token
            if token is None or self.tokens.get(token, 0) <= now:
                token = secrets.token_hex(16)
                self.current_token = token
            self.tokens[token] = now + TOKEN_SECONDS
            self.fresh_tokens.add(token)
            self.token_requests += 1  # answered token requests (a repeat may return the same token)
            return token

    def _token_refusal(self, token: str | None) -> str | None:
        """Why ``token`` is refused ("invalid" or "expired"), or None if it is good."""
        with self.lock:
            expires = self.tokens.get(token or "")
            if expires is None:
                return "invalid"
            if self.faults.expire_tokens and token in self.fresh_tokens:
                del self.tokens[token or ""]
                self.current_token = None
                return "expired"
            self.fresh_tokens.discard(token or "")
            return "expired" if expires <= self.clock.now() else None

    def _new_api_guard(self, request: Request) -> Response | None:
        """The new API's refusal of this call (throttle, token), or None to serve it."""
        if self.throttled_now():
            return self._new_throttled()
        if self._token_refusal(request.headers.get(TOKEN_HEADER)):
            return self._new_error(400, "InvalidAuthentication", "不合法的access_token")
        return None

    def _legacy_guard(self, request: Request) -> Response | None:
        if self.throttled_now():
            return _legacy_error(90018, "当前企业调用该接口的qps超过了限制")
        refusal = self._token_refusal(request.args.get("access_token"))
        if refusal == "invalid":
            return _legacy_error(40014, "不合法的access_token")
        if refusal == "expired":
            return _legacy_error(42001, "access_token超时")
        return None

    def _new_throttled(self) -> Response:
        return self._new_error(403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
                               "The request has failed due to QPS limit for appkey and api.")

    @staticmethod
    def _new_error(status: int, code: str, message: str) -> Response:
        return json_response({"code": code, "message": message, "requestid": uuid.uuid4().hex.upper()}, status)

    # ---- approvals ------------------------------------------------------------------------------------------

    def create_instance(self, request: Request) -> Response:
        refused = self._new_api_guard(request)
        if refused:
            return refused
        body = _json(request)
        problem = self._create_problem(body)
        if problem:
            return self._new_error(400, *problem)
        with self.lock:
            instance = self._new_instance(body)
            self.instances[instance.id] = instance
        events = [self._instance_event(instance, "start")]
        events += [self._task_event(instance, task, "start") for task in instance.tasks]
        self._deliver_later(events)
        return json_response({"instanceId": instance.id})

    def _create_problem(self, body: dict[str, Any]) -> tuple[str, str] | None:
        """(code, message) of what DingTalk would refuse in a create body, or None."""
        template = self.templates.get(str(body.get("processCode")))
        if template is None:
            return "paramError", "processCode不存在或未发布"
        if body.get("originatorUserId") not in self.users:
            return "paramError", "originatorUserId不存在"
        values = body.get("formComponentValues")
        if not isinstance(values, list) or not values:
            return "paramError", "formComponentValues不能为空"
        for value in values:
            problem = _component_problem(template["components"], value)
            if problem:
                return "paramError", problem
        for group in body.get("approvers") or []:
            if not isinstance(group, dict) or not group.get("userIds") or \
                    any(userid not in self.users for userid in group["userIds"]):
                return "paramError", "approvers中的userIds不存在"
        return None

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
        instance.records.append({"userId": instance.originator, "date": _utc(now_ms), "type": "START_PROCESS_INSTANCE",
                                 "result": "NONE", "showName": "发起审批"})
        for userid in [u for g in groups for u in g["userIds"]]:
            self._next_task += 1
            instance.tasks.append({"taskId": self._next_task, "userId": userid, "status": "RUNNING",
                                   "result": "NONE", "activityId": "act-approve", "createTime": _utc(now_ms),
                                   "processInstanceId": instance.id})
        return instance

    def get_instance(self, request: Request) -> Response:
        refused = self._new_api_guard(request)
        if refused:
            return refused
        with self.lock:
            instance = self.instances.get(request.args.get("processInstanceId", ""))
            if instance is None:
                return self._new_error(400, "paramError", "processInstanceId不存在")
            return json_response({"success": True, "result": self._instance_view(instance)})

    def _instance_view(self, instance: Instance) -> dict[str, Any]:
        view = {"title": instance.title, "status": instance.status, "result": instance.result,
                "businessId": instance.business_id, "originatorUserId": instance.originator,
                "originatorDeptId": str(instance.dept_id),
                "originatorDeptName": self.departments.get(instance.dept_id, {}).get("name", ""),
                "createTime": _utc(instance.create_ms), "formComponentValues": instance.form,
                "operationRecords": instance.records, "tasks": instance.tasks,
                "approverUserIds": [t["userId"] for t in instance.tasks], "ccUserIds": [], "bizAction": "NONE"}
        if instance.finish_ms is not None:
            view["finishTime"] = _utc(instance.finish_ms)
        return view

    def list_instance_ids(self, request: Request) -> Response:
        refused = self._legacy_guard(request)
        if refused:
            return refused
        body = _json(request)
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

    # ---- acting as the OA approver --------------------------------------------------------------------------

    def control_act(self, request: Request, instance_id: str, action: str) -> Response:
        body = _json(request)
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
        task.update(status="COMPLETED", result="AGREE" if agree else "REFUSE", finishTime=_utc(now_ms))
        instance.records.append({"userId": task["userId"], "date": _utc(now_ms), "type": "EXECUTE_TASK_NORMAL",
                                 "result": task["result"], "remark": remark, "showName": "审批人"})
        events = [self._task_event(instance, task, "finish", "agree" if agree else "refuse", now_ms)]
        running = [t for t in instance.tasks if t["status"] == "RUNNING"]
        if agree and running and not instance.or_sign:
            return events
        for other in running:
            other.update(status="CANCELED", finishTime=_utc(now_ms))
        instance.status, instance.result, instance.finish_ms = "COMPLETED", "agree" if agree else "refuse", now_ms
        return [*events, self._instance_event(instance, "finish", task["userId"])]

    def _terminate(self, instance: Instance) -> list[dict[str, Any]]:
        now_ms = int(self.clock.now() * 1000)
        events = []
        for task in instance.tasks:
            if task["status"] == "RUNNING":
                task.update(status="CANCELED", finishTime=_utc(now_ms))
                events.append(self._task_event(instance, task, "cancel", "", now_ms))
        instance.records.append({"userId": instance.originator, "date": _utc(now_ms),
                                 "type": "TERMINATE_PROCESS_INSTANCE", "result": "NONE", "showName": "撤销"})
        instance.status, instance.finish_ms = "TERMINATED", now_ms
        return [*events, self._instance_event(instance, "terminate", instance.originator)]

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

    # ---- callbacks ------------------------------------------------------------------------------------------

    def control_callback(self, request: Request) -> Response:
        body = _json(request)
        try:
            config = DingTalkCallbackConfig(app_key=self.app_key, token=str(body["token"]),
                                            encoding_aes_key=str(body["aes_key"]),
                                            receive_id=body.get("receive_id"), corp_id=self.corp_id)
            url = str(body["url"])
        except KeyError as exc:
            return json_response({"error": f"missing {exc.args[0]}"}, 400)
        if body.get("verify"):
            started = time.monotonic()
            delivery = self._post_event(config, url, {"EventType": "check_url"})
            if not delivery["acknowledged"] or time.monotonic() - started > REPLY_DEADLINE_S:
                return json_response({"error": "the URL did not answer check_url with a sealed success in time",
                                      "delivery": delivery}, 400)
        with self.lock:
            self.callback, self.callback_url = config, url
        return json_response({"url": url, "receive_id": config.receiver})

    def _deliver_later(self, events: list[dict[str, Any]]) -> None:
        """Deliver ``events`` from a background thread: DingTalk calls back after answering the API call."""
        with self.lock:
            if self._sender is None:
                self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dingtalk callbacks")
            self._pending.append(self._sender.submit(self._deliver_all, events))

    def _deliver_all(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            self._deliver(event)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until the callbacks queued so far were delivered (tests; the approve/reject actions)."""
        with self.lock:
            pending, self._pending = self._pending, []
        for future in pending:
            future.result(timeout=timeout)

    def _deliver(self, event: dict[str, Any]) -> None:
        """Post ``event`` to the configured URL, as often as the faults say (not at all if dropped)."""
        config, url = self.callback, self.callback_url
        if config is None:
            return
        if self.faults.drop_callbacks:
            self.deliveries.append({"event": event, "dropped": True, "acknowledged": False})
            return
        for _ in range(1 + self.faults.duplicate_callbacks):
            self.deliveries.append(self._post_event(config, url, event))

    def control_redeliver(self, request: Request) -> Response:
        """DingTalk's retry: post again, in fresh envelopes, every event whose delivery was not acknowledged."""
        self.flush()
        with self.lock:
            failed = [d for d in self.deliveries if not d["acknowledged"] and not d.get("retried")]
            for delivery in failed:
                delivery["retried"] = True
        for delivery in failed:
            self._deliver(delivery["event"])
        return json_response({"redelivered": len(failed)})

    def _post_event(self, config: DingTalkCallbackConfig, url: str, event: dict[str, Any]) -> dict[str, Any]:
        """One delivery in a fresh envelope; whether the receiver acknowledged it as DingTalk requires."""
        timestamp, nonce = str(int(self.clock.now() * 1000)), secrets.token_urlsafe(6)
        encrypted = seal(config.encoding_aes_key, json.dumps(event, ensure_ascii=False).encode(), config.receiver)
        query = {"msg_signature": sha1_signature(config.token, timestamp, nonce, encrypted),
                 "timestamp": timestamp, "nonce": nonce}
        delivery: dict[str, Any] = {"event": event, "dropped": False, "acknowledged": False, "status": None}
        try:
            answer = self._post(url, params=query, json={"encrypt": encrypted}, timeout=REPLY_DEADLINE_S)
        except requests.RequestException as exc:
            delivery["error"] = type(exc).__name__
            return delivery
        delivery["status"] = answer.status_code
        delivery["acknowledged"] = answer.status_code == 200 and reply_is_success(config, answer.content)
        return delivery

    # ---- messages and SSO -----------------------------------------------------------------------------------

    def send_message(self, request: Request) -> Response:
        refused = self._legacy_guard(request)
        if refused:
            return refused
        body = _json(request)
        if str(body.get("agent_id")) != str(self.agent_id):
            return _legacy_error(88, "ding talk error[subcode=40004,submsg=不合法的agentid]")
        msg, userids = body.get("msg"), [u for u in str(body.get("userid_list", "")).split(",") if u]
        if not isinstance(msg, dict) or not msg.get("msgtype") or msg["msgtype"] not in msg:
            return _legacy_error(40035, "缺少参数 msg 或 msgtype")
        if not userids and not body.get("dept_id_list") and not body.get("to_all_user"):
            return _legacy_error(40035, "缺少参数 userid_list")
        with self.lock:
            self.messages.append({"task_id": len(self.messages) + 1000, "userids": userids, "msg": msg})
            task_id = self.messages[-1]["task_id"]
        return json_response({"errcode": 0, "errmsg": "ok", "task_id": task_id, "request_id": uuid.uuid4().hex})

    def control_code(self, request: Request) -> Response:
        body = _json(request)
        userid = body.get("user_id")
        with self.lock:
            if userid not in self.users:
                return json_response({"error": f"no user {userid!r} in the directory"}, 404)
            code = self._new_code(self.web_codes if body.get("web") else self.codes, userid)
        return json_response({"code": code})

    def _new_code(self, codes: dict[str, tuple[str, float]], userid: str) -> str:
        code = secrets.token_hex(16)
        codes[code] = (userid, self.clock.now() + CODE_SECONDS)
        return code

    # the browser sign-in: login page → authCode → the person's token → unionId → userid

    def web_authorize(self, request: Request) -> Response:
        """DingTalk's login page (login.dingtalk.com): here a list of the directory's people to sign in as."""
        args = request.args
        if args.get("client_id") != self.app_key or args.get("response_type") != "code" or \
                not args.get("redirect_uri", "").startswith(("http://", "https://")):
            return Response("invalid client_id, response_type or redirect_uri", status=400)
        userid = args.get("user_id")
        if userid:
            with self.lock:
                if userid not in self.users:
                    return Response("no such user", status=404)
                code = self._new_code(self.web_codes, userid)
            query = urlencode({"authCode": code, "state": args.get("state", "")})
            separator = "&" if "?" in args["redirect_uri"] else "?"
            return Response(status=302, headers={"Location": f"{args['redirect_uri']}{separator}{query}"})
        with self.lock:
            links = "".join(f'<li><a href="?{html.escape(urlencode({**args, "user_id": u["userid"]}))}">'
                            f"{html.escape(u['name'])} ({html.escape(u['userid'])})</a></li>"
                            for u in self.users.values())
        page = f"<!doctype html><meta charset=utf-8><title>钉钉登录</title><h1>Sign in as</h1><ul>{links}</ul>"
        return Response(page, content_type="text/html; charset=utf-8")

    def web_user_token(self, request: Request) -> Response:
        if self.throttled_now():
            return self._new_throttled()
        body = _json(request)
        if body.get("clientId") != self.app_key or body.get("clientSecret") != self.app_secret:
            return self._new_error(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
        with self.lock:
            userid, expires = self.web_codes.pop(str(body.get("code", "")), ("", 0.0))
            if body.get("grantType") != "authorization_code" or userid not in self.users or \
                    expires <= self.clock.now():
                return self._new_error(400, "invalidAuthCode", "无效的授权码")
            token = secrets.token_hex(16)
            self.user_tokens[token] = (userid, self.clock.now() + TOKEN_SECONDS)
        return json_response({"accessToken": token, "refreshToken": secrets.token_hex(16), "expireIn": TOKEN_SECONDS,
                              "corpId": self.corp_id})

    def web_me(self, request: Request) -> Response:
        if self.throttled_now():
            return self._new_throttled()
        with self.lock:
            userid, expires = self.user_tokens.get(request.headers.get(TOKEN_HEADER, ""), ("", 0.0))
            user = self.users.get(userid)
            if user is None or expires <= self.clock.now():
                return self._new_error(400, "InvalidAuthentication", "不合法的access_token")
        return json_response({"nick": user["name"], "unionId": user["unionid"], "openId": "open" + user["unionid"],
                              "avatarUrl": "", "mobile": user.get("mobile", ""), "stateCode": "86"})

    def userid_for_unionid(self, request: Request) -> Response:
        refused = self._legacy_guard(request)
        if refused:
            return refused
        unionid = str(_json(request).get("unionid", ""))
        with self.lock:
            userid = next((u["userid"] for u in self.users.values() if u["unionid"] == unionid), None)
        if userid is None:
            return _legacy_error(60121, "找不到该用户")
        return json_response({"errcode": 0, "errmsg": "ok", "result": {"contact_type": 0, "userid": userid},
                              "request_id": uuid.uuid4().hex})

    def user_for_code(self, request: Request) -> Response:
        refused = self._legacy_guard(request)
        if refused:
            return refused
        with self.lock:
            userid, expires = self.codes.pop(str(_json(request).get("code", "")), ("", 0.0))
            user = self.users.get(userid)
            if user is None or expires <= self.clock.now():
                return _legacy_error(40078, "不存在的临时授权码")
            return json_response({"errcode": 0, "errmsg": "ok", "request_id": uuid.uuid4().hex, "result": {
                "userid": userid, "unionid": user["unionid"], "name": user["name"], "device_id": "emulated",
                "sys": userid == "manager01", "sys_level": 1 if userid == "manager01" else 0,
                "associated_unionid": ""}})

    # ---- the directory --------------------------------------------------------------------------------------

    def list_departments(self, request: Request) -> Response:
        refused = self._legacy_guard(request)
        if refused:
            return refused
        parent = int(_json(request).get("dept_id") or 1)
        with self.lock:
            if parent not in self.departments:
                return _legacy_error(60003, "部门不存在")
            children = [{**d, "create_dept_group": False, "auto_add_user": False}
                        for d in self.departments.values() if d["parent_id"] == parent and d["dept_id"] != parent]
        return json_response({"errcode": 0, "errmsg": "ok", "result": children, "request_id": uuid.uuid4().hex})

    def get_department(self, request: Request) -> Response:
        refused = self._legacy_guard(request)
        if refused:
            return refused
        with self.lock:
            department = self.departments.get(int(_json(request).get("dept_id") or 0))
        if department is None:
            return _legacy_error(60003, "部门不存在")
        shown = {k: v for k, v in department.items() if not (k == "parent_id" and v == 0)}  # the root has none
        return json_response({"errcode": 0, "errmsg": "ok", "result": shown, "request_id": uuid.uuid4().hex})

    def list_users(self, request: Request) -> Response:
        refused = self._legacy_guard(request)
        if refused:
            return refused
        body = _json(request)
        dept, cursor, size = int(body.get("dept_id") or 0), int(body.get("cursor") or 0), int(body.get("size") or 0)
        if not 1 <= size <= 100:
            return _legacy_error(40035, "size 取值范围 1-100")
        with self.lock:
            if dept not in self.departments:
                return _legacy_error(60003, "部门不存在")
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
            user = self.users.get(str(_json(request).get("userid", "")))
        if user is None:
            return _legacy_error(60121, "找不到该用户")
        return json_response({"errcode": 0, "errmsg": "ok", "result": user, "request_id": uuid.uuid4().hex})

    def control_user(self, request: Request) -> Response:
        body = _json(request)
        if not body.get("userid"):
            return json_response({"error": "userid is required"}, 400)
        with self.lock:
            unknown = [d for d in body.get("dept_id_list", []) if d not in self.departments]
            if unknown:
                return json_response({"error": f"no departments {unknown}"}, 400)
            if body["userid"] not in self.users and not body.get("name"):
                return json_response({"error": "a new user needs a name"}, 400)
            return json_response(self._upsert_user(body))

    def _upsert_user(self, changes: dict[str, Any]) -> dict[str, Any]:
        user = self.users.setdefault(changes["userid"], {
            "userid": changes["userid"], "unionid": "union" + secrets.token_hex(8), "name": "", "dept_id_list": [1],
            "active": True, "admin": False, "boss": False, "title": "", "mobile": "", "email": ""})
        for name in ("name", "dept_id_list", "active", "title", "mobile", "email"):
            if name in changes:
                user[name] = changes[name]
        return user

    def control_leave(self, request: Request, userid: str) -> Response:
        with self.lock:
            user = self.users.pop(userid, None)
            self.codes = {c: v for c, v in self.codes.items() if v[0] != userid}
            self.web_codes = {c: v for c, v in self.web_codes.items() if v[0] != userid}
        if user is None:
            return json_response({"error": f"no user {userid!r}"}, 404)
        return json_response({"left": userid})

    def control_department(self, request: Request) -> Response:
        body = _json(request)
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

    # ---- looking in -----------------------------------------------------------------------------------------

    def control_state(self, request: Request) -> Response:
        with self.lock:
            return json_response({"instances": [self._instance_view(i) | {"processInstanceId": i.id}
                                                for i in self.instances.values()],
                                  "messages": self.messages, "deliveries": self.deliveries,
                                  "token_requests": self.token_requests})

    def control_page(self, request: Request) -> Response:
        rows = []
        with self.lock:
            for instance in self.instances.values():
                buttons = "".join(
                    f'<form method="post" action="/_emulator/instances/{html.escape(instance.id)}/{a}" '
                    f'style="display:inline"><button>{a}</button></form>'
                    for a in ("approve", "reject", "cancel")) if instance.status == "RUNNING" else ""
                rows.append(f"<tr><td>{html.escape(instance.id)}</td><td>{html.escape(instance.title)}</td>"
                            f"<td>{instance.status} {instance.result}</td><td>{buttons}</td></tr>")
        page = ("<!doctype html><meta charset=utf-8><title>DingTalk emulator</title><h1>钉钉 approvals</h1>"
                f"<table border=1><tr><th>id</th><th>title</th><th>status</th><th></th></tr>{''.join(rows)}</table>")
        return Response(page, content_type="text/html; charset=utf-8")


def _json(request: Request) -> dict[str, Any]:
    """The request's JSON object ({} for none, a form post from the page, or something else)."""
    try:
        value = json.loads(request.get_data() or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _legacy_error(errcode: int, errmsg: str) -> Response:
    return json_response({"errcode": errcode, "errmsg": errmsg, "request_id": uuid.uuid4().hex})


def _component_problem(components: dict[str, str], value: object) -> str | None:
    """What is wrong with one formComponentValues entry, as DingTalk would say it, or None."""
    if not isinstance(value, dict) or not isinstance(value.get("name"), str) or "value" not in value:
        return "formComponentValues的每一项都需要name和value"
    if value["name"] not in components:
        return f"表单组件{value['name']}不存在"
    if not isinstance(value["value"], str):
        return f"表单组件{value['name']}的值必须是字符串"
    if components[value["name"]] == "MoneyField":
        try:
            Decimal(value["value"])
        except InvalidOperation:
            return f"表单组件{value['name']}的金额格式错误"
    return None
