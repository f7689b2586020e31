"""SAP's refusals, bad credentials, session expiry, outages and the ambiguous outcome, over loopback HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from werkzeug.wrappers import Response

from connectors.base import ConnectorError
from connectors.emulators.base import Running
from connectors.emulators.sap import PASSWORD, SESSION_TTL, SapEmulator
from connectors.erp import POST_FAILED, UNAVAILABLE, VoucherLine
from tests.erp_vendors.sap.conftest import DAY, draft


def faults(running: Running, **switches: object) -> None:
    requests.post(f"{running.url}/_emulator/erp-faults", json=switches, timeout=5).raise_for_status()


def failure(call) -> ConnectorError:
    with pytest.raises(ConnectorError) as caught:
        call()
    return caught.value


def test_an_unknown_account_names_sap_field_line_and_message(client, emulator: SapEmulator):
    error = failure(lambda: client.post_voucher(draft(account="6602999999"), idempotency_key="EC-2026-000001"))

    assert error.code == POST_FAILED and not error.retryable
    assert error.payload["errors"] == [{"field": "GLAccount", "line": 1,
                                        "message": "GL account 6602999999 does not exist in company code 1010"}]
    assert "6602999999" in str(error)
    assert emulator.book.all() == []


def test_an_account_the_chart_refuses_through_the_fault_switch(client, running, emulator: SapEmulator):
    faults(running, reject_accounts=["2241000000"])
    error = failure(lambda: client.post_voucher(draft(), idempotency_key="EC-2026-000001"))
    assert error.payload["errors"][0]["field"] == "GLAccount" and error.payload["errors"][0]["line"] == 2
    assert emulator.book.all() == []


def test_several_refusals_come_back_together(running, make_client):
    emulator: SapEmulator = running.app
    emulator.cost_centers = {"10101199"}
    line = VoucherLine("6602010000", Decimal("5.00"), Decimal(0), "x", (("cost_center", "10101101"),))
    voucher = draft(lines=(line, VoucherLine("2241000000", Decimal(0), Decimal("4.00"), "y")), voucher_type="ZZ")

    error = failure(lambda: make_client().post_voucher(voucher, idempotency_key="EC-2026-000001"))

    assert [(e["field"], e["line"]) for e in error.payload["errors"]] == [
        ("AccountingDocumentType", None), ("CostCenter", 1), ("AmountInTransactionCurrency", None)]
    assert "(and 2 more)" in str(error)


def test_a_message_sap_cannot_read_is_a_soap_fault(client, emulator: SapEmulator):
    error = failure(lambda: client.post_voucher(draft(account=""), idempotency_key="EC-2026-000001"))
    assert error.code == POST_FAILED and not error.retryable
    assert "SOAP Fault" in str(error) and "GLAccount" in str(error)
    assert emulator.book.all() == []


def test_bad_credentials_fail_without_echoing_the_password(make_client, emulator: SapEmulator):
    wrong = "Not-The-Password-42"
    client = make_client(password=wrong)
    for call in (lambda: client.post_voucher(draft(), idempotency_key="EC-2026-000001"),
                 lambda: client.find_voucher(idempotency_key="EC-2026-000001")):
        error = failure(call)
        assert error.code == POST_FAILED and not error.retryable
        assert "check the user and password" in str(error)
        assert wrong not in str(error) and wrong not in repr(error.payload) and PASSWORD not in str(error)
    assert wrong not in repr(client)
    assert emulator.book.all() == []


def test_an_expired_session_logs_on_again_transparently(client, emulator: SapEmulator):
    client.post_voucher(draft("EC-2026-000001"), idempotency_key="EC-2026-000001")
    client.find_voucher(idempotency_key="EC-2026-000001")
    assert emulator.logons == 1  # the session cookie carried the second call

    emulator.clock.advance(SESSION_TTL + 1)
    client.post_voucher(draft("EC-2026-000002"), idempotency_key="EC-2026-000002")

    assert emulator.logons == 2 and len(emulator.book.all()) == 2


def test_a_refused_stale_session_logs_on_again_once(client, make_client, emulator: SapEmulator):
    emulator.refuse_stale_sessions = True
    client.post_voucher(draft("EC-2026-000001"), idempotency_key="EC-2026-000001")
    emulator.clock.advance(SESSION_TTL + 1)

    client.post_voucher(draft("EC-2026-000002"), idempotency_key="EC-2026-000002")
    emulator.clock.advance(SESSION_TTL + 1)
    assert client.find_voucher(idempotency_key="EC-2026-000002") is not None

    assert emulator.logons == 3 and len(emulator.book.all()) == 2
    emulator.clock.advance(SESSION_TTL + 1)
    emulator.credentials = (emulator.credentials[0], "changed-in-sap")
    error = failure(lambda: client.post_voucher(draft("EC-2026-000003"), idempotency_key="EC-2026-000003"))
    assert error.code == POST_FAILED and "check the user and password" in str(error)


@pytest.mark.parametrize("switch", [{"error_5xx_ratio": 1.0}, {"down_for": 60}])
def test_a_server_error_or_outage_is_retryable_and_not_ambiguous(client, running, emulator, switch):
    faults(running, **switch)
    error = failure(lambda: client.post_voucher(draft(), idempotency_key="EC-2026-000001"))
    assert (error.code, error.retryable, error.payload["ambiguous"]) == (UNAVAILABLE, True, False)
    assert "HTTP 500" in str(error)
    assert emulator.book.all() == []


def test_the_read_back_during_an_outage_is_retryable(client, running):
    faults(running, down_for=60)
    error = failure(lambda: client.list_vouchers(start=DAY, end=DAY))
    assert (error.code, error.retryable, error.payload["ambiguous"]) == (UNAVAILABLE, True, False)


def test_a_refused_connection_is_not_ambiguous(make_client, settings):
    with Running(SapEmulator()) as gone:
        url = gone.url
    client = make_client(base_url=url)
    error = failure(lambda: client.post_voucher(draft(), idempotency_key="EC-2026-000001"))
    assert (error.code, error.retryable, error.payload["ambiguous"]) == (UNAVAILABLE, True, False)


def test_commit_then_timeout_is_ambiguous_and_the_retry_finds_the_entry(client, running, emulator: SapEmulator):
    faults(running, commit_then_timeout_ratio=1.0)
    error = failure(lambda: client.post_voucher(draft(), idempotency_key="EC-2026-000001"))
    assert (error.code, error.retryable, error.payload["ambiguous"]) == (UNAVAILABLE, True, True)
    [booked] = emulator.book.all()

    faults(running, commit_then_timeout_ratio=0.0)
    again = client.post_voucher(draft(), idempotency_key="EC-2026-000001", resolve_first=True)

    assert (again.voucher_no, again.replayed, again.document_no) == (booked.voucher_no, True, "EC-2026-000001")
    assert len(emulator.book.all()) == 1


def test_a_read_timeout_is_ambiguous(make_client, running, emulator: SapEmulator):
    faults(running, timeout_before_commit_ratio=1.0, hang_seconds=1.5)
    error = failure(lambda: make_client(timeout_seconds=0.5).post_voucher(draft(), idempotency_key="EC-2026-000001"))
    assert (error.code, error.retryable, error.payload["ambiguous"]) == (UNAVAILABLE, True, True)

    faults(running, timeout_before_commit_ratio=0.0, hang_seconds=0)
    posted = make_client().post_voucher(draft(), idempotency_key="EC-2026-000001", resolve_first=True)
    assert not posted.replayed and len(emulator.book.all()) == 1  # nothing was committed: posted now, once


class GarblingSap(SapEmulator):
    """Commits, then answers HTTP 200 with a page that is not SAP's confirmation (a proxy's error page)."""

    def after_commit(self, request, answer):
        return Response("<html>gateway says hello</html>", status=200, content_type="text/html")


def test_an_unreadable_confirmation_is_ambiguous_and_the_retry_finds_the_entry(make_client):
    with Running(GarblingSap()) as garbling:
        client = make_client(base_url=garbling.url)
        error = failure(lambda: client.post_voucher(draft(), idempotency_key="EC-2026-000001"))
        assert (error.code, error.retryable, error.payload["ambiguous"]) == (UNAVAILABLE, True, True)

        again = client.post_voucher(draft(), idempotency_key="EC-2026-000001", resolve_first=True)
        assert again.replayed and len(garbling.app.book.all()) == 1
