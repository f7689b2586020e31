"""``ExecuteBillQuery`` on GL_VOUCHER: a bare 2-D array, one row per entry, paged by StartRow and Limit.

FilterString: clauses joined by ``and``, each ``<field> <op> '<text>'`` with ``=``, ``<>``, ``>=``, ``<=``,
``>``, ``<`` or ``like`` (SQL Server patterns: ``%``, ``_`` and ``[...]``; ``''`` is a quote). Rows come in
voucher id, entry order (OrderString is accepted and not interpreted). ``Limit`` 0 means every row. An unknown
field or a filter it cannot read is refused in Kingdee's query-error shape, the status wrapped in two lists.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from werkzeug.wrappers import Response

from connectors.emulators.kingdee import replies
from connectors.emulators.kingdee.model import BOOK, CURRENCIES, GROUPS
from connectors.emulators.kingdee.replies import error
from connectors.emulators.kingdee.state import KingdeeState
from connectors.erp import BookedVoucher

CLAUSE = re.compile(r"\s*([\w.]+)\s*(>=|<=|<>|=|>|<|like)\s*'((?:[^']|'')*)'\s*(?:and\b|$)", re.IGNORECASE)
COMPARE: dict[str, Callable[[str, str], bool]] = {
    "=": lambda a, b: a == b, "<>": lambda a, b: a != b, ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, "<": lambda a, b: a < b}
Row = tuple[BookedVoucher, int]  # a voucher and the index of one of its lines


class QueryError(ValueError):
    pass


KEYED = re.compile(r"#([^%_\[\]]+) %")  # the connector's look-up by key, with no pattern character inside


def like_pattern(pattern: str) -> re.Pattern[str]:
    """A SQL Server LIKE pattern as a regular expression."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                raise QueryError(f"unclosed [ in LIKE pattern {pattern!r}")
            out.append("[" + re.escape(pattern[i + 1:end]) + "]")
            i = end + 1
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def parse_filter(text: str) -> list[tuple[str, str, str]]:
    clauses, position = [], 0
    while position < len(text.strip()):
        found = CLAUSE.match(text, position)
        if found is None:
            raise QueryError(f"过滤条件无法解析：{text[position:][:60]}")
        clauses.append((found.group(1), found.group(2).lower(), found.group(3).replace("''", "'")))
        position = found.end()
    return clauses


class Query(KingdeeState):
    def execute_bill_query(self, body: dict[str, Any]) -> Response:
        data = body.get("data") or {}
        try:
            if data.get("FormId") != "GL_VOUCHER":
                raise QueryError(f"业务对象“{data.get('FormId')}”不存在或不支持查询")
            fields = [f.strip() for f in str(data.get("FieldKeys") or "").split(",") if f.strip()]
            clauses = parse_filter(str(data.get("FilterString") or ""))
            rows = [row for row in self._rows(clauses) if all(self._matches(row, c) for c in clauses)]
            start, limit = int(data.get("StartRow") or 0), int(data.get("Limit") or 0)
            page = rows[start:start + limit] if limit else rows[start:]
            return replies.kingdee_json([[self.value(row, f) for f in fields] for row in page])
        except (QueryError, ValueError, TypeError) as exc:
            return replies.refused([error(str(exc))], query=True)

    def _rows(self, clauses: list[tuple[str, str, str]]) -> list[Row]:
        """Every entry row, or only those of the vouchers a ``FEXPLANATION like '#<key> %'`` clause can match
        (the book's reference index; the clause is still applied to each row)."""
        keyed = [m.group(1) for field, op, literal in clauses if field.upper() == "FEXPLANATION" and op == "like"
                 and (m := KEYED.fullmatch(literal))]
        found = self.book.by_reference(keyed[0]) if keyed else self.book.all()
        vouchers = sorted(found, key=self.voucher_id)
        return [(voucher, n) for voucher in vouchers for n in range(len(voucher.lines))]

    def _matches(self, row: Row, clause: tuple[str, str, str]) -> bool:
        field, op, literal = clause
        value = self.value(row, field)
        text = "" if value is None else str(value)
        if field.upper() == "FDATE":
            text = text[:10]
        if op == "like":
            return like_pattern(literal).fullmatch(text) is not None
        return COMPARE[op](text, literal)

    def value(self, row: Row, field: str) -> Any:
        """One column of one entry row, as ExecuteBillQuery returns it."""
        voucher, n = row
        line = voucher.lines[n]
        key = field.upper()
        if key.startswith("FDETAILID__") and key.endswith(".FNUMBER"):
            slot = field[len("FDETAILID__"):-len(".FNumber")]
            names = [name for name, s in self.flex.items() if s == slot] + [f"FDETAILID__{slot}"]
            return next((code for name, code in line.dimensions if name in names), None)
        rate = Decimal(str(voucher.extra.get("rate", "1")))
        columns: dict[str, Callable[[], Any]] = {
            "FVOUCHERID": lambda: self.voucher_id(voucher), "FBILLNO": lambda: voucher.voucher_no,
            "FDATE": lambda: f"{voucher.posting_date.isoformat()}T00:00:00",
            "FDOCUMENTSTATUS": lambda: self.document_status(voucher),
            "FCASHIERDATE": lambda: f"{voucher.paid_on.isoformat()}T00:00:00" if voucher.paid_on else None,
            "FACCOUNTBOOKID.FNUMBER": lambda: voucher.extra.get("book", BOOK),
            "FVOUCHERGROUPID.FNUMBER": lambda: voucher.extra.get("group", next(iter(GROUPS))),
            "FATTACHMENTS": lambda: voucher.extra.get("attachments", 0),
            "FENTITY_FENTRYID": lambda: n + 1,
            "FEXPLANATION": lambda: f"#{voucher.reference} {line.memo}" if voucher.reference else line.memo,
            "FACCOUNTID.FNUMBER": lambda: line.account,
            "FCURRENCYID.FNUMBER": lambda: next((c for c, iso in CURRENCIES.items() if iso == voucher.currency),
                                                voucher.currency),
            "FEXCHANGERATE": lambda: rate, "FAMOUNTFOR": lambda: line.debit or line.credit,
            "FDEBIT": lambda: (line.debit * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
            "FCREDIT": lambda: (line.credit * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)}
        if key not in columns:
            raise QueryError(f"字段“{field}”不存在")
        return columns[key]()
