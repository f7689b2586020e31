"""``posting_rules.csv``: the checks across its rows and against the other files, and the rules built from them.

One row per ERP says how claims are posted there (engine/domain/posting.py ``PostingRule``). ``reading.py`` has
parsed every cell by its column; here an ERP has one rule, its accounts follow its chart's pattern (the parser of
the expense_subjects.csv column that ERP books on, ``GL_COLUMN``), its book currency is in currencies.csv, and
posting can find every account it will need: each active subject's GL account in that column (reported on the
subject's row, naming the rule) and an input VAT account when some active subject deducts VAT.
"""

from __future__ import annotations

from engine.domain.masterdata.checks import Tables, check_refs, check_unique
from engine.domain.masterdata.fields import GL_PARSERS, POSTING_RULES
from engine.domain.masterdata.reading import Problems, Row
from engine.domain.posting import DEDUCTIBLE, GL_COLUMN, PostingRule

SUBJECTS = "expense_subjects.csv"
ACCOUNTS = ("payable_account", "vat_input_account")


def check_posting_rules(tables: Tables, problems: Problems) -> None:
    rules = tables.rows(POSTING_RULES)
    check_unique(rules, "erp", problems)
    check_refs(rules, "book_currency", tables.codes("currencies.csv"), "currencies.csv", problems)
    for row in rules:
        _check_accounts(row, problems)
    active = [row for row in tables.rows(SUBJECTS) if row.values.get("active") is True]
    _check_subject_accounts(rules, active, problems)
    _check_vat_account(rules, active, problems)


def _erp(row: Row) -> str | None:
    erp = row.values.get("erp")
    return erp if isinstance(erp, str) else None


def _check_accounts(row: Row, problems: Problems) -> None:
    """Each account in the pattern of the chart its ERP books on (Kingdee 6602.01, Yonyou 660201, SAP ≤ 10)."""
    if (erp := _erp(row)) is None:
        return
    parse = GL_PARSERS[GL_COLUMN[erp]]
    for column in ACCOUNTS:
        value = row.values.get(column)
        if not isinstance(value, str):
            continue
        try:
            row.values[column] = parse(value)
        except ValueError as exc:
            _add(problems, row, column, f"{exc} ({erp} posts to {GL_COLUMN[erp]} accounts)")


def _check_subject_accounts(rules: list[Row], active: list[Row], problems: Problems) -> None:
    """Every active subject has a GL account in each column a rule books on; one problem per subject and column."""
    needing: dict[str, list[Row]] = {}
    for rule in rules:
        if (erp := _erp(rule)) is not None:
            needing.setdefault(GL_COLUMN[erp], []).append(rule)
    for column, members in needing.items():
        wanted_by = " and ".join(f"{_erp(rule)} (row {rule.line})" for rule in members)
        for subject in active:
            # A cell that did not parse is absent (and already reported); a blank one holds None.
            if column in subject.values and subject.values[column] is None:
                problems.add(SUBJECTS, subject.line, column, f"is required: subject {subject.values.get('code')} "
                             f"is active and {POSTING_RULES} posts to {column} for {wanted_by}")


def _check_vat_account(rules: list[Row], active: list[Row], problems: Problems) -> None:
    deducting = [str(row.values.get("code")) for row in active if row.values.get("tax_treatment") in DEDUCTIBLE]
    if not deducting:
        return
    shown = ", ".join(deducting[:5]) + (f" and {len(deducting) - 5} more" if len(deducting) > 5 else "")
    for rule in rules:
        if "vat_input_account" in rule.values and rule.values["vat_input_account"] is None:
            _add(problems, rule, "vat_input_account", f"is required: active subject(s) {shown} deduct input VAT "
                 f"(tax_treatment {' or '.join(sorted(DEDUCTIBLE))})")


def _add(problems: Problems, row: Row, column: str, message: str) -> None:
    problems.add(POSTING_RULES, row.line, column, message)
    row.complete = False


def build_posting_rules(rows: list[Row]) -> tuple[PostingRule, ...]:
    """The rules in file order; call only once the checks passed."""
    return tuple(_rule(row.values) for row in rows)


def _rule(values: dict[str, object]) -> PostingRule:
    def text(column: str) -> str:
        return str(values[column])

    def names(column: str) -> tuple[str, ...]:
        value = values[column]
        return tuple(str(name) for name in value) if isinstance(value, tuple) else ()

    vat = values["vat_input_account"]
    return PostingRule(erp=text("erp"), book=text("book"), voucher_type=text("voucher_type"),
                       payable_account=text("payable_account"), vat_input_account=None if vat is None else str(vat),
                       summary=text("summary"), expense_dimensions=names("expense_dimensions"),
                       payable_dimensions=names("payable_dimensions"), book_currency=text("book_currency"))
