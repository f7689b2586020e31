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

The package, one idea a module: ``model`` (constants and records), ``seed`` (the demo corp), ``replies`` (WeCom's
answers and refusals), ``state`` (what the emulator holds), ``access`` (the token and the checks every API call
goes through), ``approvals`` and ``validation`` (the oa/* endpoints and what applyevent accepts), ``messages``,
``signin``, ``directory``, ``callbacks`` (sealing, delivering, holding and releasing them), ``control`` (the
other ``/_emulator/`` endpoints), ``page`` (the control page's HTML) and ``app`` (the routes, put together).
"""

from connectors.emulators.wecom.app import WeComEmulator
from connectors.emulators.wecom.model import (
    AGENT_ID,
    APP_SECRET,
    APPROVAL_CALLS_PER_MINUTE,
    BUDGET_TEMPLATE_ID,
    CHINA,
    CODE_TTL,
    CORP_ID,
    MAX_WINDOW,
    TEMPLATE_ID,
    TOKEN_TTL,
    TRAVEL_TEMPLATE_ID,
    CallbackTarget,
    Delivery,
    Template,
    Token,
)
from connectors.emulators.wecom.replies import Invalid

__all__ = ["AGENT_ID", "APPROVAL_CALLS_PER_MINUTE", "APP_SECRET", "BUDGET_TEMPLATE_ID", "CHINA", "CODE_TTL",
           "CORP_ID", "MAX_WINDOW", "TEMPLATE_ID", "TOKEN_TTL", "TRAVEL_TEMPLATE_ID", "CallbackTarget", "Delivery",
           "Invalid", "Template", "Token", "WeComEmulator"]
