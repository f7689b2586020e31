"""Exactly once under the ambiguous outcome: 30% of posts commit and then lose their answer.

Yonyou dedupes on the key itself (YonBIP's businessId, U8's biz_id), so a retry that skips the look-up is
still single; the negative controls turn the emulator's dedupe off and show the same loop then books
duplicates, and that the book does count two vouchers when they come under two keys.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from connectors.emulators.yonyou import YonyouEmulator
from connectors.yonyou import connect_u8, connect_yonbip
from tests.erp_vendors.yonyou.support import draft, post_with_retries

CONNECT = {"yonbip": connect_yonbip, "u8": connect_u8}


def run(emulator: YonyouEmulator, settings: dict[str, Any], api: str, keys: int, *, resolve_on_retry: bool,
        ) -> tuple[Counter[str], dict[str, str]]:
    """Post ``keys`` claims through the retry loop; the book's vouchers per key and each post's voucher."""
    client = CONNECT[api](settings)
    client.find_voucher(idempotency_key="warm-up")  # the token first: the fault is for posts
    emulator.erp_faults.commit_then_timeout_ratio = 0.3
    answered = {f"EC-2026-{n:06d}": post_with_retries(client, draft(f"EC-2026-{n:06d}"),
                                                      resolve_on_retry=resolve_on_retry).voucher_no
                for n in range(keys)}
    return Counter(v.reference for v in emulator.book.all()), answered


@pytest.fixture(params=["yonbip", "u8"])
def api(request: pytest.FixtureRequest, yonbip_settings: dict, u8_settings: dict) -> tuple[str, dict[str, Any]]:
    return request.param, yonbip_settings if request.param == "yonbip" else u8_settings


def test_two_hundred_keys_through_the_retry_loop_book_one_voucher_each(emulator: YonyouEmulator, api: tuple) -> None:
    counts, answered = run(emulator, api[1], api[0], 200, resolve_on_retry=True)
    assert set(counts.values()) == {1} and len(counts) == 200
    assert {v.reference: v.voucher_no for v in emulator.book.all()} == answered


def test_the_vendor_dedupe_alone_keeps_retries_without_a_look_up_single(emulator: YonyouEmulator,
                                                                        api: tuple) -> None:
    counts, answered = run(emulator, api[1], api[0], 100, resolve_on_retry=False)
    assert set(counts.values()) == {1} and len(counts) == 100
    assert {v.reference: v.voucher_no for v in emulator.book.all()} == answered


def test_negative_control_without_the_vendor_dedupe_retries_without_a_look_up_book_duplicates(
        emulator: YonyouEmulator, api: tuple) -> None:
    emulator.dedupe = False
    counts, _ = run(emulator, api[1], api[0], 100, resolve_on_retry=False)
    assert len(counts) == 100 and max(counts.values()) >= 2
    assert sum(counts.values()) - 100 >= 10  # about 30 ambiguous failures, each a duplicate


def test_without_the_vendor_dedupe_our_look_up_still_keeps_it_single(emulator: YonyouEmulator, api: tuple) -> None:
    emulator.dedupe = False
    counts, _ = run(emulator, api[1], api[0], 100, resolve_on_retry=True)
    assert set(counts.values()) == {1} and len(counts) == 100


def test_negative_control_the_same_voucher_under_two_keys_is_booked_twice(emulator: YonyouEmulator,
                                                                         api: tuple) -> None:
    client = CONNECT[api[0]](api[1])
    first = client.post_voucher(draft("EC-1"), idempotency_key="EC-1")
    second = client.post_voucher(draft("EC-1"), idempotency_key="EC-1-again")
    assert first.voucher_no != second.voucher_no and len(emulator.book.all()) == 2
