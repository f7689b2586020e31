"""The Kingdee connector against the emulator over loopback: post, read back, refusals, outages, re-login."""

from __future__ import annotations

import socket
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import requests

from connectors.base import ConnectorError
from connectors.emulators.kingdee import APP_SECRET, SESSION_IDLE
from connectors.erp import POST_FAILED, UNAVAILABLE, VoucherLine
from connectors.erp_registry import ErpSettingsInvalid, factory
from connectors.kingdee import KingdeeClient
from tests.erp_vendors.kingdee.conftest import CountingSession, set_faults
from tests.erp_vendors.kingdee.support import DAY, travel_claim

SEPTEMBER = {"start": date(2026, 9, 1), "end": date(2026, 9, 30)}


def test_a_balanced_voucher_is_saved_submitted_audited_and_read_back(client, emulator):
    posted = client.post_voucher(travel_claim("EC-2026-000123"), idempotency_key="EC-2026-000123")

    [held] = emulator.book.all()
    assert (posted.voucher_no, posted.replayed) == (held.voucher_no, False)
    assert held.reference == "EC-2026-000123" and held.status == "audited" and held.posting_date == DAY
    assert [(x.account, x.debit, x.credit) for x in held.lines] == [
        ("6602.02", Decimal("1208.02"), 0), ("2221.01.01", Decimal("72.48"), 0), ("2241", 0, Decimal("1280.50"))]
    assert held.lines[0].dimensions == (("cost_center", "CC10"), ("department", "D01"))
    assert held.lines[2].dimensions == (("employee", "E0042"),)
    assert held.lines[2].memo == "报销 EC-2026-000123 张伟 差旅费"  # no memo of its own: the summary
    assert held.extra["attachments"] == 3 and held.extra["book"] == "001" and held.extra["group"] == "PRE001"
    assert client.find_voucher(idempotency_key="EC-2026-000123").voucher_no == posted.voucher_no
    assert client.find_voucher(idempotency_key="EC-2026-00012") is None  # a prefix is not the key
    [listed] = client.list_vouchers(**SEPTEMBER)
    assert (listed.voucher_no, listed.reference, listed.currency, listed.status) == (
        posted.voucher_no, "EC-2026-000123", "CNY", "audited")
    assert listed.lines == held.lines


def test_list_pages_through_every_voucher_of_the_book_including_hand_entered_ones(make_client, emulator, running):
    session = CountingSession()
    client = make_client(session=session, page_size=4)  # three lines a voucher: vouchers straddle pages
    for n in range(5):
        client.post_voucher(travel_claim(f"EC-2026-00010{n}"), idempotency_key=f"EC-2026-00010{n}")
    client.post_voucher(travel_claim("EC-2026-000200", when=date(2026, 10, 1)), idempotency_key="EC-2026-000200")
    by_hand = requests.post(f"{running.url}/_emulator/book", timeout=5, json={
        "posting_date": "2026-09-30", "lines": [{"account": "6602.01", "debit": "50.00", "memo": "手工凭证"},
                                                {"account": "1002", "credit": "50.00"}]}).json()
    requests.post(f"{running.url}/_emulator/book/{by_hand['voucher_no']}/pay", json={"paid_on": "2026-10-08"},
                  timeout=5)
    session.ops.clear()

    listed = client.list_vouchers(**SEPTEMBER)

    assert session.ops == ["ExecuteBillQuery"] * 5  # 17 rows, 4 a page
    assert [v.reference for v in listed] == [f"EC-2026-00010{n}" for n in range(5)] + [""]
    assert all(len(v.lines) == 3 for v in listed[:5]) and listed[5].lines[0].memo == "手工凭证"
    assert listed[5].paid_on == date(2026, 10, 8) and listed[0].paid_on is None


def test_an_unknown_account_is_refused_naming_the_field_the_line_and_kingdees_message(client, emulator):
    with pytest.raises(ConnectorError) as refused:
        client.post_voucher(travel_claim("EC-2026-000124", account="6602.99"), idempotency_key="EC-2026-000124")

    assert refused.value.code == POST_FAILED and not refused.value.retryable
    [error] = refused.value.payload["errors"]
    assert error["field"] == "FACCOUNTID" and error["line"] == 1 and "6602.99" in error["message"]
    assert emulator.book.all() == []


