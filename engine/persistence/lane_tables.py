"""The tables of the data dictionary's lanes (``lanes.csv``) and of the owners its lane rules name.

``lane_rule``: one row per rule row of a lane, by lane and position (the file's order within the lane).
``resource_owner``: the owner of a budget line (kind ``budget_line``, code its key's label) or of a cost
center (kind ``cost_center``, code its code), from the ``owner`` columns of budget_lines.csv and
cost_centers.csv. Both are written by the master-data import (replaced by the file's) and read through
``uow.lanes`` and ``uow.directory``.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.tables import Base


class LaneRuleRow(Base):
    __tablename__ = "lane_rule"
    lane: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1, 2, ... within the lane
    rule: Mapped[str] = mapped_column(String(32))  # engine/domain/lanes.py RULES
    parameter: Mapped[str | None] = mapped_column(String(200))
    fallback: Mapped[str] = mapped_column(String(32))  # '' (nobody), next, escalate, finance_director
    skip_prior_approvers: Mapped[bool] = mapped_column(Boolean)
    description: Mapped[str] = mapped_column(String(200))


class ResourceOwner(Base):
    __tablename__ = "resource_owner"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # budget_line, cost_center
    code: Mapped[str] = mapped_column(String(300), primary_key=True)  # the line's label or the center's code
    employee: Mapped[str] = mapped_column(String(64))
