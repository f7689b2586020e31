"""OA form mappings (engine/domain/oa_forms.py): OA values in, document values out, every problem named."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.domain.errors import BudgetflowError, OaFormInvalid
from engine.domain.oa_forms import OaForm, OaFormField, incoming, outgoing

D = Decimal
TRAVEL = OaForm("dingtalk", "PROC-BUDGETFLOW-TRAVEL", "in", "oa_travel_application", (
    OaFormField("purpose", "出差事由", "text", True),
    OaFormField("destination", "目的地", "text", False),
    OaFormField("start_date", "开始日期", "date", True),
    OaFormField("nights", "天数", "number", False),
    OaFormField("amount", "预计费用(元)", "money", True),
    OaFormField("", "备注", "ignore", False),
))
EXPENSE = OaForm("dingtalk", "PROC-BUDGETFLOW-EXPENSE", "out", "travel_application_oa", (
    OaFormField("document_no", "单号", "text", True),
    OaFormField("amount", "金额(元)", "money", True),
    OaFormField("budget_available", "预算余额(元)", "money", False),
    OaFormField("start_date", "开始日期", "date", False),
    OaFormField("nights", "天数", "number", False),
))
GOOD = {"出差事由": "  客户拜访 ", "目的地": "上海", "开始日期": "2026-03-01", "天数": "3", "预计费用(元)": "1234.5",
        "备注": "随便写"}


def problems_of(form: OaForm, values: dict[str, object]) -> list[str]:
    with pytest.raises(OaFormInvalid) as caught:
        incoming(form, values)
    return caught.value.problems


# ---------------------------------------------------------------- incoming (mode 1)


def test_an_oa_form_becomes_document_fields_typed_as_plain_json():
    assert incoming(TRAVEL, GOOD) == {"purpose": "客户拜访", "destination": "上海", "start_date": "2026-03-01",
                                      "nights": "3", "amount": "1234.50"}


def test_a_blank_optional_control_is_left_out_and_an_ignored_one_is_never_taken():
    values = {**GOOD, "目的地": "  ", "天数": None}
    assert incoming(TRAVEL, values) == {"purpose": "客户拜访", "start_date": "2026-03-01", "amount": "1234.50"}


def test_every_problem_is_listed_at_once_naming_vendor_template_control_and_field():
    values = {"出差事由": " ", "开始日期": "2026-02-30", "天数": "three", "预计费用(元)": "abc", "审批意见": "同意"}

    problems = problems_of(TRAVEL, values)

    where = "dingtalk template PROC-BUDGETFLOW-TRAVEL"
    assert problems == [
        f"{where}: unmapped OA field '审批意见': map it or mark it ignore in oa_forms.csv",
        f"{where}: 出差事由 (purpose): is required but the OA form left it blank or missing",
        f"{where}: 开始日期 (start_date): '2026-02-30' is not a date (YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS] or epoch "
        "milliseconds)",
        f"{where}: 天数 (nights): 'three' is not a number (plain digits and one '.', e.g. 3 or 2.5)",
        f"{where}: 预计费用(元) (amount): 'abc' is not an amount (plain digits and one '.', e.g. 1280.50)",
    ]


def test_the_error_is_a_value_error_and_a_budgetflow_error_with_a_stable_code():
    with pytest.raises(OaFormInvalid) as caught:
        incoming(TRAVEL, {})
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, BudgetflowError)
    assert caught.value.code == "OA_FORM_INVALID"
    assert len(caught.value.problems) == 3  # the three required controls
    assert "3 problem(s)" in str(caught.value)


def test_a_required_control_missing_altogether_is_named():
    values = {k: v for k, v in GOOD.items() if k != "预计费用(元)"}
    assert problems_of(TRAVEL, values) == [
        "dingtalk template PROC-BUDGETFLOW-TRAVEL: 预计费用(元) (amount): is required but the OA form left it "
        "blank or missing"]


def test_an_unmapped_control_left_empty_is_no_problem():
    assert incoming(TRAVEL, {**GOOD, "附件": "", "抄送人": []})["amount"] == "1234.50"


def test_control_names_match_across_full_and_half_width_but_one_control_given_twice_is_refused():
    values = {k: v for k, v in GOOD.items() if k != "预计费用(元)"}
    assert incoming(TRAVEL, {**values, "预计费用（元）": "88"})["amount"] == "88.00"

    problems = problems_of(TRAVEL, {**GOOD, "预计费用（元）": "88"})
    assert problems == ["dingtalk template PROC-BUDGETFLOW-TRAVEL: OA field '预计费用（元）' is given twice "
                        "(also as '预计费用(元)')"]


@pytest.mark.parametrize(("value", "expected"), [
    ("1234", "1234.00"), ("0.1", "0.10"), ("0", "0.00"), (1234.5, "1234.50"), (88, "88.00"), (D("7.25"), "7.25"),
    (" 12.30 ", "12.30"),
])
def test_money_comes_as_text_or_a_json_number_and_leaves_as_plain_text_at_two_places(value, expected):
    assert incoming(TRAVEL, {**GOOD, "预计费用(元)": value})["amount"] == expected


@pytest.mark.parametrize(("value", "reason"), [
    ("1e3", "plain digits"), ("1,234.00", "plain digits"), ("１２３", "plain digits"), ("NaN", "plain digits"),
    ("inf", "plain digits"), ("12.345", "at most 2 decimal places"), ("-5", "it is negative"),
    ("123456789012345", "more than 14 digits"), (True, "plain digits"), (float("nan"), "plain digits"),
    ({"amount": 1}, "plain digits"),
])
def test_money_that_is_not_a_plain_amount_in_yuan_is_refused_with_the_reason(value, reason):
    (problem,) = problems_of(TRAVEL, {**GOOD, "预计费用(元)": value})
    assert problem.startswith("dingtalk template PROC-BUDGETFLOW-TRAVEL: 预计费用(元) (amount): ")
    assert "is not an amount" in problem and reason in problem


MARCH_FIRST_CST = int(datetime(2026, 3, 1, tzinfo=timezone(timedelta(hours=8))).timestamp() * 1000)


@pytest.mark.parametrize("value", [
    "2026-03-01", "2026-03-01 09:30", "2026-03-01 09:30:15", "2026-03-01T09:30:00", "2026-03-01T00:00:00+08:00",
    "2026-02-28T16:00:00Z",
    "2026-02-28T16:00:00.000Z", MARCH_FIRST_CST, str(MARCH_FIRST_CST), MARCH_FIRST_CST + 86_399_999,
])
def test_dates_come_as_text_rfc3339_or_epoch_milliseconds_and_mean_the_day_in_china(value):
    assert incoming(TRAVEL, {**GOOD, "开始日期": value})["start_date"] == "2026-03-01"


def test_an_epoch_time_is_read_on_the_china_calendar_not_in_utc():
    # 1 March 00:00 in Beijing is still 28 February in UTC: the day the person picked is 1 March.
    utc = UTC
    assert incoming(TRAVEL, {**GOOD, "开始日期": MARCH_FIRST_CST})["start_date"] == "2026-03-01"
    assert incoming(TRAVEL, {**GOOD, "开始日期": MARCH_FIRST_CST}, calendar=utc)["start_date"] == "2026-02-28"


@pytest.mark.parametrize("value", [
    "2026-02-30", "2026/03/01", "01-03-2026", "1772294400", "2026-03-01 25:00", "2026-03-01 09:60",
    "2026-03-01x", "tomorrow", True, 1.5, "２０２６-03-01",
])
def test_anything_else_is_not_a_date(value):
    (problem,) = problems_of(TRAVEL, {**GOOD, "开始日期": value})
    assert "开始日期 (start_date): " in problem and "is not a date" in problem


def test_text_keeps_line_breaks_joins_multi_selects_and_refuses_control_characters_and_overlong_values():
    assert incoming(TRAVEL, {**GOOD, "出差事由": "第一行\n第二行"})["purpose"] == "第一行\n第二行"
    assert incoming(TRAVEL, {**GOOD, "目的地": ["上海", "", "杭州"]})["destination"] == "上海, 杭州"
    assert incoming(TRAVEL, {**GOOD, "目的地": 3})["destination"] == "3"
    (nul,) = problems_of(TRAVEL, {**GOOD, "出差事由": "拜访\x00客户"})
    assert "出差事由 (purpose): '拜访\\x00客户' contains U+0000 (NUL)" in nul
    (bidi,) = problems_of(TRAVEL, {**GOOD, "出差事由": "abc\u202edef"})
    assert "bidirectional text control" in bidi
    (long,) = problems_of(TRAVEL, {**GOOD, "出差事由": "字" * 2001})
    assert long.endswith("出差事由 (purpose): is 2001 characters long; at most 2000 allowed")
    assert incoming(TRAVEL, {**GOOD, "出差事由": "字" * 2000})["purpose"] == "字" * 2000
    (dict_value,) = problems_of(TRAVEL, {**GOOD, "目的地": {"city": "上海"}})
    assert dict_value.endswith("目的地 (destination): a dict is not text")


def test_numbers_keep_their_places_and_may_be_negative():
    assert incoming(TRAVEL, {**GOOD, "天数": "2.50"})["nights"] == "2.50"
    assert incoming(TRAVEL, {**GOOD, "天数": -1})["nights"] == "-1"
    (problem,) = problems_of(TRAVEL, {**GOOD, "天数": "1E2"})
    assert "'1E2' is not a number" in problem


# ---------------------------------------------------------------- outgoing (mode 2)


def test_a_document_fills_the_mapped_controls_in_order_typed():
    data = {"document_no": "TA-2026-0001", "amount": "1280.5", "budget_available": D("480000"),
            "start_date": "2026-03-01", "nights": 2, "purpose": "not mapped, not sent"}

    assert outgoing(EXPENSE, data) == [
        (EXPENSE.fields[0], "TA-2026-0001"), (EXPENSE.fields[1], D("1280.50")), (EXPENSE.fields[2], D("480000.00")),
        (EXPENSE.fields[3], date(2026, 3, 1)), (EXPENSE.fields[4], D(2)),
    ]


def test_a_negative_amount_goes_out_but_never_comes_in():
    # A line over budget under WARN has a negative amount available, and the approvers should see it; an
    # amount typed into an OA form is never negative.
    controls = dict(outgoing(EXPENSE, {"document_no": "TA-1", "amount": "1", "budget_available": "-250.5"}))
    assert controls[EXPENSE.fields[2]] == D("-250.50")
    (problem,) = problems_of(TRAVEL, {**GOOD, "预计费用(元)": "-250.50"})
    assert problem.endswith("预计费用(元) (amount): '-250.50' is not an amount (it is negative)")


def test_a_missing_optional_field_is_left_out():
    controls = outgoing(EXPENSE, {"document_no": "TA-1", "amount": "1", "budget_available": None})
    assert [field.oa_field for field, _value in controls] == ["单号", "金额(元)"]


def test_a_missing_required_field_and_every_mistyped_value_are_listed_together():
    with pytest.raises(OaFormInvalid) as caught:
        outgoing(EXPENSE, {"amount": "12.345", "budget_available": "lots", "start_date": "March", "nights": "x"})
    where = "dingtalk template PROC-BUDGETFLOW-EXPENSE"
    assert caught.value.problems == [
        f"{where}: 单号 (document_no): is required but the document has no document_no",
        f"{where}: 金额(元) (amount): '12.345' is not an amount (at most 2 decimal places)",
        f"{where}: 预算余额(元) (budget_available): 'lots' is not an amount (plain digits and one '.', e.g. 1280.50)",
        f"{where}: 开始日期 (start_date): 'March' is not a date (YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS] or epoch "
        "milliseconds)",
        f"{where}: 天数 (nights): 'x' is not a number (plain digits and one '.', e.g. 3 or 2.5)",
    ]


def test_outgoing_takes_dates_and_datetimes_as_days():
    aware = datetime(2026, 2, 28, 16, 0, tzinfo=UTC)  # 1 March in China
    for value in (date(2026, 3, 1), aware, datetime(2026, 3, 1, 8, 0)):
        controls = dict((f.field, v) for f, v in outgoing(EXPENSE, {"document_no": "X", "amount": "1",
                                                                    "start_date": value}))
        assert controls["start_date"] == date(2026, 3, 1)


# ---------------------------------------------------------------- round trips

ROUND_TRIP_IN = OaForm("dingtalk", "PROC-RT", "in", "p", tuple(
    OaFormField(f.field, f.oa_field, f.type, f.required) for f in EXPENSE.fields))
amounts = st.decimals(min_value=0, max_value=D("99999999999999.99"), places=2, allow_nan=False,
                      allow_infinity=False)


def as_oa_values(controls):
    """What the OA reports back for the values budgetflow filled in: text, as DingTalk sends it."""
    return {field.oa_field: value.isoformat() if isinstance(value, date) else str(value) for field, value in controls}


@given(amount=amounts, available=amounts, day=st.dates(min_value=date(1900, 1, 1), max_value=date(9999, 12, 31)),
       number=st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-10**9, max_value=10**9),
       document_no=st.text(st.characters(codec="utf-8", categories=("L", "N", "P")), min_size=1, max_size=50))
def test_what_budgetflow_sends_comes_back_as_the_same_document_values(amount, available, day, number, document_no):
    data = {"document_no": document_no, "amount": amount, "budget_available": available, "start_date": day,
            "nights": number}

    back = incoming(ROUND_TRIP_IN, as_oa_values(outgoing(EXPENSE, data)))

    assert D(back["amount"]) == amount and D(back["budget_available"]) == available
    assert back["amount"] == f"{amount:.2f}"  # plain text, no exponent, exactly two places
    assert back["start_date"] == day.isoformat() and D(back["nights"]) == number
    assert "E" not in back["nights"] and back["document_no"] == document_no.strip()


@given(amount=st.decimals(min_value=0, max_value=D("99999999999999.99"), places=2, allow_nan=False))
def test_money_read_from_the_oa_is_exactly_the_amount_sent_even_as_a_json_number(amount):
    assert incoming(ROUND_TRIP_IN, {"单号": "X", "金额(元)": f"{amount:f}"})["amount"] == f"{amount:.2f}"
    if amount < 10**13:  # a float keeps 15 significant digits: below that, its shortest text is the amount
        assert incoming(ROUND_TRIP_IN, {"单号": "X", "金额(元)": float(amount)})["amount"] == f"{amount:.2f}"
