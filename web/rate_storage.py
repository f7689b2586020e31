"""A `limits` storage on the database (``budgetflow://``), so every web process counts sign-in attempts together.

Flask-Limiter keeps counts in memory by default: with two web processes an attacker gets twice the
attempts, and a restart forgets them. The database every process already shares holds them instead
(engine/persistence/rate_counters.py); a Redis URI (``redis://…``) works as well where there is one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from limits.storage import Storage


class Counters(Protocol):
    """Container.rate_counters(): fixed-window counters in the database."""

    def incr(self, key: str, expiry: int, amount: int = 1) -> int: ...
    def get(self, key: str) -> int: ...
    def expiry(self, key: str) -> datetime: ...
    def clear(self, key: str) -> None: ...
    def reset(self) -> int: ...


_counters: dict[str, Counters] = {}  # storage URI → the counters of the app made with it


def use_counters(uri: str, counters: Counters) -> None:
    """Called by the app factory before Flask-Limiter builds the storage from the URI."""
    _counters[uri] = counters


class DatabaseStorage(Storage):
    STORAGE_SCHEME = ["budgetflow"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions, **options)
        self.counters = _counters[uri or ""]

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return Exception

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self.counters.incr(key, int(expiry), amount)

    def get(self, key: str) -> int:
        return self.counters.get(key)

    def get_expiry(self, key: str) -> float:
        return self.counters.expiry(key).timestamp()

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        return self.counters.reset()

    def clear(self, key: str) -> None:
        self.counters.clear(key)
