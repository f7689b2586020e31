"""The emulator's state: one tenant's tokens, instances, codes, messages, callback settings and directory."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from connectors.emulators.base import Clock, Emulator
from connectors.emulators.dingtalk.forms import DEFAULT_TEMPLATES
from connectors.emulators.dingtalk.wire import DEFAULT_AGENT_ID, DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DEFAULT_CORP_ID
from connectors.oa.dingtalk_callbacks import DingTalkCallbackConfig


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


class DingTalkState(Emulator):
    """What every part of the DingTalk emulator reads and changes (under ``self.lock``)."""

    def __init__(self, clock: Clock | None = None, *, app_key: str = DEFAULT_APP_KEY,
                 app_secret: str = DEFAULT_APP_SECRET, corp_id: str = DEFAULT_CORP_ID,
                 agent_id: int = DEFAULT_AGENT_ID, post: Callable[..., requests.Response] | None = None) -> None:
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

    def _upsert_user(self, changes: dict[str, Any]) -> dict[str, Any]:
        user = self.users.setdefault(changes["userid"], {
            "userid": changes["userid"], "unionid": "union" + secrets.token_hex(8), "name": "", "dept_id_list": [1],
            "active": True, "admin": False, "boss": False, "title": "", "mobile": "", "email": ""})
        for name in ("name", "dept_id_list", "active", "title", "mobile", "email"):
            if name in changes:
                user[name] = changes[name]
        return user
