"""The YonBIP client against the emulator over loopback HTTP: post, read back, refusals, auth, outages."""

from __future__ import annotations

import socket
from datetime import date
from decimal import Decimal

import pytest
import requests

from connectors.base import ConnectorError
from connectors.emulators.yonyou import APP_SECRET, YonyouEmulator
from connectors.erp import POST_FAILED, UNAVAILABLE, PostedVoucher
from connectors.erp_registry import ErpSettingsInvalid, factory
from connectors.yonyou import connect_yonbip
from tests.erp_vendors.yonyou.support import DAY, draft


def test_a_balanced_voucher_posts_and_reads_back(emulator: YonyouEmulator, yonbip_settings: dict) -> None:
    client = factory("yonbip")(yonbip_settings)
    posted = client.post_voucher(draft("EC-2026-000001"), idempotency_key="EC-2026-000001")

    assert not posted.replayed
    [booked] = emulator.book.all()
    assert booked.voucher_no == posted.voucher_no and booked.reference == "EC-2026-000001"
    assert [(x.account, x.debit, x.credit) for x in booked.lines] == [
        ("660201", Decimal("1128.00"), 0), ("22210101", Decimal("72.00"), 0), ("2241", 0, Decimal("1200.00"))]
    assert booked.lines[0].dimensions == (("department", "D01"), ("employee", "E007"), ("project", "P9"))
    assert booked.posting_date == DAY and booked.extra["book"] == "BOOK01" and booked.extra["voucher_type"] == "01"
    assert client.find_voucher(idempotency_key="EC-2026-000001") == PostedVoucher(
        posted.voucher_no, "EC-2026-000001", replayed=True)
    assert client.find_voucher(idempotency_key="EC-2026-999999") is None
    [listed] = client.list_vouchers(start=DAY, end=DAY)
    assert (listed.voucher_no, listed.reference, listed.lines, listed.status) == (
        posted.voucher_no, "EC-2026-000001", booked.lines, "saved")


def test_the_list_pages_through_every_voucher_in_range_ours_and_hand_entered(
        emulator: YonyouEmulator, yonbip_settings: dict, url: str) -> None:
    client = connect_yonbip({**yonbip_settings, "page_size": 3})
    for n in range(7):
        client.post_voucher(draft(f"EC-2026-{n:06d}"), idempotency_key=f"EC-2026-{n:06d}")
    client.post_voucher(draft("EC-LATER", day=date(2026, 10, 1)), idempotency_key="EC-LATER")
    requests.post(f"{url}/_emulator/book", json={"posting_date": DAY.isoformat(), "lines": [
        {"account": "1002", "debit": "5.00"}, {"account": "2241", "credit": "5.00"}]}, timeout=5)
    requests.post(f"{url}/_emulator/book/{emulator.book.all()[0].voucher_no}/pay",
                  json={"paid_on": "2026-09-20"}, timeout=5)

    listed = client.list_vouchers(start=date(2026, 9, 1), end=date(2026, 9, 30))

    assert len(listed) == 8  # three pages of three
    assert sorted(v.reference for v in listed) == ["", *(f"EC-2026-{n:06d}" for n in range(7))]
    assert [v.paid_on for v in listed].count(date(2026, 9, 20)) == 1
    assert next(v for v in listed if not v.reference).total == Decimal("5.00")


def test_draft_fields_reach_the_vendor_and_defaults_fill_in(emulator: YonyouEmulator, yonbip_settings: dict) -> None:
    client = connect_yonbip({**yonbip_settings, "voucher_type": "02", "dimensions": {"project": "xm"}})
    emulator.yonbip_dimensions["xm"] = "project"
    usd = draft("EC-USD", "100.00", currency="USD", exchange_rate=Decimal("7.1234"), voucher_type="03",
                posting_date=None)
    client.post_voucher(usd, idempotency_key="EC-USD")
    [booked] = emulator.book.all()
    assert booked.currency == "USD" and booked.extra["voucher_type"] == "03"
    assert booked.extra["local"][2] == ("0", "712.34")  # the credit in the book's currency, to the cent
    assert booked.lines[0].dimension("project") == "P9"


def test_an_unknown_account_is_refused_naming_the_field_and_line(emulator: YonyouEmulator,
                                                                   yonbip_settings: dict) -> None:
    client = connect_yonbip(yonbip_settings)
    with pytest.raises(ConnectorError) as refused:
        client.post_voucher(draft("EC-1", account="999999"), idempotency_key="EC-1")
    assert refused.value.code == POST_FAILED and not refused.value.retryable
    [error] = refused.value.payload["errors"]
    assert (error["field"], error["line"]) == ("accsubjectCode", 1)
    assert "科目编码[999999]不存在" in error["message"]
    assert emulator.book.all() == []


