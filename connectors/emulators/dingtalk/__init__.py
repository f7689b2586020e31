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

The package, one idea a module: ``app`` (the routes), ``state`` (what the parts share), ``wire`` (constants, JSON
bodies, the error shapes), ``tokens``, ``forms`` (templates and create checks), ``approvals``, ``events``,
``approver`` (approve/reject/cancel), ``callbacks``, ``messages``, ``signin``, ``directory``, ``page`` (looking in).
"""

from connectors.emulators.dingtalk.app import DingTalkEmulator
from connectors.emulators.dingtalk.forms import DEFAULT_TEMPLATES
from connectors.emulators.dingtalk.state import Instance
from connectors.emulators.dingtalk.wire import (
    CODE_SECONDS,
    DEFAULT_AGENT_ID,
    DEFAULT_APP_KEY,
    DEFAULT_APP_SECRET,
    DEFAULT_CORP_ID,
    REPLY_DEADLINE_S,
    TOKEN_HEADER,
    TOKEN_SECONDS,
)

__all__ = ["CODE_SECONDS", "DEFAULT_AGENT_ID", "DEFAULT_APP_KEY", "DEFAULT_APP_SECRET", "DEFAULT_CORP_ID",
           "DEFAULT_TEMPLATES", "REPLY_DEADLINE_S", "TOKEN_HEADER", "TOKEN_SECONDS", "DingTalkEmulator", "Instance"]
