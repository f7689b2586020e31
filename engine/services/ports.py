"""What the services need from persistence, as Protocols (implemented in engine.persistence)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from types import TracebackType
from typing import Protocol, Self

from engine.domain.budget import LineState, Posting, ReservationState


class LedgerRepository(Protocol):
    def lock_line(self, line_id: int) -> LineState:
        """The line's state, locked against other writers until the transaction ends."""

    def lock_line_for(self, line_id: int, key: str, fingerprint: str) -> tuple[LineState, dict[str, object] | None]:
        """Lock the line and return what ``key`` recorded before (None if new); one round trip."""

    def line_of_reservation(self, reservation_id: int) -> int: ...

    def reservation(self, reservation_id: int) -> ReservationState:
        """Read a reservation; call only after locking its line."""

    def stored_result(self, key: str, fingerprint: str) -> dict[str, object] | None:
        """The result recorded under ``key``; raises IdempotencyConflict on another fingerprint."""

    def store_result(self, key: str, kind: str, fingerprint: str, result: dict[str, object]) -> None: ...

    def add_reservation(self, line: LineState, amount: Decimal, *, document: str) -> int: ...

    def append(
        self, line: LineState, postings: Sequence[Posting], *, key: str, document: str | None,
        reservation_id: int | None = None, memo: str | None = None,
    ) -> None:
        """Append entries and apply their deltas to the line's cached balance."""

    def resolve_reservation(
        self, reservation_id: int, *, consumed: Decimal, released: Decimal, close: bool
    ) -> None: ...


class UnitOfWork(Protocol):
    ledger: LedgerRepository

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