def test_several_refusals_come_back_each_with_its_field(emulator: YonyouEmulator, yonbip_settings: dict) -> None:
    client = connect_yonbip(yonbip_settings)
    emulator.erp_faults.reject_accounts = ["2241"]
    with pytest.raises(ConnectorError) as refused:
        client.post_voucher(draft("EC-2", account="999999", book="NOBOOK"), idempotency_key="EC-2")
    assert [(e["field"], e["line"]) for e in refused.value.payload["errors"]] == [
        ("accbookCode", None), ("accsubjectCode", 1), ("accsubjectCode", 3)]


def test_bad_credentials_are_refused_without_the_secret(emulator: YonyouEmulator, yonbip_settings: dict) -> None:
    for wrong in ({"app_secret": "not-the-secret-at-all"}, {"app_key": "nobody"}, {"tenant_id": "nowhere"}):
        with pytest.raises(ConnectorError) as refused:
            connect_yonbip({**yonbip_settings, **wrong}).post_voucher(draft("EC-3"), idempotency_key="EC-3")
        assert refused.value.code == POST_FAILED and not refused.value.retryable
        assert "check the credentials" in str(refused.value)
        assert "not-the-secret-at-all" not in str(refused.value) and APP_SECRET not in str(refused.value)
    assert emulator.book.all() == []


def test_an_expired_token_is_renewed_once_transparently(emulator: YonyouEmulator, yonbip_settings: dict) -> None:
    client = connect_yonbip(yonbip_settings)  # the client's clock is the wall clock: it thinks the token good
    client.post_voucher(draft("EC-4"), idempotency_key="EC-4")
    emulator.clock.advance(7201)  # addVoucher answers 310036
    client.post_voucher(draft("EC-5"), idempotency_key="EC-5")
    emulator.clock.advance(7201)  # the EFI query answers the text 非法token
    assert client.find_voucher(idempotency_key="EC-4") is not None
    assert emulator.tokens_issued["yonbip"] == 3 and len(emulator.book.all()) == 2


def test_a_token_near_its_expiry_is_renewed_before_use(emulator: YonyouEmulator, yonbip_settings: dict) -> None:
    client = connect_yonbip(yonbip_settings, clock=emulator.clock.now)
    client.post_voucher(draft("EC-6"), idempotency_key="EC-6")
    emulator.clock.advance(7000)
    client.find_voucher(idempotency_key="EC-6")
    assert emulator.tokens_issued["yonbip"] == 2


def test_a_fresh_token_refused_again_is_a_credentials_failure(emulator: YonyouEmulator, yonbip_settings: dict,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emulator, "token_good", lambda api, token: False)  # the tenant refuses every token
    with pytest.raises(ConnectorError) as refused:
        connect_yonbip(yonbip_settings).post_voucher(draft("EC-7"), idempotency_key="EC-7")
    assert refused.value.code == POST_FAILED and not refused.value.retryable
    assert emulator.tokens_issued["yonbip"] == 2  # one retry with a fresh token, no more


def test_a_token_serving_one_call_is_renewed_per_call(emulator: YonyouEmulator, yonbip_settings: dict) -> None:
    emulator.faults.expire_tokens = True
    client = connect_yonbip(yonbip_settings)
    client.post_voucher(draft("EC-7"), idempotency_key="EC-7", resolve_first=True)
    assert len(emulator.book.all()) == 1 and emulator.tokens_issued["yonbip"] == 2


def test_server_errors_and_downtime_are_retryable_and_not_ambiguous(emulator: YonyouEmulator,
                                                                     yonbip_settings: dict) -> None:
    client = connect_yonbip(yonbip_settings)
    client.find_voucher(idempotency_key="warm-up")  # a token and the gateway address first
    for fault in ({"error_5xx_ratio": 1}, {"down_for": 60}):
        emulator.erp_faults.update({"error_5xx_ratio": 0, "down_for": 0, **fault}, emulator.clock.now())
        with pytest.raises(ConnectorError) as failed:
            client.post_voucher(draft("EC-8"), idempotency_key="EC-8")
        assert failed.value.code == UNAVAILABLE and failed.value.retryable
        assert failed.value.payload["ambiguous"] is False
    assert emulator.book.all() == []


