"""Tables of the web app's side of the engine: sign-in, API tokens, document numbers, attachments.

Kept apart from tables.py and workflow_tables.py (one feature, one file); they share ``Base``, so
autogenerate and the drift test see them as long as tables.py imports this module.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.tables import Base, BigId
from engine.persistence.types import UtcDateTime, utcnow


class LoginAccount(Base):
    """A local password (argon2 hash) for an employee: the demo, and companies without SSO."""

    __tablename__ = "login_account"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    employee_code: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ExternalIdentity(Base):
    """Who an identity provider's user is here: (provider, subject) -> employee (DingTalk, WeCom, Feishu SSO)."""

    __tablename__ = "external_identity"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(200))
    employee_code: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("provider", "subject", name="uq_external_identity"),)


class ApiToken(Base):
    """A bearer token for system-to-system calls: only the SHA-256 of its secret is stored."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    employee_code: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[str] = mapped_column(Text)  # JSON list of roles the token may use
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DocumentCounter(Base):
    """The last document number handed out per prefix and year (``TA-2026-000001``), taken under a row lock."""

    __tablename__ = "document_counter"
    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Attachment(Base):
    """A file attached to a document (a receipt, an e-invoice), stored in the database with its hash."""

    __tablename__ = "attachment"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # a public random token, not a sequence
    document_no: Mapped[str] = mapped_column(String(100), ForeignKey("process_instance.business_key"))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (Index("ix_attachment_document", "document_no", "created_at"),)
