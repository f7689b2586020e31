"""``budgetflow bench web``: the inbox over real HTTP through the production server, with a full database.

The database is filled as ``bench inbox`` fills it (100,000 open and 1,000,000 finished tasks by
default), plus an employee row, a role and an API token for every approver the bench asks for, and a
password for the busiest one. ``budgetflow serve`` then runs in a process of its own (as in
production: the client's work never shares the server's interpreter) and the bench times, one
request at a time:

- ``GET /api/v1/tasks`` with each of ``queries`` random approvers' tokens (the first page, with counts);
- the inbox page of the busiest approver (signed in through the form), ``page_loads`` times.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import requests

from engine.bench import web_data

SERVING = re.compile(r"serving on (http://\S+)")
TIMEOUT = 30


@dataclass(frozen=True)
class WebFigures:
    open_tasks: int
    history: int
    api_p50_ms: float
    api_p95_ms: float
    api_max_ms: float
    busiest_tasks: int
    inbox_p50_ms: float
    inbox_p95_ms: float
    inbox_max_ms: float

    def to_json(self) -> dict[str, Any]:
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def run(url: str, *, open_tasks: int, history: int, queries: int = 200, page_loads: int = 50,
        progress: Callable[[int], None] = lambda _n: None) -> WebFigures:
    with tempfile.TemporaryDirectory(prefix="budgetflow-bench-web-") as folder:
        people = web_data.fill(url, Path(folder), open_tasks=open_tasks, history=history, tokens=queries,
                               progress=progress)
        with _server(url, Path(folder)) as base:
            return _measure(base, people, page_loads=page_loads, progress=progress,
                            sizes=(open_tasks, history))


def _measure(base: str, people: web_data.People, *, page_loads: int, progress: Callable[[int], None],
             sizes: tuple[int, int]) -> WebFigures:
    api_times = [_timed_api(base, token) for token in people.tokens]
    progress(len(api_times))
    browser = _signed_in(base, people.busiest, people.password)
    _get(browser, f"{base}/inbox")  # the first request of a session warms nothing that later ones reuse
    page_times = [_timed(browser, f"{base}/inbox") for _ in range(page_loads)]
    progress(page_loads)
    return WebFigures(*sizes, statistics.median(api_times), _p95(api_times), max(api_times),
                      people.busiest_tasks, statistics.median(page_times), _p95(page_times), max(page_times))


def work_units(*, open_tasks: int, history: int, queries: int, page_loads: int = 50) -> int:
    return web_data.work_units(open_tasks=open_tasks, history=history) + queries + page_loads


@contextmanager
def _server(url: str, instance: Path) -> Iterator[str]:
    log = instance / "serve.log"
    with log.open("wb") as out:
        proc = _serve(url, instance, out)
    try:
        yield _wait_for_address(proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()  # reaped: never a server left running behind the bench


def _serve(url: str, instance: Path, out: BinaryIO) -> subprocess.Popen[bytes]:
    """``budgetflow serve`` in its own process; its output goes to a file (a full pipe would block it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUDGETFLOW_AUDIT_")}  # the bench's own key
    env.update(BUDGETFLOW_DATABASE_URL=url, BUDGETFLOW_INSTANCE_DIR=str(instance), BUDGETFLOW_LANG="en",
               BUDGETFLOW_SECRET_KEY="bench-" + "k" * 40, BUDGETFLOW_WEB_LOGIN_LIMIT="1000 per minute")
    return subprocess.Popen([sys.executable, "-c", "from web.cli import main; raise SystemExit(main())", "serve",
                             "--port", "0"], env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait_for_address(proc: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        found = SERVING.search(log.read_text(errors="replace"))
        if found:
            return found.group(1).rstrip("/")
        time.sleep(0.1)
    raise RuntimeError("budgetflow serve did not start:\n" + log.read_text(errors="replace")[-2000:])


def _timed_api(base: str, token: str) -> float:
    began = time.perf_counter()
    answer = requests.get(f"{base}/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    elapsed = (time.perf_counter() - began) * 1000
    answer.raise_for_status()
    return elapsed


def _signed_in(base: str, employee: str, password: str) -> requests.Session:
    browser = requests.Session()
    page = _get(browser, f"{base}/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    if token is None:
        raise RuntimeError("the sign-in page has no CSRF token")
    answer = browser.post(f"{base}/login", data={"login": employee, "password": password,
                                                 "csrf_token": token.group(1)}, timeout=TIMEOUT)
    answer.raise_for_status()
    return browser


def _timed(browser: requests.Session, address: str) -> float:
    began = time.perf_counter()
    _get(browser, address)
    return (time.perf_counter() - began) * 1000


def _get(browser: requests.Session, address: str) -> requests.Response:
    answer = browser.get(address, timeout=TIMEOUT)
    answer.raise_for_status()
    return answer


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
