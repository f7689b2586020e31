"""The ERP posting rules of the data dictionary (table ``posting_rule``, written by the master-data import).

One row per ERP; the dimension lists are stored as ``;``-separated names, as the file writes them.
``SqlPostingRules`` is ``uow.posting_rules``: posting finds the rule of the configured ERP by its name.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from engine.domain.posting import PostingRule
from engine.persistence.posting_tables import PostingRule as PostingRuleRow

_TABLE = PostingRuleRow.__table__


def row_values(rule: PostingRule) -> dict[str, Any]:
    """The columns of ``rule``'s row, its ERP included."""
    return {"erp": rule.erp, "book": rule.book, "voucher_type": rule.voucher_type,
            "payable_account": rule.payable_account, "vat_input_account": rule.vat_input_account,
            "summary": rule.summary, "expense_dimensions": ";".join(rule.expense_dimensions),
            "payable_dimensions": ";".join(rule.payable_dimensions), "book_currency": rule.book_currency}


def rule_of(row: Any) -> PostingRule:
    """A stored row (ORM or Core) as the domain's rule."""
    return PostingRule(erp=row.erp, book=row.book, voucher_type=row.voucher_type,
                       payable_account=row.payable_account, vat_input_account=row.vat_input_account,
                       summary=row.summary, expense_dimensions=_names(row.expense_dimensions),
                       payable_dimensions=_names(row.payable_dimensions), book_currency=row.book_currency)


def _names(text: str) -> tuple[str, ...]:
    return tuple(name for name in text.split(";") if name)


class SqlPostingRules:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def for_erp(self, erp: str) -> PostingRule | None:
        row = self._conn.execute(select(_TABLE).where(_TABLE.c.erp == erp)).first()
        return None if row is None else rule_of(row)

    def all(self) -> list[PostingRule]:
        return [rule_of(row) for row in self._conn.execute(select(_TABLE).order_by(_TABLE.c.erp))]
