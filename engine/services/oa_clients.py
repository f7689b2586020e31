"""The API client of each configured OA suite, built from its settings (engine/oa_settings.py).

The clients share a shape for what the engine asks of every vendor so far (a token, sign-in, messages, the
directory); what differs, each client keeps inside. Tokens are cached in the store the caller passes: the
database's, so every web and worker process uses one token per app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from connectors.oa import wecom_client
from connectors.oa.dingtalk_client import DingTalkClient, DingTalkClientConfig
from connectors.oa.feishu_client import FeishuClient, FeishuClientConfig
from connectors.oa.http import TokenCache
from connectors.oa.wecom_client import WeComClient, WeComClientConfig
from engine.oa_settings import OaConnection


class OaClient(Protocol):
    def access_token(self) -> str: ...

    def authorize_url(self, redirect_uri: str, state: str) -> str: ...

    def user_for_code(self, code: str, redirect_uri: str = "") -> str: ...

    def send_message(self, user_ids: Any, title: str, text: str, url: str) -> list[str]: ...

    def departments(self) -> list[dict[str, Any]]: ...

    def users(self, department_id: str) -> list[dict[str, Any]]: ...


def _dingtalk(conn: OaConnection, tokens: TokenCache) -> OaClient:
    agent = conn.get("agent_id")
    return DingTalkClient(DingTalkClientConfig(conn["app_key"], conn["app_secret"], int(agent) if agent else None),
                          base_url=conn["base_url"], legacy_url=conn.get("legacy_base_url"), tokens=tokens)


def _wecom(conn: OaConnection, tokens: TokenCache) -> OaClient:
    real = conn["base_url"] == wecom_client.BASE_URL  # an emulator serves the sign-in page itself
    return WeComClient(WeComClientConfig(conn["corp_id"], conn["secret"], conn["agent_id"]),
                       base_url=conn["base_url"], tokens=tokens,
                       sign_in_base_url=wecom_client.SIGN_IN_URL if real else conn["base_url"])


def _feishu(conn: OaConnection, tokens: TokenCache) -> OaClient:
    return feishu_for(conn, tokens)


def feishu_for(conn: OaConnection, tokens: TokenCache) -> FeishuClient:
    """Feishu's client as itself: approvals need its subscription, which no other suite has."""
    return FeishuClient(FeishuClientConfig(conn["app_id"], conn["app_secret"]), base_url=conn["base_url"],
                        tokens=tokens)


CLIENTS: dict[str, Callable[[OaConnection, TokenCache], OaClient]] = {
    "dingtalk": _dingtalk, "wecom": _wecom, "feishu": _feishu}


def client_for(conn: OaConnection, tokens: TokenCache) -> OaClient:
    return CLIENTS[conn.vendor](conn, tokens)
