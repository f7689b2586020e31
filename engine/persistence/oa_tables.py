"""The tables behind the OA integration (engine/persistence/oa_stores.py).

- ``oa_callback``: every accepted callback, once per vendor event (the durable inbox: a callback is stored and
  answered at once, and the worker applies it afterwards, so the vendor's deadline never waits on the engine);
- ``oa_nonce``: the nonces of accepted callbacks, until their timestamp window has passed (replay guard);
- ``oa_token``: the vendors' access tokens, shared by every web and worker process until they expire;
- ``oa_external_ref``: which budgetflow document an OA approval instance belongs to (correlation);
- ``oa_form``: the data dictionary's OA form mappings (``oa_forms.csv``), one row per OA template.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.tables import Base
from engine.persistence.types import UtcDateTime, utcnow


class OaCallback(Base):
    __tablename__ = "oa_callback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vendor: Mapped[str] = mapped_column(String(16))
    event_key: Mapped[str] = mapped_column(String(250))
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # the decrypted event, JSON
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, done, ignored, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # a pending event is not tried before this: a worker's claim on it, or the wait before trying it again
    not_before: Mapped[datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("vendor", "event_key", name="uq_oa_callback_event"),
                      Index("ix_oa_callback_status", "status", "id"))


class OaNonce(Base):
    __tablename__ = "oa_nonce"
    vendor: Mapped[str] = mapped_column(String(120), primary_key=True)  # a vendor, or vendor:corp id
    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class OaToken(Base):
    __tablename__ = "oa_token"
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    token: Mapped[str] = mapped_column(String(2000))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OaExternalRef(Base):
    __tablename__ = "oa_external_ref"
    vendor: Mapped[str] = mapped_column(String(16), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    document_no: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # approval (mode 2) or origin (mode 1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class OaForm(Base):
    __tablename__ = "oa_form"
    vendor: Mapped[str] = mapped_column(String(16), primary_key=True)
    template: Mapped[str] = mapped_column(String(128), primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))  # in: the OA's approvals start process_id; out: it creates them
    process_id: Mapped[str] = mapped_column(String(128))
    fields: Mapped[str] = mapped_column(Text)  # JSON list of {field, oa_field, type, required}