@pytest.mark.parametrize("op", ["Submit", "Audit"])
def test_a_refusal_after_the_save_deletes_the_voucher_so_nothing_half_posted_stays(client, emulator, op):
    emulator.refuse[op] = "凭证的审核人不能与制单人为同一人"
    with pytest.raises(ConnectorError) as refused:
        client.post_voucher(travel_claim("EC-2026-000125"), idempotency_key="EC-2026-000125")
    assert refused.value.code == POST_FAILED and "审核人不能与制单人" in str(refused.value)
    assert emulator.book.all() == []


@pytest.mark.parametrize("auth", ["signed", "session"])
def test_bad_credentials_fail_without_retry_and_without_the_secret(make_client, emulator, auth):
    wrong = "0123456789abcdef0123456789abcdef"
    with pytest.raises(ConnectorError) as refused:
        make_client(auth=auth, app_secret=wrong).post_voucher(travel_claim("EC-1"), idempotency_key="EC-1")
    assert refused.value.code == POST_FAILED and not refused.value.retryable
    assert "check" in str(refused.value) and "app_secret" in str(refused.value)
    assert wrong not in repr(refused.value.__dict__) + str(refused.value) and APP_SECRET not in str(refused.value)
    assert emulator.book.all() == []


def test_a_lost_session_logs_in_again_once_transparently(make_client, emulator):
    client = make_client(auth="session")
    client.post_voucher(travel_claim("EC-2"), idempotency_key="EC-2")
    emulator.clock.advance(SESSION_IDLE + 60)

    client.post_voucher(travel_claim("EC-3"), idempotency_key="EC-3")

    assert client.transport.logins == 2 and emulator.logins == 2 and len(emulator.book.all()) == 2


def test_a_clock_13_minutes_behind_is_refused_by_the_gateway_with_a_hint(client, emulator):
    emulator.clock.advance(13 * 60)
    with pytest.raises(ConnectorError) as refused:
        client.post_voucher(travel_claim("EC-4"), idempotency_key="EC-4")
    assert refused.value.code == POST_FAILED and "clock" in str(refused.value)


@pytest.mark.parametrize("fault", [{"error_5xx_ratio": 1}, {"down_for": 60}, {"throttle_every": 1}])
def test_server_errors_outages_and_throttling_are_retryable_and_not_ambiguous(client, running, emulator, fault):
    if "throttle_every" in fault:
        requests.post(f"{running.url}/_emulator/faults", json=fault, timeout=5).raise_for_status()
    else:
        set_faults(running, **fault)
    with pytest.raises(ConnectorError) as failed:
        client.post_voucher(travel_claim("EC-5"), idempotency_key="EC-5")
    assert failed.value.code == UNAVAILABLE and failed.value.retryable and not failed.value.payload["ambiguous"]
    assert emulator.book.all() == []


def test_nothing_listening_is_retryable_and_not_ambiguous(make_client):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectorError) as failed:
        make_client(base_url=f"http://127.0.0.1:{port}").post_voucher(travel_claim("EC-6"), idempotency_key="EC-6")
    assert failed.value.code == UNAVAILABLE and not failed.value.payload["ambiguous"]


def test_commit_then_timeout_is_ambiguous_and_the_look_up_finishes_the_same_voucher(client, running, emulator):
    set_faults(running, commit_then_timeout_ratio=1)
    with pytest.raises(ConnectorError) as failed:
        client.post_voucher(travel_claim("EC-7"), idempotency_key="EC-7")
    assert failed.value.code == UNAVAILABLE and failed.value.payload["ambiguous"]
    [saved] = emulator.book.all()
    assert saved.status == "saved"  # the Save committed; its answer never arrived
    set_faults(running, commit_then_timeout_ratio=0)

    again = client.post_voucher(travel_claim("EC-7"), idempotency_key="EC-7", resolve_first=True)

    assert (again.voucher_no, again.replayed) == (saved.voucher_no, True)
    [held] = emulator.book.all()
    assert held.status == "audited"


