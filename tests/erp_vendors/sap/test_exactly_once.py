"""Exactly once over SAP, which has no idempotency: 200 claims through a retry loop while 30% of the posts
commit and then lose their answer. Resolving the key first after an ambiguous failure keeps one entry per key;
the same loop without the look-up (the negative control) posts duplicates, so the look-up is what counts."""

from __future__ import annotations

from collections import Counter

import requests

from connectors.base import ConnectorError
from connectors.erp import ErpClient, PostedVoucher
from tests.erp_vendors.sap.conftest import draft

KEYS = [f"EC-2026-{n:06d}" for n in range(1, 201)]


def post_until_done(client: ErpClient, key: str, *, look_up_after_ambiguity: bool) -> PostedVoucher:
    resolve_first = False
    for _ in range(30):
        try:
            return client.post_voucher(draft(key), idempotency_key=key, resolve_first=resolve_first)
        except ConnectorError as error:
            assert error.retryable, error
            # Once an attempt may have posted, every later attempt must look first.
            resolve_first = resolve_first or (look_up_after_ambiguity and error.payload["ambiguous"])
    raise AssertionError(f"{key}: still failing after 30 attempts")


def entries_per_key(client: ErpClient, running, *, look_up: bool) -> tuple[Counter[str], list[PostedVoucher]]:
    requests.post(f"{running.url}/_emulator/erp-faults", json={"commit_then_timeout_ratio": 0.3},
                  timeout=5).raise_for_status()
    posted = [post_until_done(client, key, look_up_after_ambiguity=look_up) for key in KEYS]
    return Counter(v.reference for v in running.app.book.all()), posted


def test_resolving_first_after_an_ambiguous_failure_posts_each_key_once(client, running):
    per_key, posted = entries_per_key(client, running, look_up=True)

    assert per_key == Counter(dict.fromkeys(KEYS, 1))
    replayed = [p for p in posted if p.replayed]
    assert 30 <= len(replayed) <= 90  # the fault fired (about 60 times), and each of those was found again
    assert {p.voucher_no for p in posted} == {v.voucher_no for v in running.app.book.all()}


def test_negative_control_the_same_loop_without_the_look_up_posts_duplicates(client, running):
    per_key, _ = entries_per_key(client, running, look_up=False)

    duplicated = [key for key, count in per_key.items() if count > 1]
    assert set(per_key) == set(KEYS)
    assert len(duplicated) >= 30, "SAP (and its emulator) has no idempotency: retries without a look-up duplicate"
