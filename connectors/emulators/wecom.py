"""A local WeCom (企业微信): its API paths, shapes and errcodes, and its encrypted approval callbacks.

Vendor endpoints (``/cgi-bin/...``, every error HTTP 200 ``{errcode, errmsg}``; the token is checked before
the body, as the real one does):

- ``GET gettoken?corpid&corpsecret`` (7200 s; asking again while it is good returns the same token);
- ``POST oa/applyevent`` (validates like WeCom: ``control`` + ``id`` from the template, numbers as strings,
  Table >= 1 row with all its columns, <= 6 files, ``summary_list`` 1..3 rows; **no idempotency**: the same
  request twice makes two sheets), ``oa/getapprovaldetail``, ``oa/getapprovalinfo`` (cursor pages, <= 31 days),
  ``oa/gettemplatedetail``;
- ``POST message/send`` (application messages; unknown or disabled users come back in ``invaliduser``);
- ``GET auth/getuserinfo?code`` (``userid``) and the legacy ``user/getuserinfo`` (``UserId``): codes are single
  use and live 5 minutes; ``GET /connect/oauth2/authorize`` stands in for WeCom's sign-in page;
- ``GET department/list[?id]``, ``user/list?department_id[&fetch_child]``, ``user/get?userid``.

Errcodes: 40001 bad secret, 40013 bad corpid, 41001 no token, 40014 invalid token, 42001 expired token
(after 7200 s of the emulator's clock, or the ``expire_tokens`` fault: a token then serves one call),
45009 throttled (the ``throttle_every`` fault, and the approval APIs' 600 calls a minute), 60020 IP not trusted
(``trusted_ips``), 301025 bad parameters, 40029 bad OAuth code, 60111/60123 unknown user/department; any
errcode (-1 busy, say) can be queued for the next API calls in ``queued_errors``.

Control endpoints (the emulator's own):

- ``POST /_emulator/callback {url, token, encoding_aes_key, verify=true}``: where approval callbacks go and
  how they are signed and sealed (for this corp id); it first runs WeCom's URL check (``echostr``) unless
  ``verify`` is false, and refuses a URL that does not answer the plaintext;
- ``POST /_emulator/approvals/<sp_no>/<approve|reject|cancel> {userid?, speech?}``: act as the OA approver of
  the current node (or the applicant, to cancel); each change posts a ``sys_approval_change`` callback;
- ``POST /_emulator/oauth/code {userid}`` (or ``{openid}`` for a non-member): a sign-in code;
- ``POST /_emulator/users {userid, name?, department?, status?, position?}``: add, rename, move, disable
  (status 2) or enable (1) a person; ``POST /_emulator/departments {id, name?, parentid?}``: add, rename, move;
- ``POST /_emulator/callback/release {order?: "reverse", hold?: false}``: deliver the callbacks held while
  ``hold_callbacks`` was set (late, and out of order if asked);
- ``GET /_emulator/state``: sheets, messages sent and callback deliveries; ``GET /_emulator/``: a page of
  sheets with approve / reject / cancel buttons;
- and the shared ``/_emulator/faults`` and ``/_emulator/clock``.

Callbacks: one per change (submitted, each approver's action, cancelled...), as WeCom does. They are posted
when the change happens, after the state change, outside the lock. A delivery that fails (no answer in 5 s, or
not HTTP 200) is retried ``callback_retries`` times with the same body, as WeCom retries; the
``duplicate_callbacks`` fault re-sends the same event under fresh nonces (what the receiver's event-key de-dup
is for); ``drop_callbacks`` sends nothing (what the receiver's polling is for).
"""

from __future__ import annotations

import html
import json
import re
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests
from werkzeug.routing import Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from connectors.emulators.base import Clock, Emulator, json_response
from connectors.oa.envelope import seal, sha1_signature
from connectors.oa.http import redact_secret_params