def test_a_foreign_currency_voucher_balances_in_the_book_currency_after_rounding(client, emulator):
    lines = (VoucherLine("6602.02", Decimal("10.01"), Decimal(0), "a"),
             VoucherLine("6602.03", Decimal("10.01"), Decimal(0), "b"),
             VoucherLine("2241", Decimal(0), Decimal("20.02"), "c"))
    draft = travel_claim("EC-8", currency="USD", rate="7.1235")
    client.post_voucher(type(draft)(**{**draft.__dict__, "lines": lines}), idempotency_key="EC-8")
    [listed] = client.list_vouchers(**SEPTEMBER)
    assert listed.currency == "USD" and [x.debit or x.credit for x in listed.lines] == [
        Decimal("10.01"), Decimal("10.01"), Decimal("20.02")]


def test_settings_are_checked_when_connecting(settings):
    assert isinstance(factory("kingdee")(settings), KingdeeClient)
    for key in ("base_url", "acct_id", "user_name", "app_id", "app_secret", "book"):
        with pytest.raises(ErpSettingsInvalid, match=key):
            factory("kingdee")({k: v for k, v in settings.items() if k != key})
    for wrong, key in (({"auth": "password"}, "auth"), ({"app_id": "300001"}, "app_id"),
                       ({"dimensions": {"department": "FFLEX99"}}, "dimensions.department"),
                       ({"dimensions": {"team": "FFLEX6"}}, "dimensions.team"),
                       ({"page_size": 5000}, "page_size"), ({"currencies": {"USD": 7}}, "currencies")):
        with pytest.raises(ErpSettingsInvalid, match=key):
            factory("kingdee")({**settings, **wrong})
    assert APP_SECRET not in repr(factory("kingdee")(settings))


def test_a_refused_voucher_kingdee_will_not_delete_is_named_for_finance(client, emulator):
    emulator.refuse.update(Audit="凭证的审核人不能与制单人为同一人", Delete="凭证已被引用，不能删除")
    with pytest.raises(ConnectorError) as refused:
        client.post_voucher(travel_claim("EC-9"), idempotency_key="EC-9")
    [left] = emulator.book.all()
    assert refused.value.code == POST_FAILED and not refused.value.retryable
    assert left.voucher_no in str(refused.value) and "by hand" in str(refused.value)
    assert left.status == "saved"  # taken back from submitted before the delete was refused


def test_the_look_up_replays_an_audited_voucher_and_only_the_look_up_prevents_a_second(client, emulator):
    first = client.post_voucher(travel_claim("EC-10"), idempotency_key="EC-10")
    again = client.post_voucher(travel_claim("EC-10"), idempotency_key="EC-10", resolve_first=True)
    assert (again.voucher_no, again.replayed) == (first.voucher_no, True) and len(emulator.book.all()) == 1
    client.post_voucher(travel_claim("EC-10"), idempotency_key="EC-10")  # no look-up: Kingdee saves it again
    assert len(emulator.book.all()) == 2


def test_keys_with_pattern_characters_are_looked_up_literally(client):
    client.post_voucher(travel_claim("EC_1%[x]'"), idempotency_key="EC_1%[x]'")
    client.post_voucher(travel_claim("ECA1%[x]'"), idempotency_key="ECA1%[x]'")
    assert client.find_voucher(idempotency_key="EC_1%[x]'").voucher_no == "GLV00000001"
    assert client.find_voucher(idempotency_key="EC_1%") is None


def test_amounts_travel_as_json_numbers_with_two_decimals(make_client):
    class Recording(requests.Session):
        bodies: list[bytes] = []

        def request(self, *args, **kwargs):
            self.bodies.append(kwargs.get("data") or b"")
            return super().request(*args, **kwargs)

    session = Recording()
    make_client(session=session).post_voucher(travel_claim("EC-11"), idempotency_key="EC-11")
    save = session.bodies[0].decode()
    assert '"FDEBIT": 1208.02, "FCREDIT": 0.00' in save and '"FDEBIT": 0.00, "FCREDIT": 1280.50' in save
    assert '"FAMOUNTFOR": 72.48' in save and '"FEXCHANGERATE": 1,' in save


def test_a_voucher_without_a_date_is_dated_today_in_utc_and_other_book_and_group_are_kept(client, emulator):
    draft = travel_claim("EC-12")
    client.post_voucher(type(draft)(**{**draft.__dict__, "posting_date": None, "voucher_type": "PRE004"}),
                        idempotency_key="EC-12")
    [held] = emulator.book.all()
    assert held.posting_date == datetime.now(UTC).date() and held.extra["group"] == "PRE004"
