"""Posting, look-up and read-back against the SAP emulator over loopback HTTP."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
import requests
from werkzeug.datastructures import ImmutableMultiDict

from connectors.base import ConnectorError
from connectors.emulators.base import Running
from connectors.emulators.sap import SapEmulator
from connectors.erp import POST_FAILED, VoucherLine
from connectors.erp_registry import ErpSettingsInvalid, factory
from tests.erp_vendors.sap.conftest import DAY, draft


def test_a_balanced_voucher_posts_and_reads_back(client, emulator: SapEmulator):
    posted = client.post_voucher(draft(), idempotency_key="EC-2026-000001")

    assert posted.voucher_no == "1000000001" and not posted.replayed
    [booked] = emulator.book.all()
    assert (booked.voucher_no, booked.reference, booked.posting_date, booked.currency) == (
        "1000000001", "EC-2026-000001", DAY, "CNY")
    assert [(x.account, x.debit, x.credit, x.dimensions) for x in booked.lines] == [
        ("6602010000", Decimal("1200.00"), 0, (("cost_center", "10101101"), ("employee", "E001"))),
        ("2241000000", 0, Decimal("1200.00"), (("employee", "E001"),))]
    assert booked.extra["header_text"] == "报销 EC-2026-000001 张伟 差旅费"[:25]
    assert booked.extra["document_type"] == "SA"
    assert client.find_voucher(idempotency_key="EC-2026-000001").voucher_no == "1000000001"
    assert client.find_voucher(idempotency_key="EC-2026-000999") is None
    [listed] = client.list_vouchers(start=DAY, end=DAY)
    assert (listed.voucher_no, listed.reference, listed.lines, listed.status, listed.paid_on) == (
        "1000000001", "EC-2026-000001", booked.lines, "posted", None)


def test_company_code_document_type_and_texts_follow_the_draft(client, emulator: SapEmulator):
    emulator.company_codes.append("1710")
    long_memo = "m" * 80
    voucher = draft(book="1710", voucher_type="AB", summary="s" * 40)
    voucher = replace(voucher, lines=(replace(voucher.lines[0], memo=long_memo), voucher.lines[1]))
    client.post_voucher(voucher, idempotency_key="EC-2026-000002")

    [booked] = emulator.book.all()
    assert booked.extra["company_code"] == "1710" and booked.extra["document_type"] == "AB"
    assert booked.extra["header_text"] == "s" * 25 and booked.lines[0].memo == "m" * 50


def test_list_vouchers_pages_through_both_sap_paging_styles(make_client, emulator: SapEmulator):
    """25 entries of 2 items: the client's $top windows of 20 rows, each cut by the service's 7-row pages."""
    emulator.max_page = 7
    client = make_client(page_size=20)
    for n in range(25):
        client.post_voucher(draft(f"EC-2026-{n:06d}", f"{n + 1}.10"), idempotency_key=f"EC-2026-{n:06d}")
    client.post_voucher(draft("EC-2026-999999", day=date(2026, 10, 1)), idempotency_key="EC-2026-999999")

    listed = client.list_vouchers(start=date(2026, 9, 1), end=date(2026, 9, 30))

    assert [v.reference for v in listed] == [f"EC-2026-{n:06d}" for n in range(25)]
    assert [v.total for v in listed] == [Decimal(f"{n + 1}.10") for n in range(25)]


def test_hand_entered_and_paid_vouchers_read_back(client, running, emulator: SapEmulator):
    posted = client.post_voucher(draft(), idempotency_key="EC-2026-000001")
    requests.post(f"{running.url}/_emulator/book/{posted.voucher_no}/pay", json={"paid_on": "2026-09-20"},
                  timeout=5).raise_for_status()
    requests.post(f"{running.url}/_emulator/book", timeout=5, json={
        "posting_date": "2026-09-12", "currency": "CNY", "lines": [
            {"account": "6602020000", "debit": "50.00", "dimensions": {"cost_center": "10101102"}},
            {"account": "1002000000", "credit": "50.00"}]}).raise_for_status()

    paid, by_hand = client.list_vouchers(start=date(2026, 9, 1), end=date(2026, 9, 30))

    assert paid.paid_on == date(2026, 9, 20) and paid.extra["clearing_entries"] == ["1500000001"]
    assert by_hand.reference == "" and by_hand.paid_on is None
    assert by_hand.lines[0].dimensions == (("cost_center", "10101102"),)


def test_dimensions_map_through_the_settings_table(make_client, emulator: SapEmulator):
    emulator.dimension_fields = {"cost_center": "CostCenter", "project": "OrderID", "department": "Segment"}
    client = make_client(dimensions={"project": "OrderID", "department": "Segment", "employee": ""})
    line = VoucherLine("6602030000", Decimal("10.00"), Decimal(0), "x",
                       (("cost_center", "C1"), ("department", "D1"), ("project", "P1")))
    voucher = draft(lines=(line, VoucherLine("2241000000", Decimal(0), Decimal("10.00"), "y")))
    client.post_voucher(voucher, idempotency_key="EC-2026-000003")

    assert emulator.book.all()[0].lines[0].dimensions == line.dimensions
    assert client.list_vouchers(start=DAY, end=DAY)[0].lines[0].dimensions == line.dimensions


def test_a_dimension_without_an_sap_field_is_refused_before_sending(make_client, emulator: SapEmulator):
    client = make_client(dimensions={"employee": ""})
    with pytest.raises(ConnectorError) as refused:
        client.post_voucher(draft(), idempotency_key="EC-2026-000004")
    assert refused.value.code == POST_FAILED
    assert refused.value.payload["errors"][0] == {"field": "employee", "line": 1, "message": refused.value.payload[
        "errors"][0]["message"]}
    assert emulator.book.all() == []


def test_a_key_longer_than_sap_reference_is_refused(client, emulator: SapEmulator):
    with pytest.raises(ConnectorError) as refused:
        client.post_voucher(draft(), idempotency_key="EC-2026-00000001X")  # 17 characters
    assert refused.value.code == POST_FAILED and not refused.value.retryable
    assert refused.value.payload["errors"][0]["field"] == "DocumentReferenceID"
    assert emulator.book.all() == []


def test_an_exchange_rate_needs_the_book_currency(make_client, emulator: SapEmulator):
    voucher = draft(currency="USD", exchange_rate=Decimal("7.1234"), amount="10.01")
    with pytest.raises(ConnectorError) as refused:
        make_client().post_voucher(voucher, idempotency_key="EC-2026-000005")
    assert "book_currency" in str(refused.value)

    make_client(book_currency="CNY").post_voucher(voucher, idempotency_key="EC-2026-000005")
    assert emulator.book.all()[0].currency == "USD"


def test_company_code_amounts_balance_after_rounding(make_client, emulator: SapEmulator):
    """Three debits of 0.01 at 1.5 round to 0.02 each (0.06); the credit of 0.03 to 0.05: SAP refuses the
    entry unless the cent goes somewhere (703(F5), checked by the emulator)."""
    cent = Decimal("0.01")
    lines = (*(VoucherLine("6602010000", cent, Decimal(0), "x") for _ in range(3)),
             VoucherLine("2241000000", Decimal(0), 3 * cent, "y"))
    voucher = draft(currency="USD", exchange_rate=Decimal("1.5"), lines=lines)

    make_client(book_currency="CNY").post_voucher(voucher, idempotency_key="EC-2026-000006")

    assert [str(x.debit or x.credit) for x in emulator.book.all()[0].lines] == ["0.01"] * 3 + ["0.03"]


def test_amounts_go_with_two_decimals(client, emulator: SapEmulator):
    client.post_voucher(draft(amount="10.5"), idempotency_key="EC-2026-000007")
    assert [str(x.debit or x.credit) for x in emulator.book.all()[0].lines] == ["10.50", "10.50"]


def test_the_registry_connects_and_settings_are_checked(settings):
    assert factory("sap")(settings).name == "sap"
    for key in ("base_url", "user", "password", "book"):
        with pytest.raises(ErpSettingsInvalid, match=key):
            factory("sap")({k: v for k, v in settings.items() if k != key})
    with pytest.raises(ErpSettingsInvalid, match="dimensions.vendor"):
        factory("sap")({**settings, "dimensions": {"vendor": "Supplier"}})
    with pytest.raises(ErpSettingsInvalid, match="page_size"):
        factory("sap")({**settings, "page_size": 0.5})
    with pytest.raises(ErpSettingsInvalid, match="timeout_seconds"):
        factory("sap")({**settings, "timeout_seconds": "30"})


class ElsewhereSap(SapEmulator):
    """Names another host in its next links (a proxy's inner name, or a hostile answer)."""

    def journal_entry_items(self, request):
        response = super().journal_entry_items(request)
        body = json.loads(response.get_data())
        if "__next" in body["d"]:
            body["d"]["__next"] = "http://elsewhere.invalid/steal?" + body["d"]["__next"].split("?", 1)[1]
        response.set_data(json.dumps(body))
        return response


def test_next_links_are_followed_on_the_configured_host_only(make_client):
    with Running(ElsewhereSap(max_page=1)) as served:
        client = make_client(base_url=served.url)
        client.post_voucher(draft(), idempotency_key="EC-2026-000001")
        [listed] = client.list_vouchers(start=DAY, end=DAY)
    assert len(listed.lines) == 2  # the second row came through the next link's query, on our own address


class NoSkipSap(SapEmulator):
    """Ignores $skip (a broken gateway): every window is the first one again."""

    def journal_entry_items(self, request):
        request.args = ImmutableMultiDict([(k, v) for k, v in request.args.items(multi=True) if k != "$skip"])
        return super().journal_entry_items(request)


def test_a_service_that_ignores_skip_fails_instead_of_looping(make_client):
    with Running(NoSkipSap()) as served:
        client = make_client(base_url=served.url, page_size=2)
        for key in ("EC-2026-000001", "EC-2026-000002"):
            client.post_voucher(draft(key), idempotency_key=key)
        with pytest.raises(ConnectorError, match="same page") as failed:
            client.list_vouchers(start=DAY, end=DAY)
    assert failed.value.retryable
