"""A Feishu (飞书) emulator: the Open Platform paths and shapes budgetflow's connector and lark-oapi use.

Vendor endpoints (``/open-apis/...``): tenant token (a new one in the last 30 minutes before expiry, the old
staying valid until its own expiry), approval instance create (``form`` a JSON string, ``uuid`` reuse → 60012)
/ get / list, approval subscribe, message send, OAuth authorize (a code for a user) + v2 token exchange +
user_info, department children and users by department. Errors are Feishu's: ``{code, msg, data}`` with HTTP
400 for a missing (99991661) or invalid (99991663) tenant token, HTTP 429 + 99991400 + ``x-ogw-ratelimit-reset``
when throttled, HTTP 400 1390001 for invalid parameters; OAuth errors HTTP 400 ``{code, error,
error_description}``.

Control endpoints (the emulator's own):

- ``GET /_emulator/`` a page listing instances with approve / reject buttons.
- ``POST /_emulator/callback`` ``{"url", "encrypt_key", "verification_token", "schema": "1.0"|"2.0",
  "verify": bool}``: where events go and how they are sealed; ``verify`` first posts Feishu's URL verification.
- ``POST /_emulator/instances/<code>/<approve|reject|cancel>`` ``{"user_id"?, "comment"?}``: act as the OA
  approver (or, for cancel, the applicant); posts ``approval_task`` and ``approval_instance`` events if the
  approval was subscribed, honouring the drop/duplicate faults and posting again (twice at most) when the
  receiver does not answer 200. Answers the deliveries' HTTP statuses.
- ``POST /_emulator/oauth/code`` ``{"user_id", "redirect_uri"?}`` → ``{"code"}``: what authorize would issue.
- ``POST /_emulator/directory/users`` ``{"user_id", "name"?, "department_ids"?, "active"?, "open_id"?}``: add, rename,
  move or disable a person; ``POST /_emulator/directory/departments`` ``{"department_id", "name"?,
  "parent_id"?, "deleted"?}`` likewise for a department.
- ``GET /_emulator/messages``: the messages sent so far. Plus the base's ``/_emulator/faults`` and ``/clock``.
"""

from __future__ import annotations

import html
import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests
from werkzeug.routing import Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from connectors.emulators.base import Clock, Emulator, json_response
from connectors.oa import feishu_callbacks
from connectors.oa.http import TIMEOUT

TOKEN_LIFETIME = 7200
RENEW_WITHIN = 1800  # Feishu issues a new tenant token in the last 30 minutes of the current one
CODE_LIFETIME = 300
THROTTLE_RESET_S = 1
RETRIES = 2  # more posts of an event its receiver did not answer with HTTP 200
STATUSES = {"approve": "APPROVED", "reject": "REJECTED", "cancel": "CANCELED"}


@dataclass
class Person:
    user_id: str
    name: str
    department_ids: list[str]
    active: bool = True
    open_id: str = field(default_factory=lambda: "ou_" + uuid.uuid4().hex)
    union_id: str = field(default_factory=lambda: "on_" + uuid.uuid4().hex)


@dataclass
class Department:
    department_id: str
    name: str
    parent_id: str
    deleted: bool = False


@dataclass
class CallbackTarget:
    url: str
    encrypt_key: str
    verification_token: str
    schema: str = "1.0"


def _error(code: int, msg: str, status: int = 400, headers: dict[str, str] | None = None) -> Response:
    return json_response({"code": code, "msg": msg, "data": {}}, status, headers)


def _ok(data: Any) -> Response:
    return json_response({"code": 0, "msg": "success", "data": data})


def _body(request: Request) -> dict[str, Any]:
    found = request.get_json(force=True, silent=True)
    return found if isinstance(found, dict) else {}


