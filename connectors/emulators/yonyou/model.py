"""The emulated Yonyou tenant's constants: credentials, books, chart, auxiliary fields, token lifetimes."""

from __future__ import annotations

from dataclasses import dataclass

# YonBIP: the tenant and its self-built app.
TENANT_ID = "tenant-demo"
APP_KEY = "yonbip-demo-appkey"
APP_SECRET = "yonbip-demo-appsecret"  # noqa: S105 (the emulator's demo secret)
YONBIP_BOOKS = ("BOOK01",)
# U8 OpenAPI: the app's account, the enterprise's, the app's key and secret, the account sets (ds_sequence).
FROM_ACCOUNT = "isv-demo"
TO_ACCOUNT = "ent-demo"
U8_APP_KEY = "u8-demo-appkey"
U8_APP_SECRET = "u8-demo-appsecret"  # noqa: S105 (the emulator's demo secret)
U8_BOOKS = ("1",)
U8_BOOK_CURRENCY = "CNY"

TOKEN_TTL = 7200  # seconds on the emulator's clock, both APIs
MAX_PAGE_SIZE = 500  # YonBIP queryVouchers
MAX_ROWS_PER_PAGE = 1000  # U8 batch_get

DEMO_ACCOUNTS = ("660201", "660202", "660203", "660204", "2241", "22210101", "1002")

# The tenant's auxiliary fields and the neutral dimension each one holds (the connectors' defaults).
YONBIP_DIMENSIONS = {"costcenter": "cost_center", "dept": "department", "staff": "employee", "supplier": "vendor",
                     "project": "project"}
U8_DIMENSIONS = {"self_define1": "cost_center", "dept_id": "department", "person_id": "employee",
                 "supplier_id": "vendor", "item_id": "project", "cust_id": "customer"}
# U8's detail rows name an entry's auxiliary field by the GL table's column.
U8_ROW_COLUMNS = {"dept_id": "cdept_id", "person_id": "cperson_id", "cust_id": "ccus_id", "supplier_id": "csup_id",
                  "item_id": "citem_id", "self_define1": "cdefine1"}


@dataclass
class Token:
    expires_at: float  # emulator-clock epoch seconds
    fragile: bool = False  # issued under the expire_tokens fault: serves one call
    uses: int = 0

    def good(self, now: float) -> bool:
        self.uses += 1
        return self.expires_at > now and not (self.fragile and self.uses > 1)
