"""The table behind the shared rate limits (engine/persistence/rate_counters.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.tables import Base
from engine.persistence.types import UtcDateTime


class RateCounter(Base):
    __tablename__ = "rate_counter"
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
