"""The audit log table: append-only (triggers refuse UPDATE and DELETE), HMAC-chained by seq.

Kept out of tables.py so the audit feature stays in its own files; it shares ``Base`` so
autogenerate and the drift test see it as long as this module is imported.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.tables import Base, BigId
from engine.persistence.types import UtcDateTime


class AuditLog(Base):
    """One row per audited event; ``mac`` chains it to the row before (see engine.domain.audit)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The position in the chain (1, 2, 3, ...) and part of the MAC; id is only storage order.
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    subject_type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as covered by the MAC
    prev_mac: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_log_subject", "subject_type", "subject_id"),)
