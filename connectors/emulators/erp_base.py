"""What the three ERP emulators share: a book of vouchers, a chart of accounts, and the ERP fault switches.

Each vendor emulator (Kingdee, Yonyou, SAP) speaks its vendor's requests and answers and keeps what it
accepts in a ``VoucherBook`` in neutral form, so tests and reconciliation see the same thing whichever ERP.

Faults (``POST /_emulator/erp-faults``), all off by default; ratios draw from a seeded random generator so a
run is repeatable:

- ``reject_accounts``: accounts the chart refuses (besides those not in it), to force a field error;
- ``error_5xx_ratio``: answer the vendor's server error, nothing committed;
- ``timeout_before_commit_ratio``: drop the connection without committing;
- ``commit_then_timeout_ratio``: commit, then drop the connection without an answer (the ambiguous outcome);
- ``down_for``: seconds (on the emulator's clock, which tests advance) during which every call is refused;
- ``hang_seconds``: how long a timed-out call holds the connection before dropping it (0: drop at once).

Control endpoints for tests and the demo (not the vendor's): ``GET /_emulator/book`` lists the vouchers;
``POST /_emulator/book`` enters one by hand (a duplicate, a voucher budgetflow never posted);
``DELETE /_emulator/book/<number>`` deletes one; ``POST /_emulator/book/<number>/amount`` changes a line's
amount (``{"line": 1, "amount": "99.00"}``, both sides kept balanced; a vendor's per-line book-currency amounts,
``extra["local"]``, follow); ``POST /_emulator/book/<number>/pay`` marks it paid.

An ERP that is down refuses reads too: vendor read endpoints call ``refuse_read`` first.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from connectors.emulators.base import Clock, Emulator, json_response
from connectors.erp import BookedVoucher, VoucherLine


@dataclass
class ErpFaults:
    reject_accounts: list[str] = field(default_factory=list)
    error_5xx_ratio: float = 0.0
    timeout_before_commit_ratio: float = 0.0
    commit_then_timeout_ratio: float = 0.0
    down_until: float = 0.0  # emulator-clock epoch seconds; set through ``down_for``
    hang_seconds: float = 0.0

    def update(self, changes: dict[str, Any], now: float) -> None:
        known = {f.name for f in fields(self)} | {"down_for"}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown ERP fault {name!r}: one of {', '.join(sorted(known))}")
            if name == "down_for":
                self.down_until = now + float(value)
            elif name == "reject_accounts":
                self.reject_accounts = [str(a) for a in value]
            else:
                setattr(self, name, float(value))


class VoucherBook:
    """The ERP's vouchers in neutral form; thread-safe. Numbers are ``<prefix><n>`` in posting order."""

    def __init__(self, prefix: str, accounts: Iterable[str] = ()) -> None:
        self.prefix = prefix
        self.accounts: set[str] = set(accounts)  # empty: every account exists
        self._vouchers: dict[str, BookedVoucher] = {}
        # reference -> voucher numbers: a look-up by key must not scan the book (the bench posts 10,000)
        self._by_reference: dict[str, list[str]] = {}
        self._n = 0
        self._lock = threading.RLock()

    def account_exists(self, account: str) -> bool:
        return not self.accounts or account in self.accounts

    def add(self, *, reference: str, posting_date: date, currency: str, lines: Iterable[VoucherLine],
            status: str = "", extra: dict[str, Any] | None = None) -> BookedVoucher:
        with self._lock:
            self._n += 1
            voucher = BookedVoucher(f"{self.prefix}{self._n:08d}", reference, posting_date, currency,
                                    tuple(lines), status, extra=dict(extra or {}))
            self._vouchers[voucher.voucher_no] = voucher
            self._by_reference.setdefault(voucher.reference, []).append(voucher.voucher_no)
            return voucher

    def get(self, number: str) -> BookedVoucher | None:
        with self._lock:
            return self._vouchers.get(number)

    def by_reference(self, reference: str) -> list[BookedVoucher]:
        with self._lock:
            return [self._vouchers[n] for n in self._by_reference.get(reference, ())]

    def all(self) -> list[BookedVoucher]:
        with self._lock:
            return list(self._vouchers.values())

    def between(self, start: date, end: date) -> list[BookedVoucher]:
        return [v for v in self.all() if start <= v.posting_date <= end]

    def update(self, number: str, **changes: Any) -> BookedVoucher:
        with self._lock:
            before = self._vouchers[number]
            voucher = replace(before, **changes)
            self._vouchers[number] = voucher
            if voucher.reference != before.reference:
                self._unindex(before)
                self._by_reference.setdefault(voucher.reference, []).append(number)
            return voucher

    def delete(self, number: str) -> bool:
        with self._lock:
            voucher = self._vouchers.pop(number, None)
            if voucher is not None:
                self._unindex(voucher)
            return voucher is not None

    def _unindex(self, voucher: BookedVoucher) -> None:
        numbers = self._by_reference.get(voucher.reference, [])
        if voucher.voucher_no in numbers:
            numbers.remove(voucher.voucher_no)


def drop_connection(request: Request, hang_seconds: float = 0.0) -> Response:
    """Close the client's connection without an answer (after ``hang_seconds``): what a timeout looks like."""
    if hang_seconds:
        time.sleep(hang_seconds)
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # the client already gave up and closed its end
    return Response(b"", status=204)  # never reaches the client


