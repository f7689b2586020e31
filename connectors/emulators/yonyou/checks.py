"""What both emulated APIs check in a voucher, in neutral terms; each API words the problems its own way.

The checks are the ones the vendor documents or any general ledger makes: an account book, a voucher type
and a date; every line's account in the chart (``ErpEmulator.rejected_account``); one side per line; amounts
to the cent; auxiliary fields the tenant has; debits equal credits in the book's currency.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Problem:
    line: int | None  # 1-based voucher line; None: the header
    what: str  # book, voucher_type, date, period, lines, account, sides, debit, credit, dimension, balance, ...
    message: str  # the vendor's words
    field: str = ""  # the vendor's field when the problem names its own (an unknown auxiliary field)


@dataclass
class ParsedLine:
    account: str
    debit: Decimal  # in the voucher's currency
    credit: Decimal
    local_debit: Decimal  # in the book's currency: what must balance
    local_credit: Decimal
    memo: str
    dimensions: list[tuple[str, str]]  # (the vendor's auxiliary field, code)
    sides: int  # how many amount sides the request filled


@dataclass
class ParsedVoucher:
    book: str
    voucher_type: str
    posting_date: date | None
    currency: str
    lines: list[ParsedLine]
    problems: list[Problem] = field(default_factory=list)  # found while parsing (a bad date, a bad number)


def header_problems(voucher: ParsedVoucher, books: set[str]) -> list[Problem]:
    found = []
    if not voucher.book:
        found.append(Problem(None, "book", "账簿code不能为空！"))
    elif voucher.book not in books:
        found.append(Problem(None, "book", f"账簿[{voucher.book}]不存在"))
    if not voucher.voucher_type:
        found.append(Problem(None, "voucher_type", "凭证类型不能为空"))
    if voucher.posting_date is None:
        found.append(Problem(None, "date", "制单日期不能为空或格式错误"))
    if not voucher.lines:
        found.append(Problem(None, "lines", "分录不能为空"))
    return found


def line_problems(number: int, line: ParsedLine, *, rejected: bool, known_dimensions: set[str]) -> list[Problem]:
    found = []
    if not line.account:
        found.append(Problem(number, "account", "科目编码不能为空"))
    elif rejected:
        found.append(Problem(number, "account", f"科目编码[{line.account}]不存在或已停用"))
    if line.sides != 1 or (line.debit and line.credit):
        found.append(Problem(number, "sides", "借方和贷方必须且只能填写一方"))
    for side, amount in (("debit", line.debit), ("credit", line.credit)):
        if amount != amount.quantize(CENT):
            found.append(Problem(number, side, f"金额[{amount}]精度不能超过2位小数"))
    found += [Problem(number, "dimension", f"辅助核算项[{name}]不存在", name) for name, _ in line.dimensions
              if name not in known_dimensions]
    return found


def balance_problems(voucher: ParsedVoucher) -> list[Problem]:
    debit = sum((x.local_debit for x in voucher.lines), Decimal(0))
    credit = sum((x.local_credit for x in voucher.lines), Decimal(0))
    if debit != credit:
        return [Problem(None, "balance", f"借贷不平衡:借方合计{debit},贷方合计{credit}")]
    return []


def problems(voucher: ParsedVoucher, *, books: set[str], rejected: Callable[[str], bool],
             known_dimensions: set[str]) -> list[Problem]:
    """Every problem of ``voucher``, the header's first; balance only once every line is readable."""
    found = [*header_problems(voucher, books), *voucher.problems]
    for number, line in enumerate(voucher.lines, start=1):
        found += line_problems(number, line, rejected=bool(line.account) and rejected(line.account),
                               known_dimensions=known_dimensions)
    return found + balance_problems(voucher) if voucher.lines else found


def amount(value: object, number: int, side: str, found: list[Problem]) -> Decimal:
    """A request's amount (a JSON number or numeric text) as Decimal; a problem and zero if it is neither."""
    if value is None or value == "":
        return Decimal(0)
    try:
        if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
            raise InvalidOperation
        return Decimal(value)
    except InvalidOperation:
        found.append(Problem(number, side, f"金额[{value}]格式错误"))
        return Decimal(0)


def parse_date(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
