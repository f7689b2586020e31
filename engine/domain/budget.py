"""The budget ledger's rules, as pure functions over plain values.

Invariants (each enforced here, each re-checked by ``budgetflow ledger verify``):

* A line's balance is derived from its append-only entries. Every entry carries
  signed deltas to three buckets: ``budget`` (ALLOCATE, ADJUST), ``reserved``
  (RESERVE +, RELEASE -, CONSUME from a reservation -) and ``consumed`` (CONSUME +).
  ``available = budget - reserved - consumed``.
* Under FORBID a reservation or consumption may not push ``reserved + consumed``
  beyond ``budget * (1 + tolerance%)``; beyond ``budget`` it is allowed but flagged.
  WARN always allows and flags anything beyond ``budget``. IGNORE allows silently.
* A reservation resolves at most once: it is open until closed (last write-off,
  release on cancellation or rejection). ``consumed + released <= amount``.
  Consuming more than what remains draws the remainder from the reservation and
  books only the excess as a fresh consumption, re-checked against the line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from engine.domain.errors import BudgetInsufficient, CurrencyMismatch, InvalidAmount, ReservationClosed
from engine.domain.money import Money

ZERO = Decimal(0)
HUNDRED = Decimal(100)


class ControlMode(StrEnum):
    FORBID = "FORBID"  # hard stop beyond budget + tolerance
    WARN = "WARN"  # allow, but flag the overrun
    IGNORE = "IGNORE"  # no control at all


class EntryKind(StrEnum):
    ALLOCATE = "ALLOCATE"
    ADJUST = "ADJUST"
    RESERVE = "RESERVE"
    RELEASE = "RELEASE"
    CONSUME = "CONSUME"


class ReservationStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class LineState:
    """A budget line as the ledger sees it at one instant, under lock."""

    line_id: int
    label: str
    currency: str
    control_mode: ControlMode
    tolerance_pct: Decimal
    budget: Decimal
    reserved: Decimal
    consumed: Decimal

    @property
    def committed(self) -> Decimal:
        return self.reserved + self.consumed

    @property
    def available(self) -> Decimal:
        return self.budget - self.committed

    @property
    def hard_limit(self) -> Decimal:
        """What FORBID lets ``reserved + consumed`` reach: budget plus tolerance."""
        return self.budget + self.budget * self.tolerance_pct / HUNDRED


@dataclass(frozen=True, slots=True)
class Posting:
    """One ledger entry to append, with the deltas it applies to the line's buckets."""

    kind: EntryKind
    amount: Decimal
    budget_delta: Decimal = ZERO
    reserved_delta: Decimal = ZERO
    consumed_delta: Decimal = ZERO
    over_budget: bool = False


@dataclass(frozen=True, slots=True)
class ReservationState:
    reservation_id: int
    line_id: int
    currency: str
    amount: Decimal
    consumed: Decimal
    released: Decimal
    status: ReservationStatus

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.consumed - self.released


@dataclass(frozen=True, slots=True)
class WriteOffPlan:
    postings: list[Posting] = field(default_factory=list)
    from_reservation: Decimal = ZERO
    excess: Decimal = ZERO
    released: Decimal = ZERO
    closes: bool = False
    over_budget: bool = False


def require_positive(money: Money, *, what: str, where: str) -> None:
    if money.amount <= 0:
        raise InvalidAmount(f"{what} on {where}: amount must be positive, got {money}")


def require_currency(money: Money, currency: str, *, where: str) -> None:
    if money.currency != currency:
        raise CurrencyMismatch(f"{where} is kept in {currency}; {money} was given", expected=currency)