class FeishuEmulator(Emulator):
    ROUTES = [
        Rule("/open-apis/auth/v3/tenant_access_token/internal", endpoint="tenant_token", methods=["POST"]),
        Rule("/open-apis/approval/v4/instances", endpoint="create_instance", methods=["POST"]),
        Rule("/open-apis/approval/v4/instances", endpoint="list_instances", methods=["GET"]),
        Rule("/open-apis/approval/v4/instances/<code>", endpoint="get_instance", methods=["GET"]),
        Rule("/open-apis/approval/v4/approvals/<approval_code>/subscribe", endpoint="subscribe", methods=["POST"]),
        Rule("/open-apis/im/v1/messages", endpoint="send_message", methods=["POST"]),
        Rule("/open-apis/authen/v1/authorize", endpoint="authorize", methods=["GET"]),
        Rule("/open-apis/authen/v2/oauth/token", endpoint="oauth_token", methods=["POST"]),
        Rule("/open-apis/authen/v1/user_info", endpoint="user_info", methods=["GET"]),
        Rule("/open-apis/contact/v3/departments/<department_id>/children", endpoint="department_children",
             methods=["GET"]),
        Rule("/open-apis/contact/v3/users/find_by_department", endpoint="users_by_department", methods=["GET"]),
        Rule("/_emulator/", endpoint="control_page", methods=["GET"]),
        Rule("/_emulator/callback", endpoint="control_callback", methods=["POST"]),
        Rule("/_emulator/instances/<code>/<action>", endpoint="control_act", methods=["POST"]),
        Rule("/_emulator/oauth/code", endpoint="control_oauth_code", methods=["POST"]),
        Rule("/_emulator/directory/users", endpoint="control_user", methods=["POST"]),
        Rule("/_emulator/directory/departments", endpoint="control_department", methods=["POST"]),
        Rule("/_emulator/messages", endpoint="control_messages", methods=["GET"]),
    ]

    def __init__(self, clock: Clock | None = None, *, app_id: str = "cli_emulator0001",
                 app_secret: str = "emulator-app-secret",  # noqa: S107 - the emulator's own demo app
                 approval_codes: tuple[str, ...] = ("BUDGETFLOW-APPROVAL-0001",)) -> None:
        # A werkzeug Rule binds to one Map: each emulator gets its own copies, so several can run at once.
        self.rules = [rule.empty() for rule in self.ROUTES]
        super().__init__(clock)
        self.app_id, self.app_secret = app_id, app_secret
        self.approval_codes = set(approval_codes)
        self.subscribed: set[str] = set()
        self.tokens: dict[str, float] = {}  # tenant token -> expires at
        self.current_token = ""
        self.instances: dict[str, dict[str, Any]] = {}
        self.by_uuid: dict[str, str] = {}
        self.messages: list[dict[str, Any]] = []
        self.codes: dict[str, tuple[str, str, float]] = {}  # OAuth code -> user id, redirect uri, expires at
        self.user_tokens: dict[str, tuple[str, float]] = {}  # user access token -> user id, expires at
        self.callback: CallbackTarget | None = None
        self.departments: dict[str, Department] = {"0": Department("0", "Company", "")}
        self.people: dict[str, Person] = {}
        self._seed_directory()

    def _seed_directory(self) -> None:
        self.departments["D100"] = Department("D100", "Finance", "0")
        self.departments["D200"] = Department("D200", "Sales", "0")
        self.people["u_alice"] = Person("u_alice", "Alice", ["D100"])
        self.people["u_bob"] = Person("u_bob", "Bob", ["D200"])
        self.people["u_carol"] = Person("u_carol", "Carol", ["D100"])

    # -- the vendor's endpoints -------------------------------------------------------------------------

    def tenant_token(self, request: Request) -> Response:
        body = _body(request)
        if body.get("app_id") != self.app_id or body.get("app_secret") != self.app_secret:
            return json_response({"code": 10003, "msg": "invalid param"})  # observed: HTTP 200
        now = self.clock.now()
        with self.lock:
            expires = self.tokens.get(self.current_token, 0.0)
            if expires - now <= RENEW_WITHIN:
                self.current_token = "t-" + secrets.token_hex(16)
                expires = self.tokens[self.current_token] = now + TOKEN_LIFETIME
            return json_response({"code": 0, "msg": "ok", "tenant_access_token": self.current_token,
                                  "expire": int(expires - now)})

    def _refused(self, request: Request) -> Response | None:
        """Feishu's answer to a call that is throttled or has no good tenant token; None if it may proceed."""
        if self.throttled_now():
            return _error(99991400, "request trigger frequency limit", 429,
                          {"x-ogw-ratelimit-limit": "50", "x-ogw-ratelimit-reset": str(THROTTLE_RESET_S)})
        given = request.headers.get("Authorization", "")
        if not given.startswith("Bearer ") or not given[7:].strip():
            return _error(99991661, "Missing access token for authorization. Please make a request with token "
                          "attached.")
        token = given[7:].strip()
        with self.lock:
            if self.faults.expire_tokens and token in self.tokens:
                self.tokens[token] = 0.0
            if self.tokens.get(token, 0.0) <= self.clock.now():
                return _error(99991663, "Invalid access token for authorization. Please make a request with "
                              "token attached.")
        return None

    def create_instance(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused:
            return refused
        body = _body(request)
        problem = self._invalid_create(body)
        if problem:
            return _error(1390001, f"param is invalid: {problem}")
        with self.lock:
            key = body.get("uuid")
            if key and key in self.by_uuid:
                return _error(60012, "uuid is duplicate", 400)
            code = str(uuid.uuid4()).upper()
            self.instances[code] = self._new_instance(code, body)
            if key:
                self.by_uuid[key] = code
        return _ok({"instance_code": code})

    def _invalid_create(self, body: dict[str, Any]) -> str:
        if body.get("approval_code") not in self.approval_codes:
            return "approval_code not found"
        person = self.people.get(str(body.get("user_id", "")))
        if person is None or not person.active:
            return "user_id not found"
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

    def _new_instance(self, code: str, body: dict[str, Any]) -> dict[str, Any]:
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
            return _ok(json.loads(json.dumps(found))) if found else _error(1390003, "instance code not found")

    def list_instances(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused:
            return refused
        approval_code = request.args.get("approval_code", "")
        if approval_code not in self.approval_codes:
            return _error(1390001, "param is invalid: approval_code not found")
        start, end = request.args.get("start_time", 0, type=int), request.args.get("end_time", 0, type=int)
        with self.lock:
            codes = [c for c, i in self.instances.items() if i["approval_code"] == approval_code
                     and start <= int(i["start_time"]) and (not end or int(i["start_time"]) <= end)]
        offset = max(0, request.args.get("page_token", 0, type=int))
        size = max(1, min(100, request.args.get("page_size", 100, type=int)))
        page, more = codes[offset:offset + size], offset + size < len(codes)
        return _ok({"instance_code_list": page, "has_more": more, "page_token": str(offset + size) if more else ""})

    def subscribe(self, request: Request, approval_code: str) -> Response:
        refused = self._refused(request)
        if refused:
            return refused
        if approval_code not in self.approval_codes:
            return _error(1390001, "param is invalid: approval_code not found")
        with self.lock:
            self.subscribed.add(approval_code)
        return _ok({})

    def send_message(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused:
            return refused
        body = _body(request)
        if request.args.get("receive_id_type") != "user_id":
            return _error(99992402, "field validation failed: receive_id_type")
        person = self.people.get(str(body.get("receive_id", "")))
        if person is None or not person.active:
            return _error(230013, "Bot has NO availability to this user.")
        content = body.get("content")
        if body.get("msg_type") not in {"text", "post", "interactive"} or not isinstance(content, str):
            return _error(230001, "Your request contains an invalid request parameter.")
        try:
            json.loads(content)
        except ValueError:
            return _error(230001, "Your request contains an invalid request parameter: content is not JSON.")
        message = {"message_id": "om_" + uuid.uuid4().hex, "msg_type": body["msg_type"], "receive_id":
                   person.user_id, "create_time": str(int(self.clock.now() * 1000)), "body": {"content": content}}
        with self.lock:
            self.messages.append(message)
        return _ok(message)

    # -- OAuth ---------------------------------------------------------------------------------------------

    def _issue_code(self, user_id: str, redirect_uri: str) -> str:
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = (user_id, redirect_uri, self.clock.now() + CODE_LIFETIME)
        return code

    def authorize(self, request: Request) -> Response:
        """The sign-in page: ``user_id`` picks the person (a real tenant would ask them to log in)."""
        redirect_uri, state = request.args.get("redirect_uri", ""), request.args.get("state", "")
        if request.args.get("client_id") != self.app_id or not redirect_uri:
            return json_response({"code": 20002, "error": "invalid_client",
                                  "error_description": "client_id or redirect_uri is invalid"}, 400)
        user_id = request.args.get("user_id", "")
        if user_id in self.people:
            code = self._issue_code(user_id, redirect_uri)
            separator = "&" if "?" in redirect_uri else "?"
            return redirect(f"{redirect_uri}{separator}{urlencode({'code': code, 'state': state})}")
        links = "".join(f'<li><a href="?{html.escape(request.query_string.decode())}&amp;user_id='
                        f'{html.escape(p.user_id)}">{html.escape(p.name)}</a></li>' for p in self.people.values())
        return Response(f"<!doctype html><title>Feishu sign-in</title><h1>Sign in as</h1><ul>{links}</ul>",
                        content_type="text/html; charset=utf-8")

    def oauth_token(self, request: Request) -> Response:
        body = _body(request)
        if body.get("client_id") != self.app_id or body.get("client_secret") != self.app_secret:
            return self._oauth_error(20002, "invalid_client", "the client id or secret is wrong")
        if body.get("grant_type") != "authorization_code":
            return self._oauth_error(20001, "unsupported_grant_type", "grant_type must be authorization_code")
        with self.lock:
            found = self.codes.pop(str(body.get("code", "")), None)  # single use, even when refused below
        if found is None:
            return self._oauth_error(20003, "invalid_grant", "the code is not valid or was used")
        user_id, redirect_uri, expires = found
        if expires <= self.clock.now():
            return self._oauth_error(20004, "invalid_grant", "the code has expired")
        if redirect_uri and body.get("redirect_uri", redirect_uri) != redirect_uri:
            return self._oauth_error(20071, "invalid_grant", "redirect_uri does not match the authorize request")
        token = "u-" + secrets.token_hex(16)
        with self.lock:
            self.user_tokens[token] = (user_id, self.clock.now() + TOKEN_LIFETIME)
        return json_response({"code": 0, "access_token": token, "expires_in": TOKEN_LIFETIME,
                              "refresh_token": "ur-" + secrets.token_hex(16), "refresh_token_expires_in": 604800,
                              "token_type": "Bearer", "scope": ""})

    @staticmethod
    def _oauth_error(code: int, error: str, description: str) -> Response:
        return json_response({"code": code, "error": error, "error_description": description}, 400)

    def user_info(self, request: Request) -> Response:
        given = request.headers.get("Authorization", "")
        with self.lock:
            found = self.user_tokens.get(given[7:].strip()) if given.startswith("Bearer ") else None
        if found is None or found[1] <= self.clock.now():
            return _error(99991668, "Invalid access token for authorization. Please make a request with token "
                          "attached.")
        person = self.people[found[0]]
        return _ok({"name": person.name, "en_name": person.name, "open_id": person.open_id,
                    "union_id": person.union_id, "user_id": person.user_id, "tenant_key": "emulator-tenant"})

    # -- contacts ------------------------------------------------------------------------------------------

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
            return _error(40003, "department not exist")  # contact API's "not found" (emulator's choice)
        with self.lock:
            found = self._descendants(department_id, request.args.get("fetch_child") == "true")
            items = [{"department_id": d.department_id, "open_department_id": "od-" + d.department_id,
                      "name": d.name, "parent_department_id": d.parent_id,
                      "status": {"is_deleted": d.deleted}} for d in found]
        return self._page(request, items)

    def users_by_department(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused:
            return refused
        department_id = request.args.get("department_id", "")
        if department_id not in self.departments:
            return _error(40003, "department not exist")
        with self.lock:
            items = [{"user_id": p.user_id, "open_id": p.open_id, "union_id": p.union_id, "name": p.name,
                      "department_ids": list(p.department_ids),
                      "status": {"is_activated": p.active, "is_frozen": not p.active, "is_resigned": False,
                                 "is_exited": False, "is_unjoin": False}}
                     for p in self.people.values() if department_id in p.department_ids]
        return self._page(request, items)

    @staticmethod
    def _page(request: Request, items: list[dict[str, Any]]) -> Response:
        offset = max(0, request.args.get("page_token", 0, type=int))
        size = max(1, min(50, request.args.get("page_size", 50, type=int)))
        more = offset + size < len(items)
        return _ok({"items": items[offset:offset + size], "has_more": more,
                    "page_token": str(offset + size) if more else ""})

    # -- control: callbacks and the approver's actions -----------------------------------------------------

    def control_callback(self, request: Request) -> Response:
        body = _body(request)
        try:
            target = CallbackTarget(str(body["url"]), str(body["encrypt_key"]), str(body["verification_token"]),
                                    str(body.get("schema", "1.0")))
        except KeyError as missing:
            return json_response({"error": f"missing {missing}"}, 400)
        with self.lock:
            self.callback = target
        if not body.get("verify"):
            return json_response({"configured": True})
        challenge = secrets.token_hex(8)
        plain = {"challenge": challenge, "token": target.verification_token, "type": "url_verification"}
        answer = self._post(target, plain, signed=False)
        verified = answer is not None and answer.status_code == 200 and _json(answer).get("challenge") == challenge
        return json_response({"configured": True, "verified": verified})

    def control_act(self, request: Request, code: str, action: str) -> Response:
        if action not in STATUSES:
            return json_response({"error": f"unknown action {action!r}: approve, reject or cancel"}, 404)
        body = _body(request)
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

    def _deliver(self, event: dict[str, Any]) -> list[int]:
        """Post one event (again for each duplicate, as Feishu's retries do: same event id, fresh nonce)."""
        target = self.callback
        if target is None or event["approval_code"] not in self.subscribed or self.faults.drop_callbacks:
            return []
        envelope = self._envelope(target, event)
        statuses: list[int] = []
        for _ in range(1 + self.faults.duplicate_callbacks):
            for _attempt in range(1 + RETRIES):  # Feishu retries a post that got no 200 (here without the wait)
                answer = self._post(target, envelope, signed=True)
                statuses.append(answer.status_code if answer is not None else 0)
                if statuses[-1] == 200:
                    break
        return statuses

    def _envelope(self, target: CallbackTarget, event: dict[str, Any]) -> dict[str, Any]:
        event_id = str(uuid.uuid4())
        if target.schema == "2.0":
            header = {"event_id": event_id, "token": target.verification_token, "event_type": event["type"],
                      "create_time": str(int(self.clock.now() * 1000)), "app_id": self.app_id,
                      "tenant_key": "emulator-tenant"}
            return {"schema": "2.0", "header": header, "event": event}
        return {"uuid": event_id, "token": target.verification_token, "ts": f"{self.clock.now():.3f}",
                "type": "event_callback", "event": event}

    def _post(self, target: CallbackTarget, plain: dict[str, Any], *, signed: bool) -> requests.Response | None:
        encrypted = feishu_callbacks.encrypt(target.encrypt_key, json.dumps(plain, ensure_ascii=False).encode())
        body = json.dumps({"encrypt": encrypted}).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if signed:
            timestamp, nonce = str(int(self.clock.now())), secrets.token_hex(8)
            headers |= {"X-Lark-Request-Timestamp": timestamp, "X-Lark-Request-Nonce": nonce,
                        "X-Lark-Signature": feishu_callbacks.signature(timestamp, nonce, target.encrypt_key, body)}
        try:
            return requests.post(target.url, data=body, headers=headers, timeout=TIMEOUT)
        except requests.RequestException:
            return None

    # -- control: OAuth codes, the directory, messages, the page -------------------------------------------

    def control_oauth_code(self, request: Request) -> Response:
        body = _body(request)
        user_id = str(body.get("user_id", ""))
        if user_id not in self.people:
            return json_response({"error": "no such user"}, 404)
        return json_response({"code": self._issue_code(user_id, str(body.get("redirect_uri", "")))})

    def control_user(self, request: Request) -> Response:
        body = _body(request)
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
        body = _body(request)
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

    def control_messages(self, request: Request) -> Response:
        with self.lock:
            return json_response({"messages": list(self.messages)})

    def control_page(self, request: Request) -> Response:
        with self.lock:
            rows = "".join(
                f"<tr><td>{html.escape(code)}</td><td>{html.escape(i['user_id'])}</td>"
                f"<td>{html.escape(i['status'])}</td><td>{self._buttons(code) if i['status'] == 'PENDING' else ''}"
                "</td></tr>" for code, i in self.instances.items())
        script = ("<script>for (const b of document.querySelectorAll('button')) b.onclick = () => fetch(b.dataset.to,"
                  " {method: 'POST', body: '{}'}).then(() => location.reload());</script>")
        return Response("<!doctype html><title>Feishu emulator</title><h1>Approval instances</h1><table>"
                        f"<tr><th>Instance</th><th>Applicant</th><th>Status</th><th></th></tr>{rows}</table>{script}",
                        content_type="text/html; charset=utf-8")

    @staticmethod
    def _buttons(code: str) -> str:
        quoted = html.escape(code)
        return "".join(f'<button data-to="/_emulator/instances/{quoted}/{action}">{action}</button>'
                       for action in ("approve", "reject"))


def _json(answer: requests.Response) -> dict[str, Any]:
    try:
        found = answer.json()
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