CORP_ID = "ww3f5a8d0c2b71e946"
APP_SECRET = "emulator-app-secret-0123456789abcdefghijklm"  # noqa: S105 (a demo value, published)
AGENT_ID = 1000002
TEMPLATE_ID = "C4UCJS891Afmu1rE1ws6kwP8JfdASuBhM7NaAWmTp"
TOKEN_TTL = 7200
CODE_TTL = 300
APPROVAL_CALLS_PER_MINUTE = 600
MAX_WINDOW = 31 * 86400
CHINA = timedelta(hours=8)  # sp_no dates are Beijing dates

redact_secret_params("werkzeug")  # the served requests' log lines carry the token, secret or code in the query

_DECIMAL = re.compile(r"^-?\d{1,15}(\.\d{1,2})?$")


class Invalid(Exception):
    """A request WeCom refuses: its errcode and errmsg."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errmsg)
        self.errcode = errcode
        self.errmsg = errmsg


@dataclass
class Token:
    agent_id: int
    expires_at: float
    fragile: bool = False  # issued under the expire_tokens fault: good for one call
    uses: int = 0


@dataclass
class Template:
    name: str
    controls: list[dict[str, Any]]  # {control, id, title, require, children: [...] for a Table}
    nodes: list[tuple[int, list[str]]]  # the template's approval flow: (1 或签 / 2 会签, approvers)


@dataclass
class Delivery:
    sp_no: str
    change_event: int
    status: int | None  # HTTP status of the last attempt, None when it never answered
    attempts: int
    dropped: bool = False


@dataclass
class CallbackTarget:
    url: str
    token: str = field(repr=False)
    encoding_aes_key: str = field(repr=False)


def _error(errcode: int, errmsg: str) -> Response:
    hint = secrets.token_hex(6)
    return json_response({"errcode": errcode, "errmsg": f"{errmsg}, hint: [{hint}], more info at "
                          f"https://open.work.weixin.qq.com/devtool/query?e={errcode}"})


def _ok(**body: Any) -> Response:
    return json_response({"errcode": 0, "errmsg": "ok", **body})


def _default_template() -> Template:
    text = {"control": "Text", "id": "Text-1640339319582", "title": "事由", "require": 1}
    money = {"control": "Money", "id": "Money-1640339319583", "title": "金额", "require": 1}
    date = {"control": "Date", "id": "Date-1640339319584", "title": "发生日期", "require": 0}
    count = {"control": "Number", "id": "Number-1640339319585", "title": "票据张数", "require": 0}
    table = {"control": "Table", "id": "Table-1640339319586", "title": "费用明细", "require": 0, "children": [
        {"control": "Text", "id": "Text-1640339319587", "title": "项目", "require": 1},
        {"control": "Money", "id": "Money-1640339319588", "title": "金额", "require": 1}]}
    files = {"control": "File", "id": "File-1640339319589", "title": "附件", "require": 0}
    return Template("费用报销", [text, money, date, count, table, files], [(1, ["lisi"]), (1, ["wangwu"])])


def _default_directory() -> tuple[dict[int, dict[str, Any]], dict[str, dict[str, Any]]]:
    departments = {1: {"id": 1, "name": "示例科技", "name_en": "Example Tech", "parentid": 0, "order": 100000000},
                   2: {"id": 2, "name": "财务部", "name_en": "Finance", "parentid": 1, "order": 99999000},
                   3: {"id": 3, "name": "销售部", "name_en": "Sales", "parentid": 1, "order": 99998000}}
    people = [("zhangsan", "张三", 3, "销售经理"), ("lisi", "李四", 2, "财务经理"), ("wangwu", "王五", 2, "财务总监"),
              ("zhaoliu", "赵六", 3, "销售代表")]
    users = {uid: {"userid": uid, "name": name, "department": [dept], "main_department": dept,
                   "position": position, "status": 1, "enable": 1} for uid, name, dept, position in people}
    return departments, users


class WeComEmulator(Emulator):
    """One WeCom corp with one self-built app, an expense template and a small directory."""

    rules = [
        Rule("/cgi-bin/gettoken", endpoint="gettoken", methods=["GET"]),
        Rule("/cgi-bin/oa/applyevent", endpoint="applyevent", methods=["POST"]),
        Rule("/cgi-bin/oa/getapprovaldetail", endpoint="getapprovaldetail", methods=["POST"]),
        Rule("/cgi-bin/oa/getapprovalinfo", endpoint="getapprovalinfo", methods=["POST"]),
        Rule("/cgi-bin/oa/gettemplatedetail", endpoint="gettemplatedetail", methods=["POST"]),
        Rule("/cgi-bin/message/send", endpoint="message_send", methods=["POST"]),
        Rule("/cgi-bin/auth/getuserinfo", endpoint="auth_getuserinfo", methods=["GET"]),
        Rule("/cgi-bin/user/getuserinfo", endpoint="legacy_getuserinfo", methods=["GET"]),
        Rule("/cgi-bin/department/list", endpoint="department_list", methods=["GET"]),
        Rule("/cgi-bin/user/list", endpoint="user_list", methods=["GET"]),
        Rule("/cgi-bin/user/get", endpoint="user_get", methods=["GET"]),
        Rule("/connect/oauth2/authorize", endpoint="oauth_authorize", methods=["GET"]),
        Rule("/_emulator/", endpoint="control_page", methods=["GET"]),
        Rule("/_emulator/state", endpoint="control_state", methods=["GET"]),
        Rule("/_emulator/callback", endpoint="control_callback", methods=["POST"]),
        Rule("/_emulator/callback/release", endpoint="control_release", methods=["POST"]),
        Rule("/_emulator/approvals/<sp_no>/<action>", endpoint="control_act", methods=["POST"]),
        Rule("/_emulator/oauth/code", endpoint="control_code", methods=["POST"]),
        Rule("/_emulator/users", endpoint="control_user", methods=["POST"]),
        Rule("/_emulator/departments", endpoint="control_department", methods=["POST"]),
    ]

    def __init__(self, clock: Clock | None = None, *, corp_id: str = CORP_ID) -> None:
        super().__init__(clock)
        self.corp_id = corp_id
        self.apps: dict[str, int] = {APP_SECRET: AGENT_ID}  # secret -> agent id
        self.templates: dict[str, Template] = {TEMPLATE_ID: _default_template()}
        self.departments, self.users = _default_directory()
        self.instances: dict[str, dict[str, Any]] = {}
        self.messages: list[dict[str, Any]] = []
        self.deliveries: list[Delivery] = []
        self.callback: CallbackTarget | None = None
        self.callback_retries = 3
        self.hold_callbacks = False  # True: callbacks wait in ``held`` until /_emulator/callback/release
        self.held: list[tuple[str, int, bytes]] = []
        self.approval_calls_per_minute = APPROVAL_CALLS_PER_MINUTE  # WeCom's limit on the approval APIs
        self.trusted_ips: set[str] | None = None  # None: any caller; else others get 60020
        self.legacy_userinfo = False  # True: auth/getuserinfo answers the legacy ``UserId`` key
        self.queued_errors: deque[int] = deque()  # errcodes (-1 busy, ...) the next API calls answer, in turn
        self._tokens: dict[str, Token] = {}
        self._codes: dict[str, tuple[dict[str, str], float]] = {}
        self._approval_calls: deque[float] = deque()
        self._sequence: dict[str, int] = {}

    # --- the token and the checks every API call goes through -------------------------------------------

    def gettoken(self, request: Request) -> Response:
        corpid, secret = request.args.get("corpid", ""), request.args.get("corpsecret", "")
        if corpid != self.corp_id:
            return _error(40013, "invalid corpid")
        if secret not in self.apps:
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        if self.throttled_now():
            return _error(45009, "api freq out of limit")
        now = self.clock.now()
        with self.lock:
            for token, held in self._tokens.items():
                if held.agent_id == self.apps[secret] and held.expires_at > now and not held.fragile:
                    return _ok(access_token=token, expires_in=int(held.expires_at - now))
            token = secrets.token_urlsafe(48)
            self._tokens[token] = Token(self.apps[secret], now + TOKEN_TTL, fragile=self.faults.expire_tokens)
        return _ok(access_token=token, expires_in=TOKEN_TTL)

    def _caller(self, request: Request, *, approval: bool = False) -> int:
        """The calling app's agent id, after the token, IP and rate checks WeCom makes before reading a body."""
        token = request.args.get("access_token", "")
        if not token:
            raise Invalid(41001, "access_token missing")
        now = self.clock.now()
        with self.lock:
            held = self._tokens.get(token)
            if held is None:
                raise Invalid(40014, "invalid access_token")
            held.uses += 1
            if held.expires_at <= now or (held.fragile and held.uses > 1):
                held.expires_at = min(held.expires_at, now)
                raise Invalid(42001, "access_token expired")
            if self.trusted_ips is not None and request.remote_addr not in self.trusted_ips:
                raise Invalid(60020, f"not allow to access from your ip, from ip: {request.remote_addr}")
            if self.throttled_now() or (approval and not self._approval_quota(now)):
                raise Invalid(45009, "api freq out of limit")
            if self.queued_errors:
                errcode = self.queued_errors.popleft()
                raise Invalid(errcode, "system busy" if errcode == -1 else "injected error")
            return held.agent_id

    def _approval_quota(self, now: float) -> bool:
        calls = self._approval_calls
        while calls and calls[0] <= now - 60:
            calls.popleft()
        if len(calls) >= self.approval_calls_per_minute:
            return False
        calls.append(now)
        return True

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            raise Invalid(47001, "data format error") from None
        if not isinstance(body, dict):
            raise Invalid(47001, "data format error")
        return body

    def _api(self, request: Request, handler: Callable[[Request, int], Response], *,
             approval: bool = False) -> Response:
        try:
            agent_id = self._caller(request, approval=approval)
            return handler(request, agent_id)
        except Invalid as refused:
            return _error(refused.errcode, refused.errmsg)
        except (AttributeError, KeyError, TypeError, ValueError):  # a body of the wrong shape: WeCom never 500s
            return _error(47001, "data format error")

    # --- approvals ----------------------------------------------------------------------------------------

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
        contents = _check_contents((body.get("apply_data") or {}).get("contents"), template.controls)
        _check_summary(body.get("summary_list"))
        with self.lock:
            sp_no = self._next_sp_no()
            self.instances[sp_no] = self._new_instance(sp_no, creator, body, template, nodes, contents)
            event = self._event(sp_no, 1, agent_id)
        self._deliver(event)
        return _ok(sp_no=sp_no)

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
            return _ok(info=json.loads(json.dumps(info)))

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
                           if start <= info["apply_time"] <= end and _matches(info, filters))
        page = [sp_no for _t, sp_no in found[offset:offset + size]]
        more = offset + size < len(found)
        if old_style:
            return _ok(sp_no_list=page, next_cursor=offset + size if more else 0)
        return _ok(sp_no_list=page, new_next_cursor=str(offset + size) if more else "")

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
        return _ok(template_names=[{"text": template.name, "lang": "zh_CN"}],
                   template_content={"controls": controls})

    # --- messages, sign-in, contacts ----------------------------------------------------------------------

    def message_send(self, request: Request) -> Response:
        return self._api(request, self._message_send)

    def _message_send(self, request: Request, agent_id: int) -> Response:
        body = self._body(request)
        if not isinstance(body.get("agentid"), int) or isinstance(body.get("agentid"), bool):
            raise Invalid(40056, "invalid agentid")  # an integer, says WeCom's reference
        if body["agentid"] != agent_id:
            raise Invalid(301002, "not allow operate another agent with this accesstoken")
        msgtype = body.get("msgtype")
        content = body.get(str(msgtype))
        if msgtype not in ("text", "textcard", "markdown", "news") or not isinstance(content, dict):
            raise Invalid(40008, "invalid message type")
        if msgtype == "textcard":
            _check_textcard(content)
        wanted = [u for u in str(body.get("touser", "")).split("|") if u]
        if wanted == ["@all"]:
            wanted = [u for u, user in self.users.items() if user["status"] == 1]
        valid = [u for u in wanted if self.users.get(u, {}).get("status") == 1]
        invalid = [u for u in wanted if u not in valid]
        if not valid:
            raise Invalid(81013, "user & party & tag all invalid")
        msgid = secrets.token_urlsafe(24)
        with self.lock:
            self.messages.append({"msgid": msgid, "touser": valid, "msgtype": msgtype, msgtype: content,
                                  "agentid": agent_id, "sent_at": self.clock.now()})
        return _ok(invaliduser="|".join(invalid), invalidparty="", invalidtag="", unlicenseduser="", msgid=msgid)

    def auth_getuserinfo(self, request: Request) -> Response:
        return self._api(request, lambda req, _agent: self._exchange(req, legacy=self.legacy_userinfo))

    def legacy_getuserinfo(self, request: Request) -> Response:
        return self._api(request, lambda req, _agent: self._exchange(req, legacy=True))

    def _exchange(self, request: Request, *, legacy: bool) -> Response:
        code = request.args.get("code", "")
        with self.lock:
            who, expires_at = self._codes.pop(code, ({}, 0.0))
        if not who or expires_at <= self.clock.now():
            raise Invalid(40029, "invalid code")
        if "openid" in who:
            return _ok(openid=who["openid"])
        if legacy:
            return _ok(UserId=who["userid"], DeviceId="")
        return _ok(userid=who["userid"])

    def oauth_authorize(self, request: Request) -> Response:
        """WeCom's sign-in page, reduced: ``userid`` (the emulator's own parameter) says who signs in; without it
        a list of people to pick from."""
        redirect_uri, state = request.args.get("redirect_uri", ""), request.args.get("state", "")
        if request.args.get("appid") != self.corp_id or not redirect_uri.startswith(("http://", "https://")):
            return Response("appid or redirect_uri is wrong", 400)
        userid = request.args.get("userid")
        if userid is None:
            links = "".join(f'<li><a href="?{html.escape(urlencode({**request.args, "userid": u}))}">'
                            f'{html.escape(user["name"])} ({html.escape(u)})</a></li>'
                            for u, user in self.users.items() if user["status"] == 1)
            return Response(f"<!doctype html><title>企业微信 sign-in</title><ul>{links}</ul>",
                            content_type="text/html; charset=utf-8")
        if self.users.get(userid, {}).get("status") != 1:
            return Response("no such active member", 400)
        code = self._issue_code({"userid": userid})
        sep = "&" if "?" in redirect_uri else "?"
        return redirect(f"{redirect_uri}{sep}{urlencode({'code': code, 'state': state})}", 302)

    def _issue_code(self, who: dict[str, str]) -> str:
        code = secrets.token_urlsafe(24)
        with self.lock:
            self._codes[code] = (who, self.clock.now() + CODE_TTL)
        return code

    def department_list(self, request: Request) -> Response:
        return self._api(request, self._department_list)

    def _department_list(self, request: Request, agent_id: int) -> Response:
        with self.lock:
            root = request.args.get("id")
            if root is None:
                return _ok(department=[dict(d) for d in self.departments.values()])
            if not root.isdigit() or int(root) not in self.departments:
                raise Invalid(60123, "invalid party id")
            return _ok(department=[dict(self.departments[d]) for d in self._subtree(int(root))])

    def _subtree(self, root: int) -> list[int]:
        found, frontier = [root], [root]
        while frontier:
            children = [d for d, dept in self.departments.items() if dept["parentid"] in frontier]
            found += children
            frontier = children
        return found

    def user_list(self, request: Request) -> Response:
        return self._api(request, self._user_list)

    def _user_list(self, request: Request, agent_id: int) -> Response:
        department = request.args.get("department_id", "")
        with self.lock:
            if not department.isdigit() or int(department) not in self.departments:
                raise Invalid(60123, "invalid party id")
            wanted = set(self._subtree(int(department)) if request.args.get("fetch_child") == "1"
                         else [int(department)])
            return _ok(userlist=[json.loads(json.dumps(u)) for u in self.users.values()
                                 if wanted & set(u["department"])])

    def user_get(self, request: Request) -> Response:
        return self._api(request, self._user_get)

    def _user_get(self, request: Request, agent_id: int) -> Response:
        with self.lock:
            user = self.users.get(request.args.get("userid", ""))
            if user is None:
                raise Invalid(60111, "userid not found")
            return _ok(**json.loads(json.dumps(user)))

    # --- acting as the OA: approvers, callbacks ---------------------------------------------------------

    def control_act(self, request: Request, sp_no: str, action: str) -> Response:
        body = request.get_json(silent=True) or dict(request.form)
        with self.lock:
            info = self.instances.get(sp_no)
            if info is None:
                return json_response({"error": f"no sheet {sp_no}"}, 404)
            try:
                change_event = _act(info, action, str(body.get("userid") or ""), str(body.get("speech") or ""),
                                    int(self.clock.now()))
            except ValueError as exc:
                return json_response({"error": str(exc)}, 409)
            event = self._event(sp_no, change_event, AGENT_ID)
        delivery = self._deliver(event)
        if request.form.get("back"):
            return redirect("/_emulator/", 303)
        return json_response({"sp_no": sp_no, "sp_status": info["sp_status"],
                              "delivered": delivery.status if delivery else None})

    def _event(self, sp_no: str, change_event: int, agent_id: int) -> tuple[str, int, bytes]:
        """The decrypted XML of a sys_approval_change callback for the sheet as it is now."""
        info = self.instances[sp_no]
        created = int(self.clock.now())
        records = "".join(
            f"<SpRecord><SpStatus>{r['sp_status']}</SpStatus><ApproverAttr>{r['approverattr']}</ApproverAttr>"
            + "".join(f"<Details><Approver><UserId><![CDATA[{d['approver']['userid']}]]></UserId></Approver>"
                      f"<Speech><![CDATA[{_cdata(d['speech'])}]]></Speech><SpStatus>{d['sp_status']}</SpStatus>"
                      f"<SpTime>{d['sptime']}</SpTime></Details>" for d in r["details"])
            + "</SpRecord>" for r in info["sp_record"])
        xml = (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><FromUserName><![CDATA[sys]]>"
               f"</FromUserName><CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
               f"<Event><![CDATA[sys_approval_change]]></Event><AgentID>{agent_id}</AgentID><ApprovalInfo>"
               f"<SpNo>{sp_no}</SpNo><SpNoStr>{sp_no}</SpNoStr><SpName><![CDATA[{info['sp_name']}]]></SpName>"
               f"<SpStatus>{info['sp_status']}</SpStatus><TemplateId><![CDATA[{info['template_id']}]]></TemplateId>"
               f"<ApplyTime>{info['apply_time']}</ApplyTime><Applyer><UserId><![CDATA[{info['applyer']['userid']}]]>"
               f"</UserId><Party><![CDATA[{info['applyer']['partyid']}]]></Party></Applyer>{records}"
               f"<StatuChangeEvent>{change_event}</StatuChangeEvent></ApprovalInfo></xml>")
        return sp_no, change_event, xml.encode()

    def sealed_callback(self, message: bytes, target: CallbackTarget) -> tuple[dict[str, str], bytes]:
        """The query and body WeCom posts for ``message``: sealed for this corp, signed with the target's token."""
        encrypted = seal(target.encoding_aes_key, message, self.corp_id)
        timestamp, nonce = str(int(self.clock.now())), str(secrets.randbelow(10**10))
        query = {"msg_signature": sha1_signature(target.token, timestamp, nonce, encrypted),
                 "timestamp": timestamp, "nonce": nonce}
        body = (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><AgentID><![CDATA[{AGENT_ID}]]>"
                f"</AgentID><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>").encode()
        return query, body

    def _deliver(self, event: tuple[str, int, bytes]) -> Delivery | None:
        sp_no, change_event, message = event
        target = self.callback
        if target is None:
            return None
        if self.hold_callbacks:
            with self.lock:
                self.held.append(event)
            return None
        if self.faults.drop_callbacks:
            delivery = Delivery(sp_no, change_event, None, 0, dropped=True)
        else:
            delivery = self._post_with_retries(sp_no, change_event, message, target)
            for _ in range(self.faults.duplicate_callbacks):
                self._post_with_retries(sp_no, change_event, message, target)
        with self.lock:
            self.deliveries.append(delivery)
        return delivery

    def _post_with_retries(self, sp_no: str, change_event: int, message: bytes,
                           target: CallbackTarget) -> Delivery:
        query, body = self.sealed_callback(message, target)
        status, attempts = None, 0
        while attempts <= self.callback_retries and status != 200:
            attempts += 1
            try:
                answer = requests.post(target.url, params=query, data=body, timeout=(3.05, 5.0),
                                       headers={"Content-Type": "text/xml; charset=utf-8"})
                status = answer.status_code
            except requests.RequestException:
                status = None
        return Delivery(sp_no, change_event, status, attempts)

    def control_callback(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        try:
            target = CallbackTarget(str(body["url"]), str(body["token"]), str(body["encoding_aes_key"]))
            seal(target.encoding_aes_key, b"", self.corp_id)  # refuses a key that is not 43 base64 characters
        except (KeyError, ValueError):
            return json_response({"error": "url, token and a 43-character encoding_aes_key are required"}, 400)
        if body.get("verify", True):
            problem = self._verify_url(target)
            if problem:
                return json_response({"error": problem}, 400)
        self.callback = target
        return json_response({"url": target.url, "corp_id": self.corp_id})

    def control_release(self, request: Request) -> Response:
        """Deliver the held callbacks, in the order they happened or (``{"order": "reverse"}``) the other way:
        late and out-of-order delivery, which real tenants see."""
        body = request.get_json(silent=True) or {}
        with self.lock:
            held, self.held, self.hold_callbacks = self.held, [], bool(body.get("hold", False))
        if body.get("order") == "reverse":
            held.reverse()
        deliveries = [self._deliver(event) for event in held]
        return json_response({"released": len(held),
                              "delivered": [d.status if d else None for d in deliveries]})

    def _verify_url(self, target: CallbackTarget) -> str | None:
        """WeCom's URL check: a sealed random number the URL must answer in plain."""
        plain = str(secrets.randbelow(10**19))
        echostr = seal(target.encoding_aes_key, plain.encode(), self.corp_id)
        query, _body = self.sealed_callback(b"", target)
        query["msg_signature"] = sha1_signature(target.token, query["timestamp"], query["nonce"], echostr)
        try:
            answer = requests.get(target.url, params={**query, "echostr": echostr}, timeout=(3.05, 5.0))
        except requests.RequestException:
            return "the callback URL could not be reached"
        if answer.status_code != 200 or answer.text.strip() != plain:
            return "the callback URL did not answer the URL check with the echostr's plaintext"
        return None

    # --- the emulator's own controls ---------------------------------------------------------------------

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
            rows = "".join(_page_row(info) for info in sorted(self.instances.values(), key=lambda i: i["sp_no"]))
        page = ("<!doctype html><meta charset=utf-8><title>WeCom emulator</title><h1>企业微信 emulator</h1>"
                f"<p>corp {html.escape(self.corp_id)}</p><table><tr><th>sp_no<th>template<th>applicant"
                f"<th>status<th></tr>{rows}</table>")
        return Response(page, content_type="text/html; charset=utf-8")


def _cdata(text: str) -> str:
    return text.replace("]]>", "]]]]><![CDATA[>")


def _page_row(info: dict[str, Any]) -> str:
    sp_no = html.escape(info["sp_no"])
    buttons = "".join(f'<form method=post action="/_emulator/approvals/{sp_no}/{action}" style="display:inline">'
                      f'<input type=hidden name=back value=1><button>{action}</button></form>'
                      for action in ("approve", "reject", "cancel"))
    return (f"<tr><td>{sp_no}<td>{html.escape(info['sp_name'])}<td>{html.escape(info['applyer']['userid'])}"
            f"<td>{info['sp_status']}<td>{buttons}</tr>")


def _act(info: dict[str, Any], action: str, userid: str, speech: str, now: int) -> int:
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


def _matches(info: dict[str, Any], filters: list[dict[str, Any]]) -> bool:
    values = {"template_id": info["template_id"], "creator": info["applyer"]["userid"],
              "department": info["applyer"]["partyid"], "sp_status": str(info["sp_status"])}
    return all(values.get(str(f.get("key"))) == str(f.get("value")) for f in filters if isinstance(f, dict))


def _check_contents(contents: Any, controls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not isinstance(contents, list):
        raise Invalid(301025, "apply_data.contents is required")
    by_id = {c["id"]: c for c in controls}
    given = set()
    for item in contents:
        control = by_id.get(item.get("id")) if isinstance(item, dict) else None
        if control is None or item.get("control") != control["control"]:
            raise Invalid(301025, f"control {str(item)[:80]} does not match the template's controls")
        _check_value(control, item.get("value"))
        given.add(control["id"])
    missing = [c["id"] for c in controls if c["require"] and c["id"] not in given]
    if missing:
        raise Invalid(301025, f"required control {missing[0]} has no value")
    return contents


def _check_number(cid: str, kind: str, value: dict[str, Any]) -> None:
    number = value.get("new_money" if kind == "Money" else "new_number")
    if not isinstance(number, str) or not _DECIMAL.match(number):
        raise Invalid(301025, f"control {cid}: the amount must be a decimal string")


def _check_text(cid: str, kind: str, value: dict[str, Any]) -> None:
    if not isinstance(value.get("text"), str):
        raise Invalid(301025, f"control {cid}: text must be a string")


def _check_date(cid: str, kind: str, value: dict[str, Any]) -> None:
    date = value.get("date") or {}
    stamp = date.get("s_timestamp")
    if date.get("type") not in ("day", "hour") or not isinstance(stamp, str) or not stamp.isdigit():
        raise Invalid(301025, f"control {cid}: date needs type day|hour and s_timestamp as a string")


def _check_files(cid: str, kind: str, value: dict[str, Any]) -> None:
    files = value.get("files")
    if not isinstance(files, list) or len(files) > 6:
        raise Invalid(301025, f"control {cid}: at most 6 files")


_VALUE_CHECKS = {"Money": _check_number, "Number": _check_number, "Text": _check_text, "Textarea": _check_text,
                 "Date": _check_date, "File": _check_files}


def _check_value(control: dict[str, Any], value: Any) -> None:
    kind, cid = control["control"], control["id"]
    if not isinstance(value, dict):
        raise Invalid(301025, f"control {cid} has no value object")
    if kind in _VALUE_CHECKS:
        _VALUE_CHECKS[kind](cid, kind, value)
    elif kind == "Table":
        rows = value.get("children")
        if not isinstance(rows, list) or not rows:
            raise Invalid(301025, f"control {cid}: a table needs at least one row")
        for row in rows:
            _check_contents(row.get("list") if isinstance(row, dict) else None,
                            [{**child, "require": 1} for child in control["children"]])


def _check_summary(summary: Any) -> None:
    if not isinstance(summary, list) or not 1 <= len(summary) <= 3 or not all(
            isinstance(row, dict) and isinstance(row.get("summary_info"), list) and row["summary_info"]
            for row in summary):
        raise Invalid(301025, "summary_list needs 1 to 3 rows of summary_info")


def _check_textcard(card: dict[str, Any]) -> None:
    for key, limit in (("title", 128), ("description", 512), ("url", 2048)):
        value = card.get(key)
        if not isinstance(value, str) or not value:
            raise Invalid(41016 if key == "title" else 41017 if key == "description" else 41018, f"missing {key}")
        if len(value.encode()) > limit:
            raise Invalid(45002, f"{key} over {limit} bytes")

