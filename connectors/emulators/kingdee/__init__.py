"""A local Kingdee K/3 Cloud (金蝶云星空) WebAPI: signed calls or sessions, GL_VOUCHER Save → Submit → Audit,
and ExecuteBillQuery read-back.

Vendor endpoints (``POST /k3cloud/Kingdee.BOS.WebApi.ServicesStub.<service>.common.kdsvc``, JSON bodies):

- ``AuthService.LoginByAppSecret``: ``LoginResultType`` 1 and ``KDSVCSessionId`` (also the
  ``kdservice-sessionid`` cookie); a session idle for 20 minutes of the emulator's clock answers ``MsgCode`` 1;
- ``DynamicFormService.Save`` / ``Submit`` / ``Audit`` / ``CancelAssign`` / ``Delete`` on ``GL_VOUCHER``, answering
  ``Result.ResponseStatus`` (``IsSuccess`` a boolean for Save, the text ``"true"`` for the others, as both occur);
- ``DynamicFormService.ExecuteBillQuery``: a bare 2-D array.

Signed calls are checked as the SDK 8.x builds them (the vendor's own ``k3cloud_webapi_sdk`` is accepted);
gateway refusals are HTTP 519 with an ``errcode`` body; ``server_error()`` is HTTP 500. Faults come from the ERP
base (``/_emulator/erp-faults``): every vendor call passes ``before_commit``, and every write that changed the
book passes ``after_commit``; the shared ``throttle_every`` fault answers HTTP 429 (Kingdee documents no
throttle). The book's ``reference`` is the key read from the ``#<key> `` prefix of the entry explanations,
where the connector puts it.

The package: ``model`` (the tenant's ids, codes and limits), ``replies`` (Kingdee's answer shapes), ``state``
(what it holds), ``auth`` (signatures and sessions), ``vouchers`` (Save's checks and the status steps),
``query`` (ExecuteBillQuery) and ``app`` (the routes).
"""

from connectors.emulators.kingdee.app import KingdeeEmulator
from connectors.emulators.kingdee.model import (
    ACCT_ID,
    APP_ID,
    APP_SECRET,
    BOOK,
    DEMO_ACCOUNTS,
    FLEX,
    SESSION_IDLE,
    SIGNATURE_WINDOW,
    USER_NAME,
)

__all__ = ["ACCT_ID", "APP_ID", "APP_SECRET", "BOOK", "DEMO_ACCOUNTS", "FLEX", "SESSION_IDLE", "SIGNATURE_WINDOW",
           "USER_NAME", "KingdeeEmulator"]
