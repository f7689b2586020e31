"""The table of the data dictionary's ERP posting rules (``posting_rules.csv``), one row per ERP.

Written by the master-data import (engine/persistence/masterdata_repository.py), read through
``uow.posting_rules`` (engine/persistence/posting_rule_repository.py).
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.tables import Base


class PostingRule(Base):
    __tablename__ = "posting_rule"
    erp: Mapped[str] = mapped_column(String(16), primary_key=True)  # engine/domain/posting.py ERPS
    book: Mapped[str] = mapped_column(String(64))
    voucher_type: Mapped[str] = mapped_column(String(64))
    payable_account: Mapped[str] = mapped_column(String(64))
    vat_input_account: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(String(200))
    expense_dimensions: Mapped[str] = mapped_column(String(200))  # names from connectors/erp.py DIMENSIONS, ';'
    payable_dimensions: Mapped[str] = mapped_column(String(200))
    book_currency: Mapped[str] = mapped_column(String(3))
