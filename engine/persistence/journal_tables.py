"""The input journal: what came into each instance, in order, so ``bpmn replay`` can run it again on a draft."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.tables import Base, BigId
from engine.persistence.types import UtcDateTime


class InstanceInput(Base):
    """One input of an instance: its start, a completed task's checked form, a message, a timer that fired.

    Written in the transaction of the step it records (engine/services/processes.py), never changed.
    """

    __tablename__ = "instance_input"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per instance
    kind: Mapped[str] = mapped_column(String(8))  # start, task, message, timer
    element: Mapped[str] = mapped_column(String(100))  # process id, task's bpmn id, message name, "timer"
    actor: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # JSON: start data, the checked form fields, the message payload
    at: Mapped[datetime] = mapped_column(UtcDateTime)  # the engine's time of the step (a virtual clock's too)

    __table_args__ = (UniqueConstraint("instance_id", "seq", name="uq_instance_input_seq"),)
