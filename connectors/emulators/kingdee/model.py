"""The emulated tenant: its data centre, integration user and app, account book, codes and time limits."""

from __future__ import annotations

ACCT_ID = "66f1e5c2b8a4d7"  # the data centre (账套) id
USER_NAME = "budgetflow"
APP_ID = "300001_j0jLsYbSJyHrkGx1013WhViHzxWRoLWr"  # <client id>_<32 characters>, as Kingdee issues it
APP_SECRET = "4f0c9d2be17a4c6f93a85e2d71b0c6aa"  # noqa: S105 - the emulator's own demo secret
BOOK = "001"
GROUPS = {"PRE001": "记", "PRE002": "收", "PRE003": "付", "PRE004": "转"}
CURRENCIES = {"PRE001": "CNY", "PRE002": "HKD", "PRE003": "EUR", "PRE004": "JPY", "PRE006": "GBP", "PRE007": "USD"}
RATE_TYPES = frozenset({"HLTX01_SYS", "HLTX02_SYS"})
# The account set's flex slots (neutral name -> slot), the same as the connector's defaults.
FLEX = {"vendor": "FFLEX4", "department": "FFLEX5", "employee": "FFLEX7", "cost_center": "FFLEX11",
        "project": "FFLEX13"}
DEMO_ACCOUNTS = ("6602.01", "6602.02", "6602.03", "6602.04", "2241", "2221.01.01", "1002")

SIGNATURE_WINDOW = 10 * 60  # seconds a signed timestamp stays good (13 minutes was refused on a real gateway)
SESSION_IDLE = 20 * 60  # seconds a login session lives without a call
ID_BASE = 100000  # FVOUCHERID = ID_BASE + the book's sequence number

# Document status (FDocumentStatus) and the book's status text.
STATUS_OF = {"saved": "A", "submitted": "B", "audited": "C"}
TEXT_OF = {letter: text for text, letter in STATUS_OF.items()}

# The gateway's refusals (HTTP 519): codes of our own choosing, the real ones are unverified.
BAD_SIGNATURE = 100001
STALE_TIMESTAMP = 100002
UNKNOWN_APP = 100003