def check_spend(line: LineState, amount: Decimal, *, what: str) -> bool:
    """Decide whether ``amount`` more may be committed on ``line``; True means over budget (flag).

    Raises BudgetInsufficient when the line's FORBID control stops it.
    """
    after = line.committed + amount
    over_budget = after > line.budget
    if line.control_mode is ControlMode.FORBID and after > line.hard_limit:
        headroom = max(line.hard_limit - line.committed, ZERO)
        raise BudgetInsufficient(
            f"{what} of {Money(amount, line.currency)} refused on budget line {line.label}: "
            f"only {Money(headroom, line.currency)} left within budget and tolerance "
            f"(available {Money(line.available, line.currency)}, control FORBID, "
            f"tolerance {format(line.tolerance_pct.normalize(), 'f')}%)",
            line=line.label, amount=amount, available=line.available,
        )
    return over_budget and line.control_mode is not ControlMode.IGNORE


def plan_reserve(line: LineState, money: Money) -> Posting:
    require_positive(money, what="reservation", where=f"budget line {line.label}")
    require_currency(money, line.currency, where=f"budget line {line.label}")
    flag = check_spend(line, money.amount, what="reservation")
    return Posting(EntryKind.RESERVE, money.amount, reserved_delta=money.amount, over_budget=flag)


def plan_budget_change(line: LineState, money: Money, kind: EntryKind) -> Posting:
    """ALLOCATE (positive) or ADJUST (either sign; a cut may not go below what is committed)."""
    require_currency(money, line.currency, where=f"budget line {line.label}")
    if kind is EntryKind.ALLOCATE and money.amount <= 0:
        raise InvalidAmount(f"allocation on budget line {line.label}: amount must be positive, got {money}")
    if money.amount == 0:
        raise InvalidAmount(f"adjustment on budget line {line.label}: amount must not be zero")
    if line.budget + money.amount < 0:
        raise InvalidAmount(f"adjustment of {money} on budget line {line.label} would make its budget negative")
    if money.amount < 0 and line.control_mode is ControlMode.FORBID and line.budget + money.amount < line.committed:
        raise BudgetInsufficient(
            f"cannot take {Money(-money.amount, line.currency)} from budget line {line.label}: "
            f"{Money(line.committed, line.currency)} is already reserved or consumed of "
            f"{Money(line.budget, line.currency)}",
            line=line.label, amount=money.amount, available=line.available,
        )
    return Posting(kind, abs(money.amount), budget_delta=money.amount)


def plan_write_off(line: LineState, res: ReservationState, money: Money, *, close: bool) -> WriteOffPlan:
    """Consume ``money`` against ``res``; on ``close`` release what remains."""
    where = f"reservation {res.reservation_id} on budget line {line.label}"
    _require_open(res, action="write-off")
    require_currency(money, res.currency, where=where)
    if money.amount < 0:
        raise InvalidAmount(f"write-off on {where}: amount must not be negative, got {money}")
    from_res = min(money.amount, res.remaining)
    excess = money.amount - from_res
    postings: list[Posting] = []
    if from_res > 0:
        postings.append(Posting(EntryKind.CONSUME, from_res, reserved_delta=-from_res, consumed_delta=from_res))
    flag = False
    if excess > 0:
        # Only the part beyond the reservation is new money: it meets the line's control again.
        flag = check_spend(line, excess, what=f"write-off beyond {where}")
        postings.append(Posting(EntryKind.CONSUME, excess, consumed_delta=excess, over_budget=flag))
    released = res.remaining - from_res if close else ZERO
    if released > 0:
        postings.append(Posting(EntryKind.RELEASE, released, reserved_delta=-released))
    return WriteOffPlan(postings, from_res, excess, released, closes=close, over_budget=flag)


def plan_release(res: ReservationState, *, label: str) -> WriteOffPlan:
    """Close ``res`` and give back everything it still holds."""
    _require_open(res, action="release")
    rest = res.remaining
    postings = [Posting(EntryKind.RELEASE, rest, reserved_delta=-rest)] if rest > 0 else []
    return WriteOffPlan(postings, released=rest, closes=True)


def _require_open(res: ReservationState, *, action: str) -> None:
    if res.status is not ReservationStatus.OPEN:
        raise ReservationClosed(
            f"{action} refused: reservation {res.reservation_id} is already closed "
            f"(consumed {Money(res.consumed, res.currency)}, released {Money(res.released, res.currency)})",
            reservation=res.reservation_id,
        )
