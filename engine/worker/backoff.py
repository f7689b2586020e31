"""Waiting out trouble: capped exponential delays with jitter, and an outage logged once at each end."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

from engine.persistence.db_errors import DatabaseProblem

BASE_S = 0.5  # first wait after a failure
CAP_S = 30.0  # no wait is longer: a database that comes back is noticed within this


class Backoff:
    """Delays of base, 2 x base, 4 x base ... up to ``cap``, each drawn from its upper half.

    The jitter keeps several workers that lost the same server from all knocking at the same instant.
    """

    def __init__(self, base: float = BASE_S, cap: float = CAP_S, rng: Callable[[], float] = random.random) -> None:
        self.base, self.cap, self.rng = base, cap, rng
        self.failures = 0

    def next_delay(self) -> float:
        delay = min(self.cap, self.base * 2 ** min(self.failures, 32))
        self.failures += 1
        return delay / 2 + self.rng() * delay / 2

    def reset(self) -> None:
        self.failures = 0


class Outage:
    """One line when the database goes away, one when it is back; nothing in between but debug lines."""

    def __init__(self, log: logging.Logger, *, cap: float = CAP_S, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.log, self.cap, self.clock = log, cap, clock
        self.since: float | None = None
        self.problem: DatabaseProblem | None = None

    @property
    def active(self) -> bool:
        return self.since is not None

    def failed(self, problem: DatabaseProblem, retry_in: float) -> None:
        if self.since is None:
            self.since, self.problem = self.clock(), problem
            self.log.warning("database outage [%s]: %s (the worker keeps running and retries, every %g s at most)",
                             problem.kind, problem.message, self.cap)
        else:
            self.log.debug("database still unavailable [%s]; next try in %.1f s", problem.kind, retry_in)

    def recovered(self) -> None:
        if self.since is not None:
            kind = self.problem.kind if self.problem else "outage"
            self.log.warning("database back after %.1f s [%s]", self.clock() - self.since, kind)
            self.since, self.problem = None, None
