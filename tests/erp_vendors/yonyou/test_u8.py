"""The U8 OpenAPI client against the emulator over loopback HTTP: post, read back, refusals, auth, outages."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import pytest
import requests

from connectors.base import ConnectorError
from connectors.emulators.yonyou import APP_SECRET, U8_APP_SECRET, YonyouEmulator
from connectors.erp import POST_FAILED, UNAVAILABLE
from connectors.erp_registry import ErpSettingsInvalid, factory
from connectors.yonyou import connect_u8, connect_yonbip
from tests.erp_vendors.yonyou.support import DAY, draft


def test_a_balanced_voucher_posts_and_reads_back(emulator: YonyouEmulator, u8_settings: dict) -> None:
    client = factory("yonyou_u8")(u8_settings)
    posted = client.post_voucher(draft("EC-2026-000001"), idempotency_key="EC-2026-000001")

    assert not posted.replayed
    [booked] = emulator.book.all()
    assert (booked.voucher_no, booked.reference) == (posted.voucher_no, "EC-2026-000001")
    assert booked.extra["biz_id"] == "EC-2026-000001" and booked.extra["voucher_type"] == "记"
    assert [(x.account, x.debit, x.credit, x.memo) for x in booked.lines] == [
        ("660201", Decimal("1128.00"), 0, "差旅费"), ("22210101", Decimal("72.00"), 0, "进项税"),
        ("2241", 0, Decimal("1200.00"), "应付报销款")]
    assert booked.lines[0].dimensions == (("department", "D01"), ("employee", "E007"), ("project", "P9"))
    found = client.find_voucher(idempotency_key="EC-2026-000001")
    assert found is not None and found.voucher_no == posted.voucher_no
    assert client.find_voucher(idempotency_key="EC-2026-999999") is None
    [listed] = client.list_vouchers(start=DAY, end=DAY)
    assert (listed.voucher_no, listed.reference, listed.lines, listed.status, listed.currency) == (
        posted.voucher_no, "EC-2026-000001", booked.lines, "saved", "CNY")


def test_the_list_pages_rows_and_groups_them_into_vouchers(emulator: YonyouEmulator, u8_settings: dict,
                                                           url: str) -> None:
    client = connect_u8({**u8_settings, "page_size": 4})  # 3 rows a voucher: vouchers straddle pages
    for n in range(5):
        client.post_voucher(draft(f"EC-{n}"), idempotency_key=f"EC-{n}")
    client.post_voucher(draft("EC-LATER", day=date(2026, 10, 1)), idempotency_key="EC-LATER")
    requests.post(f"{url}/_emulator/book", json={"posting_date": DAY.isoformat(), "lines": [
        {"account": "1002", "debit": "5.00"}, {"account": "2241", "credit": "5.00"}]}, timeout=5)
    requests.post(f"{url}/_emulator/book/{emulator.book.all()[1].voucher_no}/pay",
                  json={"paid_on": "2026-09-21"}, timeout=5)

    listed = client.list_vouchers(start=date(2026, 9, 1), end=date(2026, 9, 30))

    assert sorted(v.reference for v in listed) == ["", "EC-0", "EC-1", "EC-2", "EC-3", "EC-4"]
    assert all(len(v.lines) == 3 and v.total == Decimal("1200.00") for v in listed if v.reference)
    assert [v.reference for v in listed if v.paid_on == date(2026, 9, 21)] == ["EC-1"]


def test_a_voucher_in_another_currency_carries_both_amounts(emulator: YonyouEmulator, u8_settings: dict) -> None:
    client = connect_u8(u8_settings)
    client.post_voucher(draft("EC-USD", "100.00", currency="USD", exchange_rate=Decimal("7.1234")),
                        idempotency_key="EC-USD")
    [booked] = emulator.book.all()
    assert booked.currency == "USD" and booked.lines[2].credit == Decimal("100.00")
    assert booked.extra["local"][2] == ("0", "712.34")
    [listed] = client.list_vouchers(start=DAY, end=DAY)
    assert listed.currency == "USD" and listed.lines == booked.lines


def test_an_unknown_account_is_refused_naming_the_field_and_line(emulator: YonyouEmulator, u8_settings: dict) -> None:
    with pytest.raises(ConnectorError) as refused:
        connect_u8(u8_settings).post_voucher(draft("EC-1", account="999999"), idempotency_key="EC-1")
    assert refused.value.code == POST_FAILED and not refused.value.retryable
    [error] = refused.value.payload["errors"]
    assert (error["field"], error["line"]) == ("account_code", 1) and "科目编码[999999]不存在" in error["message"]
    assert emulator.book.all() == []


def test_an_unknown_auxiliary_field_and_a_wrong_book_are_named(emulator: YonyouEmulator, u8_settings: dict) -> None:
    client = connect_u8({**u8_settings, "dimensions": {"project": "self_define9"}})
    with pytest.raises(ConnectorError) as refused:
        client.post_voucher(draft("EC-2", book="7"), idempotency_key="EC-2")
    assert [(e["field"], e["line"]) for e in refused.value.payload["errors"]] == [
        ("ds_sequence", None), ("self_define9", 1)]


def test_bad_credentials_are_refused_without_the_secret(emulator: YonyouEmulator, u8_settings: dict) -> None:
    for wrong in ({"app_secret": "not-the-secret-at-all"}, {"app_key": "nobody"}, {"from_account": "x"},
                  {"to_account": "x"}):
        with pytest.raises(ConnectorError) as refused:
            connect_u8({**u8_settings, **wrong}).post_voucher(draft("EC-3"), idempotency_key="EC-3")
        assert refused.value.code == POST_FAILED and not refused.value.retryable
        assert "check the credentials" in str(refused.value)
        assert "not-the-secret-at-all" not in str(refused.value) and U8_APP_SECRET not in str(refused.value)
    assert emulator.book.all() == []


def test_an_expired_token_is_renewed_once_transparently(emulator: YonyouEmulator, u8_settings: dict) -> None:
    client = connect_u8(u8_settings)
    client.post_voucher(draft("EC-4"), idempotency_key="EC-4")
    emulator.clock.advance(7201)
    client.post_voucher(draft("EC-5"), idempotency_key="EC-5")
    assert emulator.tokens_issued["u8"] == 2 and len(emulator.book.all()) == 2


def test_a_fresh_token_refused_again_is_a_credentials_failure(emulator: YonyouEmulator, u8_settings: dict,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emulator, "token_good", lambda api, token: False)
    with pytest.raises(ConnectorError) as refused:
        connect_u8(u8_settings).post_voucher(draft("EC-6"), idempotency_key="EC-6")
    assert refused.value.code == POST_FAILED and emulator.tokens_issued["u8"] == 2


def test_server_errors_and_throttling_are_retryable_and_not_ambiguous(emulator: YonyouEmulator,
                                                                     u8_settings: dict) -> None:
    client = connect_u8(u8_settings)
    client.find_voucher(idempotency_key="warm-up")
    for fault in ({"error_5xx_ratio": 1}, {"down_for": 60}):
        emulator.erp_faults.update({"error_5xx_ratio": 0, "down_for": 0, **fault}, emulator.clock.now())
        with pytest.raises(ConnectorError) as failed:
            client.post_voucher(draft("EC-7"), idempotency_key="EC-7")
        assert failed.value.code == UNAVAILABLE and failed.value.payload["ambiguous"] is False
    emulator.erp_faults.update({"down_for": 0}, emulator.clock.now())
    emulator.faults.throttle_every = 1
    with pytest.raises(ConnectorError) as failed:
        client.post_voucher(draft("EC-7"), idempotency_key="EC-7")
    assert failed.value.payload["ambiguous"] is False and "30009" in str(failed.value)
    assert emulator.book.all() == []


def test_commit_then_timeout_is_ambiguous_and_the_retry_finds_the_voucher(emulator: YonyouEmulator,
                                                                         u8_settings: dict) -> None:
    client = connect_u8(u8_settings)
    emulator.erp_faults.commit_then_timeout_ratio = 1
    with pytest.raises(ConnectorError) as failed:
        client.post_voucher(draft("EC-8"), idempotency_key="EC-8")
    assert failed.value.code == UNAVAILABLE and failed.value.payload["ambiguous"] is True
    emulator.erp_faults.commit_then_timeout_ratio = 0

    again = client.post_voucher(draft("EC-8"), idempotency_key="EC-8", resolve_first=True)

    [booked] = emulator.book.all()
    assert again.replayed and again.voucher_no == booked.voucher_no


def test_resubmitting_a_biz_id_yields_the_same_voucher(emulator: YonyouEmulator, u8_settings: dict) -> None:
    client = connect_u8(u8_settings)
    first = client.post_voucher(draft("EC-9"), idempotency_key="EC-9")
    second = client.post_voucher(draft("EC-9"), idempotency_key="EC-9")
    assert second.voucher_no == first.voucher_no and len(emulator.book.all()) == 1


@pytest.mark.parametrize(("changes", "named"), [
    ({"enter": None}, "enter"), ({"to_account": " "}, "to_account"), ({"book_currency": ""}, "book_currency"),
    ({"page_size": 5000}, "page_size"), ({"dimensions": ["dept_id"]}, "dimensions"),
])
def test_wrong_settings_name_the_key(u8_settings: dict, changes: dict, named: str) -> None:
    settings = {k: v for k, v in {**u8_settings, **changes}.items() if v is not None}
    with pytest.raises(ErpSettingsInvalid, match=named):
        connect_u8(settings)


def test_the_secret_and_tokens_stay_out_of_the_logs(emulator: YonyouEmulator, u8_settings: dict,
                                                    yonbip_settings: dict, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    connect_u8(u8_settings).post_voucher(draft("EC-10"), idempotency_key="EC-10")
    connect_yonbip(yonbip_settings).post_voucher(draft("EC-11"), idempotency_key="EC-11")
    logged = caplog.text
    assert "/api/voucher/add" in logged and "addVoucher" in logged  # the request lines were logged, masked
    secrets = [U8_APP_SECRET, APP_SECRET, *emulator.u8_tokens, *emulator.yonbip_tokens]
    assert [s for s in secrets if s in logged] == [] and "signature=***" in logged
