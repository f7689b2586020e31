"""Two web processes and two workers on one database, as in production (subprocesses, real HTTP).

``start_cluster(url)`` runs ``budgetflow serve`` twice and ``budgetflow worker`` twice against ``url``,
with one shared secret key (a session made by one web process is good on the other), and returns the
two web addresses. Everything is stopped (SIGTERM, then killed) when the context ends.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SERVING = re.compile(r"serving on (http://\S+)")
ENTRY = "from web.cli import main; raise SystemExit(main())"


def _environment(url: str, instance: Path) -> dict[str, str]:
    return {**os.environ, "BUDGETFLOW_DATABASE_URL": url, "BUDGETFLOW_INSTANCE_DIR": str(instance),
            "BUDGETFLOW_SECRET_KEY": "cluster-" + "s" * 40, "BUDGETFLOW_LANG": "en",
            "BUDGETFLOW_OUTBOX_BACKOFF_SECONDS": "0.2"}


def _wait_for_address(proc: subprocess.Popen[bytes], log: Path) -> str:
    """The address the server prints; its output goes to a file, so a chatty server never blocks on a pipe."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        found = SERVING.search(log.read_text(errors="replace"))
        if found:
            return found.group(1).rstrip("/")
        time.sleep(0.1)
    raise AssertionError("budgetflow serve did not start:\n" + log.read_text(errors="replace"))


@contextmanager
def start_cluster(url: str, instance: Path, *, web: int = 2, workers: int = 2) -> Iterator[list[str]]:
    env = _environment(url, instance)
    started: list[subprocess.Popen[bytes]] = []
    instance.mkdir(parents=True, exist_ok=True)
    try:
        addresses = []
        for n in range(web):
            log = instance / f"web-{n}.log"
            with log.open("wb") as out:
                proc = subprocess.Popen([sys.executable, "-c", ENTRY, "serve", "--port", "0"], env=env, stdout=out,
                                        stderr=subprocess.STDOUT)
            started.append(proc)
            addresses.append(_wait_for_address(proc, log))
        for n in range(workers):
            with (instance / f"worker-{n}.log").open("wb") as out:
                started.append(subprocess.Popen([sys.executable, "-c", ENTRY, "worker", "--poll", "0.2"], env=env,
                                                stdout=out, stderr=subprocess.STDOUT))
        yield addresses
    finally:
        for proc in started:
            proc.terminate()
        for proc in started:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