class ErpEmulator(Emulator):
    """An ERP emulator: subclasses add the vendor's rules and call ``refusal``/``after_commit`` around a post."""

    book_prefix: ClassVar[str] = "V"
    erp_rules: ClassVar[Iterable[Rule]] = (
        Rule("/_emulator/book", endpoint="control_book", methods=["GET", "POST"]),
        Rule("/_emulator/book/<number>", endpoint="control_book_delete", methods=["DELETE"]),
        Rule("/_emulator/book/<number>/amount", endpoint="control_book_amount", methods=["POST"]),
        Rule("/_emulator/book/<number>/pay", endpoint="control_book_pay", methods=["POST"]),
        Rule("/_emulator/erp-faults", endpoint="control_erp_faults", methods=["POST"]),
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "rules" in cls.__dict__:  # a vendor's rules, plus the shared control endpoints
            cls.rules = (*cls.__dict__["rules"], *ErpEmulator.erp_rules)

    def __init__(self, clock: Clock | None = None, *, accounts: Iterable[str] = (), seed: int = 7) -> None:
        super().__init__(clock)
        self.book = VoucherBook(self.book_prefix, accounts)
        self.erp_faults = ErpFaults()
        self._random = random.Random(seed)  # noqa: S311 - fault draws, repeatable on purpose

    # -- what a vendor handler calls -------------------------------------------------------------------------

    def is_down(self) -> bool:
        return self.clock.now() < self.erp_faults.down_until

    def draw(self, ratio: float) -> bool:
        with self.lock:
            return ratio > 0 and self._random.random() < ratio

    def before_commit(self, request: Request) -> Response | None:
        """A fault that stops the call before anything is written: down or 5xx (the vendor's shape), or a
        dropped connection; None: go on."""
        faults = self.erp_faults
        if self.is_down() or self.draw(faults.error_5xx_ratio):
            return self.server_error()
        if self.draw(faults.timeout_before_commit_ratio):
            return drop_connection(request, faults.hang_seconds)
        return None

    def refuse_read(self) -> Response | None:
        """The vendor's server error while the ERP is down, for a read; None: go on."""
        return self.server_error() if self.is_down() else None

    def after_commit(self, request: Request, answer: Response) -> Response:
        """The answer to a call that committed, unless the commit-then-time-out fault drops it."""
        if self.draw(self.erp_faults.commit_then_timeout_ratio):
            return drop_connection(request, self.erp_faults.hang_seconds)
        return answer

    def rejected_account(self, account: str) -> bool:
        return account in self.erp_faults.reject_accounts or not self.book.account_exists(account)

    def server_error(self) -> Response:
        """The vendor's answer when it is down or failing (subclasses give their shape)."""
        return json_response({"error": "service unavailable"}, 503)

    # -- control endpoints -----------------------------------------------------------------------------------

    def control_erp_faults(self, request: Request) -> Response:
        try:
            self.erp_faults.update(request.get_json(force=True) or {}, self.clock.now())
        except (ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response(asdict(self.erp_faults))

    def control_book(self, request: Request) -> Response:
        if request.method == "GET":
            return json_response([voucher_json(v) for v in self.book.all()])
        body = request.get_json(force=True) or {}
        lines = [VoucherLine(str(x["account"]), Decimal(str(x.get("debit", "0"))), Decimal(str(x.get("credit", "0"))),
                             str(x.get("memo", "")), tuple(sorted((x.get("dimensions") or {}).items())))
                 for x in body.get("lines", [])]
        voucher = self.book.add(reference=str(body.get("reference", "")),
                                posting_date=date.fromisoformat(body.get("posting_date") or date.today().isoformat()),
                                currency=str(body.get("currency", "CNY")), lines=lines, status="by hand")
        return json_response(voucher_json(voucher), 201)

    def control_book_delete(self, request: Request, number: str) -> Response:
        return json_response({"deleted": self.book.delete(number)}, 200 if self.book.get(number) is None else 500)

    def control_book_amount(self, request: Request, number: str) -> Response:
        body = request.get_json(force=True) or {}
        voucher = self.book.get(number)
        if voucher is None:
            return json_response({"error": f"no voucher {number}"}, 404)
        try:
            index, amount = int(body["line"]) - 1, Decimal(str(body["amount"]))
            lines = list(voucher.lines)
            line = lines[index]
        except (KeyError, ValueError, IndexError, InvalidOperation) as exc:
            return json_response({"error": f"line and amount: {exc}"}, 400)
        delta = amount - (line.debit or line.credit)
        lines[index] = replace(line, debit=amount if line.debit else Decimal(0),
                               credit=amount if line.credit else Decimal(0))
        for n, other in enumerate(lines):  # the first line on the other side absorbs the change: still balanced
            if n != index and bool(other.debit) != bool(line.debit):
                lines[n] = replace(other, debit=other.debit + delta if other.debit else Decimal(0),
                                   credit=other.credit + delta if other.credit else Decimal(0))
                break
        extra = dict(voucher.extra)
        if "local" in extra:  # a vendor that keeps book-currency amounts per line: the edit changes those too
            extra["local"] = [(str(x.debit), str(x.credit)) for x in lines]
        return json_response(voucher_json(self.book.update(number, lines=tuple(lines), extra=extra)))

    def control_book_pay(self, request: Request, number: str) -> Response:
        if self.book.get(number) is None:
            return json_response({"error": f"no voucher {number}"}, 404)
        body = request.get_json(silent=True) or {}
        paid = date.fromisoformat(body["paid_on"]) if body.get("paid_on") else date.today()
        return json_response(voucher_json(self.book.update(number, paid_on=paid)))


def voucher_json(voucher: BookedVoucher) -> dict[str, Any]:
    return {"voucher_no": voucher.voucher_no, "reference": voucher.reference,
            "posting_date": voucher.posting_date.isoformat(), "currency": voucher.currency,
            "status": voucher.status, "paid_on": voucher.paid_on.isoformat() if voucher.paid_on else None,
            "lines": [{"account": x.account, "debit": str(x.debit), "credit": str(x.credit), "memo": x.memo,
                       "dimensions": dict(x.dimensions)} for x in voucher.lines]}
