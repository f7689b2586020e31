"""Ledger use cases: each one transaction, each idempotent under its key.

Order inside every write: lock the line, then look up the key. Requests with
one key touch one line, so the lock serialises duplicates and the second one
finds the first one's stored result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any, TypeVar

from engine.domain import budget
from engine.domain.budget import EntryKind
from engine.domain.idempotency import fingerprint, validate_key
from engine.domain.money import Money
from engine.services.ports import LedgerRepository, UnitOfWorkFactory

R = TypeVar("R")


@dataclass(frozen=True)
class _Result:
    replayed: bool = field(default=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "replayed"}
        return {k: str(v) if isinstance(v, Decimal) else v for k, v in data.items()}


@dataclass(frozen=True)
class ReservationResult(_Result):
    reservation_id: int = 0
    line_id: int = 0
    amount: Decimal = Decimal(0)
    currency: str = ""
    over_budget: bool = False
    available_after: Decimal = Decimal(0)


@dataclass(frozen=True)
class WriteOffResult(_Result):
    reservation_id: int = 0
    from_reservation: Decimal = Decimal(0)
    excess: Decimal = Decimal(0)
    released: Decimal = Decimal(0)
    closed: bool = False
    over_budget: bool = False


@dataclass(frozen=True)
class BudgetChangeResult(_Result):
    line_id: int = 0
    budget_after: Decimal = Decimal(0)


_DECIMALS = {"amount", "available_after", "from_reservation", "excess", "released", "budget_after"}
ResultT = TypeVar("ResultT", bound=_Result)


def _restore(cls: type[ResultT], data: object) -> ResultT:
    """The result stored under a key (its JSON, read back), as the type the operation returns, marked as a replay."""
    if not isinstance(data, Mapping):
        raise TypeError(f"the stored {cls.__name__} is not a JSON object")
    values: dict[str, Any] = {str(k): Decimal(str(v)) if k in _DECIMALS else v for k, v in data.items()}
    return cls(replayed=True, **values)


def in_transaction(uow_factory: UnitOfWorkFactory, operation: Callable[..., R], /, **kwargs: Any) -> R:
    """Run ``operation(uow.ledger, **kwargs)`` in a transaction of its own and commit it."""
    with uow_factory() as uow:
        result = operation(uow.ledger, **kwargs)
        uow.commit()
    return result


def reserve(
    uow_factory: UnitOfWorkFactory, *, line_id: int, amount: Money, key: str, document: str
) -> ReservationResult:
    """Earmark ``amount`` on a line (预占) for ``document``."""
    return in_transaction(uow_factory, reserve_in, line_id=line_id, amount=amount, key=key, document=document)


def write_off(
    uow_factory: UnitOfWorkFactory, *, reservation_id: int, amount: Money, key: str, document: str,
    close: bool = False,
) -> WriteOffResult:
    """Consume an actual amount against a reservation (核销); ``close`` releases the rest."""
    return in_transaction(uow_factory, write_off_in, reservation_id=reservation_id, amount=amount, key=key,
                          document=document, close=close)


def release(
    uow_factory: UnitOfWorkFactory, *, reservation_id: int, key: str, document: str, reason: str = ""
) -> WriteOffResult:
    """Close a reservation and give back what it still holds (rejection, withdrawal, cancellation)."""
    return in_transaction(uow_factory, release_in, reservation_id=reservation_id, key=key, document=document,
                          reason=reason)


# The *_in variants run inside the caller's transaction (the workflow's save, for one):
# they lock, check the key, book and record, and leave the commit to the caller.


def reserve_in(ledger: LedgerRepository, *, line_id: int, amount: Money, key: str, document: str) -> ReservationResult:
    fp = fingerprint("reserve", line_id=line_id, amount=amount.amount, currency=amount.currency, document=document)
    line, prior = ledger.lock_line_for(line_id, validate_key(key), fp)
    if prior is not None:
        return _restore(ReservationResult, prior)
    posting = budget.plan_reserve(line, amount)
    res_id = ledger.add_reservation(line, amount.amount, document=document)
    ledger.append(line, [posting], key=key, document=document, reservation_id=res_id)
    result = ReservationResult(
        reservation_id=res_id, line_id=line_id, amount=amount.amount, currency=amount.currency,
        over_budget=posting.over_budget, available_after=line.available - amount.amount,
    )
    ledger.store_result(key, "reserve", fp, result.to_json())
    return result


def write_off_in(
    ledger: LedgerRepository, *, reservation_id: int, amount: Money, key: str, document: str, close: bool = False
) -> WriteOffResult:
    fp = fingerprint("write_off", reservation_id=reservation_id, amount=amount.amount,
                     currency=amount.currency, document=document, close=close)
    line, prior = ledger.lock_line_for(ledger.line_of_reservation(reservation_id), validate_key(key), fp)
    if prior is not None:
        return _restore(WriteOffResult, prior)
    plan = budget.plan_write_off(line, ledger.reservation(reservation_id), amount, close=close)
    result = _apply(ledger, line, plan, reservation_id=reservation_id, key=key, document=document)
    ledger.store_result(key, "write_off", fp, result.to_json())
    return result


def release_in(
    ledger: LedgerRepository, *, reservation_id: int, key: str, document: str, reason: str = ""
) -> WriteOffResult:
    fp = fingerprint("release", reservation_id=reservation_id, document=document)
    line, prior = ledger.lock_line_for(ledger.line_of_reservation(reservation_id), validate_key(key), fp)
    if prior is not None:
        return _restore(WriteOffResult, prior)
    plan = budget.plan_release(ledger.reservation(reservation_id), label=line.label)
    result = _apply(ledger, line, plan, reservation_id=reservation_id, key=key, document=document,
                    memo=reason or None)
    ledger.store_result(key, "release", fp, result.to_json())
    return result


def _apply(
    ledger: LedgerRepository, line: budget.LineState, plan: budget.WriteOffPlan, *,
    reservation_id: int, key: str, document: str, memo: str | None = None,
) -> WriteOffResult:
    ledger.append(line, plan.postings, key=key, document=document, reservation_id=reservation_id, memo=memo)
    ledger.resolve_reservation(
        reservation_id, consumed=plan.from_reservation, released=plan.released, close=plan.closes
    )
    return WriteOffResult(
        reservation_id=reservation_id, from_reservation=plan.from_reservation, excess=plan.excess,
        released=plan.released, closed=plan.closes, over_budget=plan.over_budget,
    )


def allocate(
    uow_factory: UnitOfWorkFactory, *, line_id: int, amount: Money, key: str, memo: str = ""
) -> BudgetChangeResult:
    """Give a line its budget (or more of it)."""
    return _change_budget(uow_factory, EntryKind.ALLOCATE, line_id=line_id, amount=amount, key=key, memo=memo)


def adjust(
    uow_factory: UnitOfWorkFactory, *, line_id: int, amount: Money, key: str, memo: str = ""
) -> BudgetChangeResult:
    """Raise (positive) or cut (negative) a line's budget; a cut never goes below what is committed."""
    return _change_budget(uow_factory, EntryKind.ADJUST, line_id=line_id, amount=amount, key=key, memo=memo)


