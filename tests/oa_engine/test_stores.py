"""The OA state shared through the database: nonces taken once, tokens shared, each vendor event stored once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from engine.persistence.db import make_engine
from engine.persistence.oa_stores import SqlCallbackInbox, SqlNonceStore, SqlTokenCache, _at
from engine.persistence.oa_tables import OaNonce

NOW = 1_800_000_000.0


@pytest.fixture
def engine(db_url):
    e = make_engine(db_url)
    yield e
    e.dispose()


def test_a_nonce_is_taken_once_until_it_expires(engine):
    nonces = SqlNonceStore(engine)
    assert nonces.first_use("wecom", "n1", now=NOW, expires_at=NOW + 600)
    assert not nonces.first_use("wecom", "n1", now=NOW + 1, expires_at=NOW + 601)
    assert nonces.first_use("feishu", "n1", now=NOW + 1, expires_at=NOW + 601)  # each vendor its own
    assert nonces.first_use("wecom", "n1", now=NOW + 600, expires_at=NOW + 1200)  # the window has passed


class NaiveNonceStore(SqlNonceStore):
    """Negative control: look, then write, in two transactions: the gap lets two takers both win."""

    def first_use(self, vendor, nonce, *, now, expires_at):
        with self.engine.connect() as conn:
            seen = conn.execute(select(OaNonce.expires_at).where(OaNonce.vendor == vendor, OaNonce.nonce == nonce)
                                ).scalar()
        if seen is not None and seen > _at(now):
            return False
        time.sleep(0.01)
        with self.engine.begin() as conn:
            conn.execute(delete(OaNonce).where(OaNonce.vendor == vendor, OaNonce.nonce == nonce))
            conn.execute(OaNonce.__table__.insert().values(vendor=vendor, nonce=nonce, expires_at=_at(expires_at)))
        return True


def _race(store, nonces: int = 20, threads: int = 6) -> int:
    """Every thread tries every nonce at once; how many takes succeeded in all."""
    taken, lock, start = [0], threading.Lock(), threading.Barrier(threads)

    def take() -> None:
        start.wait()
        for n in range(nonces):
            try:
                won = store.first_use("dingtalk", f"race-{n}", now=NOW, expires_at=NOW + 600)
            except Exception:  # noqa: BLE001 - the naive store's losers hit the key; that is a loss, not a win
                won = False
            with lock:
                taken[0] += won
    workers = [threading.Thread(target=take) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return taken[0]


def test_racing_processes_take_each_nonce_once_and_the_naive_store_does_not(engine):
    assert _race(SqlNonceStore(engine)) == 20
    with engine.begin() as conn:
        conn.execute(delete(OaNonce))
    assert _race(NaiveNonceStore(engine)) > 20  # the same test catches a store that looks before it writes


def test_tokens_are_shared_until_their_refresh_margin_and_dropped_only_if_unchanged(engine):
    tokens = SqlTokenCache(engine)
    assert tokens.get("wecom:corp", NOW) is None
    tokens.put("wecom:corp", "t-1", NOW + 7200)
    assert SqlTokenCache(engine).get("wecom:corp", NOW) == "t-1"  # another process sees it
    assert tokens.get("wecom:corp", NOW + 7200 - 299) is None  # too close to expiry: fetch a new one
    tokens.put("wecom:corp", "t-2", NOW + 9000)
    tokens.drop("wecom:corp", "t-1")  # a refusal of the old token does not drop the new one
    assert tokens.get("wecom:corp", NOW) == "t-2"
    tokens.drop("wecom:corp", "t-2")
    assert tokens.get("wecom:corp", NOW) is None


def test_each_vendor_event_is_stored_once_however_often_it_is_delivered(engine):
    inbox = SqlCallbackInbox(engine)
    stored = sum(inbox.record("wecom", f"sp-{n % 100}:2:1700000000", "sys_approval_change", {"n": n % 100})
                 for n in range(1000))
    assert stored == 100 and inbox.count("wecom") == 100
    assert inbox.record("feishu", "sp-1:2:1700000000", "approval_instance", {})  # keys are per vendor
    first = inbox.pending(limit=2)
    assert [e["payload"] for e in first] == [{"n": 0}, {"n": 1}]
    inbox.finish(first[0]["id"], "done")
    inbox.finish(first[1]["id"], "ignored", "no document waits for this instance")
    assert [e["payload"]["n"] for e in inbox.pending(limit=2)] == [2, 3]
    with pytest.raises(ValueError, match="status"):
        inbox.finish(first[0]["id"], "pending")
    assert inbox.sweep(timedelta(0)) == 2 and inbox.count() == 99