def test_an_erp_that_does_not_answer_at_all_is_retryable_and_not_ambiguous(yonbip_settings: dict) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens once the socket closes
    with pytest.raises(ConnectorError) as failed:
        connect_yonbip({**yonbip_settings, "auth_url": f"http://127.0.0.1:{port}"}).post_voucher(
            draft("EC-9"), idempotency_key="EC-9")
    assert failed.value.code == UNAVAILABLE and failed.value.payload["ambiguous"] is False


def test_throttling_is_retryable_and_not_ambiguous(emulator: YonyouEmulator, yonbip_settings: dict) -> None:
    client = connect_yonbip(yonbip_settings)
    client.find_voucher(idempotency_key="warm-up")
    emulator.faults.throttle_every = 1
    with pytest.raises(ConnectorError) as failed:
        client.post_voucher(draft("EC-10"), idempotency_key="EC-10")
    assert failed.value.code == UNAVAILABLE and failed.value.payload["ambiguous"] is False
    assert "310039" in str(failed.value)


@pytest.mark.parametrize(("code", "ambiguous"), [("310504", True), ("310032", False), ("310046", False)])
def test_gateway_timeouts_are_ambiguous_and_rate_limits_are_not(emulator: YonyouEmulator, yonbip_settings: dict,
                                                                code: str, ambiguous: bool) -> None:
    client = connect_yonbip(yonbip_settings)
    client.find_voucher(idempotency_key="warm-up")
    emulator.queued_codes.append(code)
    with pytest.raises(ConnectorError) as failed:
        client.post_voucher(draft("EC-13"), idempotency_key="EC-13")
    assert failed.value.code == UNAVAILABLE and failed.value.retryable
    assert failed.value.payload["ambiguous"] is ambiguous and code in str(failed.value)
    emulator.queued_codes.append(code)
    with pytest.raises(ConnectorError) as failed:  # a query cannot have saved anything
        client.find_voucher(idempotency_key="EC-13")
    assert failed.value.payload["ambiguous"] is False


def test_an_unknown_api_path_is_not_retried(emulator: YonyouEmulator, yonbip_settings: dict) -> None:
    emulator.gateway_path = "/elsewhere"  # the data centre names a gateway that serves no voucher API
    with pytest.raises(ConnectorError) as failed:
        connect_yonbip(yonbip_settings).post_voucher(draft("EC-14"), idempotency_key="EC-14")
    assert failed.value.code == POST_FAILED and not failed.value.retryable and "HTTP 404" in str(failed.value)


def test_commit_then_timeout_is_ambiguous_and_the_retry_finds_the_voucher(emulator: YonyouEmulator,
                                                                         yonbip_settings: dict) -> None:
    client = connect_yonbip(yonbip_settings)
    emulator.erp_faults.commit_then_timeout_ratio = 1
    with pytest.raises(ConnectorError) as failed:
        client.post_voucher(draft("EC-11"), idempotency_key="EC-11")
    assert failed.value.code == UNAVAILABLE and failed.value.payload["ambiguous"] is True
    emulator.erp_faults.commit_then_timeout_ratio = 0

    again = client.post_voucher(draft("EC-11"), idempotency_key="EC-11", resolve_first=True)

    [booked] = emulator.book.all()
    assert again.replayed and again.voucher_no == booked.voucher_no


def test_a_repeat_without_the_look_up_is_deduped_by_business_id_and_answered_as_replayed(
        emulator: YonyouEmulator, yonbip_settings: dict) -> None:
    client = connect_yonbip(yonbip_settings)
    first = client.post_voucher(draft("EC-12"), idempotency_key="EC-12")
    second = client.post_voucher(draft("EC-12"), idempotency_key="EC-12")
    assert second.replayed and second.voucher_no == first.voucher_no
    assert len(emulator.book.all()) == 1


@pytest.mark.parametrize(("changes", "named"), [
    ({"tenant_id": None}, "tenant_id"), ({"app_secret": ""}, "app_secret"), ({"book": 5}, "book"),
    ({"timeout_seconds": "30"}, "timeout_seconds"), ({"page_size": 0}, "page_size"),
    ({"dimensions": {"region": "r"}}, "dimensions.region"),
    ({"dimensions": {"project": "dept"}}, "two names"),
])
def test_wrong_settings_name_the_key(yonbip_settings: dict, changes: dict, named: str) -> None:
    settings = {k: v for k, v in {**yonbip_settings, **changes}.items() if v is not None}
    with pytest.raises(ErpSettingsInvalid, match=named):
        connect_yonbip(settings)