def _change_budget(
    uow_factory: UnitOfWorkFactory, kind: EntryKind, *, line_id: int, amount: Money, key: str, memo: str
) -> BudgetChangeResult:
    fp = fingerprint(kind.value, line_id=line_id, amount=amount.amount, currency=amount.currency)
    with uow_factory() as uow:
        line, prior = uow.ledger.lock_line_for(line_id, validate_key(key), fp)
        if prior is not None:
            return _restore(BudgetChangeResult, prior)
        posting = budget.plan_budget_change(line, amount, kind)
        uow.ledger.append(line, [posting], key=key, document=None, memo=memo or None)
        result = BudgetChangeResult(line_id=line_id, budget_after=line.budget + amount.amount)
        uow.ledger.store_result(key, kind.value.lower(), fp, result.to_json())
        uow.commit()
    return result


def transfer(
    uow_factory: UnitOfWorkFactory, *, from_line: int, to_line: int, amount: Money, key: str, memo: str = ""
) -> tuple[BudgetChangeResult, BudgetChangeResult]:
    """Move budget between two lines: both ADJUST legs in one transaction, or neither."""
    with uow_factory() as uow:
        results = transfer_in(uow.ledger, from_line=from_line, to_line=to_line, amount=amount, key=key, memo=memo)
        uow.commit()
    return results


def transfer_in(
    ledger: LedgerRepository, *, from_line: int, to_line: int, amount: Money, key: str, memo: str = ""
) -> tuple[BudgetChangeResult, BudgetChangeResult]:
    """``transfer`` inside the caller's transaction (which commits); a replayed key returns the first result."""
    if from_line == to_line:
        raise ValueError("a transfer needs two different budget lines")
    budget.require_positive(amount, what="transfer", where=f"budget line {from_line}")
    fp = fingerprint("transfer", from_line=from_line, to_line=to_line, amount=amount.amount,
                     currency=amount.currency)
    # Lock in id order so two opposite transfers cannot deadlock.
    locked = {i: ledger.lock_line(i) for i in sorted((from_line, to_line))}
    if (prior := ledger.stored_result(validate_key(key), fp)) is not None:
        return _restore(BudgetChangeResult, prior["from"]), _restore(BudgetChangeResult, prior["to"])
    out = budget.plan_budget_change(locked[from_line], -amount, EntryKind.ADJUST)
    into = budget.plan_budget_change(locked[to_line], amount, EntryKind.ADJUST)
    ledger.append(locked[from_line], [out], key=key, document=None, memo=memo or f"transfer to {to_line}")
    ledger.append(locked[to_line], [into], key=key, document=None, memo=memo or f"transfer from {from_line}")
    results = (
        BudgetChangeResult(line_id=from_line, budget_after=locked[from_line].budget - amount.amount),
        BudgetChangeResult(line_id=to_line, budget_after=locked[to_line].budget + amount.amount),
    )
    ledger.store_result(key, "transfer", fp, {"from": results[0].to_json(), "to": results[1].to_json()})
    return results
