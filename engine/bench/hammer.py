"""Drive one operation from many threads for a fixed time and count the outcomes.

Shared by the concurrency tests and ``budgetflow bench``: the same harness that
proves zero over-commit also measures the rate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.domain.errors import BudgetInsufficient


@dataclass
class HammerResult:
    clients: int
    seconds: float
    succeeded: int = 0
    refused: int = 0  # BudgetInsufficient: the line said no, as it should when full
    errors: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.succeeded / self.seconds if self.seconds else 0.0


def hammer(
    operation: Callable[[int, int], object], *, clients: int, seconds: float, until_refused: float = 0.0
) -> HammerResult:
    """Call ``operation(client, n)`` in a loop from ``clients`` threads for ``seconds``.

    With ``until_refused`` (a cap in seconds), each client goes on past ``seconds``
    until it has been refused at least once: the line was full under everyone's load.
    """
    counts = [[0, 0] for _ in range(clients)]
    errors: list[str] = []
    start = threading.Barrier(clients + 1)
    deadline = [0.0]
    cap = [0.0]

    def keep_going(client: int) -> bool:
        now = time.perf_counter()
        if now < deadline[0]:
            return True
        return now < cap[0] and counts[client][1] == 0

    def worker(client: int) -> None:
        start.wait()
        n = 0
        while keep_going(client):
            n += 1
            try:
                operation(client, n)
                counts[client][0] += 1
            except BudgetInsufficient:
                counts[client][1] += 1
            except Exception as exc:  # noqa: BLE001 - every failure is counted and reported, none hidden
                errors.append(f"client {client}: {type(exc).__name__}: {exc}"[:300])

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in range(clients)]
    for t in threads:
        t.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    cap[0] = began + max(seconds, until_refused)
    start.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    return HammerResult(clients, elapsed, sum(c[0] for c in counts), sum(c[1] for c in counts), errors)
