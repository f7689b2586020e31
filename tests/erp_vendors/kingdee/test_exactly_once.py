"""200 claims posted through an ERP that commits and then drops 30% of its answers: one voucher per key, only
because the retry looks the key up first (the negative control retries blind and books duplicates)."""

from __future__ import annotations

from collections import Counter

import pytest

from connectors.base import ConnectorError
from connectors.erp import UNAVAILABLE
from connectors.kingdee import KingdeeClient
from tests.erp_vendors.kingdee.conftest import set_faults
from tests.erp_vendors.kingdee.support import travel_claim

KEYS = [f"EC-2026-{n:06d}" for n in range(1, 201)]


def post_with_retries(client: KingdeeClient, key: str, *, look_up_on_retry: bool) -> str:
    """What the outbox does: retry a retryable failure; after an ambiguous one, with the look-up if allowed."""
    resolve_first = False
    for _ in range(40):
        try:
            return client.post_voucher(travel_claim(key), idempotency_key=key, resolve_first=resolve_first).voucher_no
        except ConnectorError as failed:
            assert failed.code == UNAVAILABLE and failed.retryable, failed
            resolve_first = resolve_first or (look_up_on_retry and bool(failed.payload.get("ambiguous")))
    raise AssertionError(f"{key} never posted")


@pytest.mark.parametrize("look_up_on_retry", [True, False], ids=["look-up", "negative-control"])
def test_every_key_is_booked_once_only_when_retries_look_it_up(client, emulator, running, look_up_on_retry):
    set_faults(running, commit_then_timeout_ratio=0.3)

    numbers = {key: post_with_retries(client, key, look_up_on_retry=look_up_on_retry) for key in KEYS}

    per_key = Counter(v.reference for v in emulator.book.all())
    assert set(per_key) == set(KEYS)
    if look_up_on_retry:
        assert max(per_key.values()) == 1
        assert all(v.status == "audited" and numbers[v.reference] == v.voucher_no for v in emulator.book.all())
    else:
        assert sum(n - 1 for n in per_key.values()) > 20  # a blind retry books the voucher again
