"""``budgetflow bench posting``: vouchers per second to each ERP emulator, exactly once under ambiguous timeouts.

Each ERP's emulator runs on loopback with the commit-then-time-out fault on a share of calls (the ERP saves
the voucher, then the connection drops before the answer). Several posters (threads, as several workers
would) post every voucher through the real connector, retrying as the outbox does: an attempt after a failed
one looks the key up first. At the end, the emulator's book is counted: each key must hold exactly one
voucher (``duplicates`` and ``missing`` both 0).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from connectors.base import ConnectorError
from connectors.emulators.erp_fixtures import ERPS, EmulatedErp, emulated_erp
from connectors.erp import ErpClient, VoucherDraft, VoucherLine

MAX_ATTEMPTS = 20
# The figures' keys: the issue's ERPs by family (``yonyou`` is YonBIP, Yonyou's current platform), plus U8.
BENCHED = {"kingdee": "kingdee", "yonyou": "yonbip", "yonyou_u8": "yonyou_u8", "sap": "sap"}


@dataclass(frozen=True)
class PostingFigures:
    erp: str
    vouchers: int
    seconds: float
    attempts: int
    failed: int  # gave up (should be 0)
    duplicates: int
    missing: int

    @property
    def vouchers_per_s(self) -> float:
        return self.vouchers / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict[str, float | int]:
        return {"vouchers_per_s": round(self.vouchers_per_s, 1), "vouchers": self.vouchers,
                "attempts": self.attempts, "failed": self.failed, "duplicates": self.duplicates,
                "missing": self.missing, "seconds": round(self.seconds, 2)}


def drafts(erp: EmulatedErp, count: int, *, prefix: str = "BP") -> Iterator[VoucherDraft]:
    """``count`` balanced vouchers on the emulator's chart, keys ``BP-000001``...: 1-3 expense lines each."""
    expense = erp.expense_accounts
    for n in range(1, count + 1):
        lines = [VoucherLine(expense[(n + k) % len(expense)], Decimal(f"{100 + n % 900}.{k:02d}"), Decimal(0),
                             f"bench {n}", (("cost_center", "CC-SALES-N"), ("department", "SALES-N")))
                 for k in range(1 + n % 3)]
        total = sum((x.debit for x in lines), Decimal(0))
        lines.append(VoucherLine(erp.payable_account, Decimal(0), total, f"bench {n}", (("employee", "QH0017"),)))
        yield VoucherDraft(f"{prefix}-{n:06d}", "CNY", tuple(lines), posting_date=date(2026, 12, 1),
                           summary=f"bench {n}", attachments=n % 4, book=erp.book, voucher_type=erp.voucher_type)


def post_once(client: ErpClient, draft: VoucherDraft) -> tuple[int, bool]:
    """Post as the outbox does: retry retryable failures, looking the key up after the first; (attempts, posted)."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            client.post_voucher(draft, idempotency_key=draft.document_no, resolve_first=attempt > 1)
            return attempt, True
        except ConnectorError as exc:
            if not exc.retryable:
                return attempt, False
    return MAX_ATTEMPTS, False


def run(name: str, count: int, *, ambiguous_ratio: float = 0.3, posters: int = 4,
        progress: Callable[[int], None] = lambda _n: None) -> PostingFigures:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per emulated call would drown the figures
    with emulated_erp(name) as erp:
        erp.emulator.erp_faults.update({"commit_then_timeout_ratio": ambiguous_ratio}, erp.emulator.clock.now())
        local = threading.local()
        attempts, failed, lock = [0], [0], threading.Lock()

        def post(draft: VoucherDraft) -> None:
            if not hasattr(local, "client"):
                local.client = erp.client()
            tries, posted = post_once(local.client, draft)
            with lock:
                attempts[0] += tries
                failed[0] += not posted
            progress(1)

        all_drafts = list(drafts(erp, count))
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=posters) as pool:
            list(pool.map(post, all_drafts))
        seconds = time.perf_counter() - began
        held = Counter(v.reference for v in erp.emulator.book.all())
    keys = [d.document_no for d in all_drafts]
    duplicates = sum(max(0, held[k] - 1) for k in keys)
    return PostingFigures(name, count, seconds, attempts[0], failed[0], duplicates=duplicates,
                          missing=sum(1 for k in keys if not held[k]))


__all__ = ["BENCHED", "ERPS", "PostingFigures", "run"]
