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

The package, one idea a module: ``state.py`` (what the tenant holds), ``replies.py`` (Feishu's answer shapes),
``auth.py`` (tenant tokens and the gate of every API call), ``approvals.py``, ``messages.py``, ``oauth.py``,
``directory.py`` (the vendor's endpoints, each with its control endpoint), ``callbacks.py`` (sealing and
delivering events), ``actions.py`` (the approver's actions), ``page.py`` (the HTML page) and ``app.py``
(``FeishuEmulator``: the routes).
"""

from connectors.emulators.feishu.actions import STATUSES
from connectors.emulators.feishu.app import FeishuEmulator
from connectors.emulators.feishu.auth import RENEW_WITHIN, THROTTLE_RESET_S
from connectors.emulators.feishu.callbacks import RETRIES
from connectors.emulators.feishu.oauth import CODE_LIFETIME
from connectors.emulators.feishu.state import TOKEN_LIFETIME, CallbackTarget, Department, Person

__all__ = ["CODE_LIFETIME", "RENEW_WITHIN", "RETRIES", "STATUSES", "THROTTLE_RESET_S", "TOKEN_LIFETIME",
           "CallbackTarget", "Department", "FeishuEmulator", "Person"]
