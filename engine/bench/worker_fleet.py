"""``budgetflow bench workers``: N ``budgetflow worker`` processes and M driver processes on one database.

The drivers (lifecycle_driver.py) run lifecycles through the services and leave every connector job in the
outbox; the workers, real ``budgetflow worker`` processes started as a person would start them, post the
vouchers. Once every claim has posted (or the time is up) the workers are stopped with SIGTERM and the run
is checked: every claim exactly one voucher (posted_once.py), the budget ledger and the audit chain verify.
Issue 13's acceptance 3 is this run with two workers and two drivers on PostgreSQL
(tests/worker/test_two_workers_postgres.py).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import engine
from engine.audit_anchoring import anchor_store, row_source
from engine.bench import posted_once
from engine.bench.lifecycle import BPMN
from engine.bootstrap import Container, build
from engine.config import Settings
from engine.services import processes, read_models
from engine.services.audit import audit_key_from_env, verify_anchored
from engine.services.masterdata.importing import seed_demo
from engine.workflow import bundle as bundles

SOURCE_ROOT = Path(engine.__file__).resolve().parents[1]  # the subprocesses import this very code
START_TIMEOUT_S = 60.0  # a worker that has not said it started by then will not
POSTED_VOUCHER = re.compile(r"erp/PostVoucher job \d+: done")  # the worker's line for each voucher it posted


@dataclass
class FleetReport:
    workers: int
    drivers: int
    lifecycles: int  # per driver
    seconds: float = 0.0  # from the first lifecycle's start to the last claim posted (or the time-out)
    driver_seconds: list[float] = field(default_factory=list)  # each driver's own time for its lifecycles
    vouchers_by_worker: list[int] = field(default_factory=list)  # from each worker's log
    worker_exit_codes: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # drivers or workers that failed, a time-out
    posting: posted_once.PostingCheck | None = None
    ledger_problems: list[str] = field(default_factory=list)
    audit_problems: list[str] = field(default_factory=list)

    @property
    def claims(self) -> int:
        return self.drivers * self.lifecycles

    @property
    def ok(self) -> bool:
        return not self.problems()

    @property
    def posting_ok(self) -> bool:
        return self.posting is not None and self.posting.ok

    def problems(self) -> list[str]:
        found = list(self.errors)
        found += self.posting.problems() if self.posting else ["not checked"]
        found += [f"ledger: {p}" for p in self.ledger_problems] + [f"audit: {p}" for p in self.audit_problems]
        return found

    def to_json(self) -> dict[str, object]:
        return {"workers": self.workers, "drivers": self.drivers, "claims": self.claims, "ok": self.ok,
                "seconds": round(self.seconds, 2), "lifecycles_per_s": round(self.claims / self.seconds, 2)
                if self.seconds else 0.0, "driver_seconds": self.driver_seconds,
                "vouchers_by_worker": self.vouchers_by_worker, "worker_exit_codes": self.worker_exit_codes,
                "posting": self.posting.to_json() if self.posting else None,
                "ledger_ok": not self.ledger_problems, "audit_ok": not self.audit_problems,
                "problems": self.problems()}


def environment(url: str, folder: Path) -> dict[str, str]:
    """What every process of a run shares: the database, an instance folder, one audit key."""
    path = os.pathsep.join(p for p in (str(SOURCE_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "BUDGETFLOW_DATABASE_URL": url, "BUDGETFLOW_INSTANCE_DIR": str(folder),
            "BUDGETFLOW_AUDIT_KEY": secrets.token_hex(32), "PYTHONPATH": path}


def prepare(container: Container) -> None:
    """The demo company and the shipped diagrams, deployed and active."""
    seed_demo(container.masterdata_store)
    processes.deploy(container.uow, bundles.read_folder(BPMN), by="E0016")


def run_fleet(env: dict[str, str], folder: Path, *, workers: int = 2, drivers: int = 2, lifecycles: int = 8,
              poll: float = 0.1, timeout: float = 120.0, progress: Callable[[int], None] = lambda _n: None
              ) -> FleetReport:
    """Prepare the database of ``env``, run the fleet, check it. Logs go to ``folder``; ``progress`` hears of
    each claim posted. ``timeout``: seconds for the drivers and then for the postings, each.

    Workers and drivers start together (each process spends seconds importing before its first query on a
    busy machine); jobs that come before a worker is up wait in the outbox as they would in production.
    """
    report = FleetReport(workers, drivers, lifecycles)
    container = build(Settings.from_env(env), pool_size=2, audit_environ=env)
    try:
        prepare(container)
        fleet = [Worker(env, folder / f"worker-{n}.log", poll) for n in range(workers)]
        try:
            claims, began = _drive(env, folder, report, timeout)
            report.errors += [e for w in fleet if (e := w.started(START_TIMEOUT_S))]
            report.errors += _await_postings(container, claims, fleet, timeout, progress)
            report.seconds = time.time() - began
        finally:
            report.worker_exit_codes = _stop(fleet, timeout)
        report.vouchers_by_worker = [len(POSTED_VOUCHER.findall(w.text())) for w in fleet]
        report.errors += [f"worker {n} exited with {code}: {fleet[n].tail()}"
                          for n, code in enumerate(report.worker_exit_codes) if code != 0]
        verify(container, env, claims, report)
    finally:
        container.dispose()
    return report


def _stop(fleet: list[Worker], timeout: float) -> list[int]:
    """SIGTERM to every worker at once (each ends after the job it is running), then their exit codes."""
    for worker in fleet:
        worker.terminate()
    return [worker.wait(timeout) for worker in fleet]


def verify(container: Container, env: dict[str, str], claims: list[str], report: FleetReport) -> None:
    """Exactly once per claim, the ledger's balances against its entries, the audit chain: into ``report``."""
    report.posting = posted_once.check(container.session_factory, claims)
    report.ledger_problems = list(read_models.ledger_check(container.reader).problems)
    key = audit_key_from_env(container.settings, env)
    audited = verify_anchored(row_source(container), key, anchor_store(container.settings, env))
    report.audit_problems = [] if audited.result.ok else (audited.result.problems or ["failed"])


def _drive(env: dict[str, str], folder: Path, report: FleetReport, timeout: float) -> tuple[list[str], float]:
    """Start the drivers together, wait for them all; the claims they made and when the first lifecycle began
    (the drivers' start-up, importing the engine, is not the fleet's throughput)."""
    command, began = [sys.executable, "-m", "engine.bench.lifecycle_driver"], time.time()
    logs = [(folder / f"driver-{d}.log").open("w") for d in range(report.drivers)]
    started = [subprocess.Popen([*command, f"D{d}", str(report.lifecycles)],  # noqa: S603 - our own module
                                env=env, stdout=subprocess.PIPE, stderr=log, text=True) for d, log in enumerate(logs)]
    claims: list[str] = []
    starts: list[float] = []
    for d, (proc, log) in enumerate(zip(started, logs, strict=True)):
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        log.close()
        if proc.returncode != 0:
            report.errors.append(f"driver {d} exited with {proc.returncode}: {_tail(folder / f'driver-{d}.log')}")
            continue
        done = json.loads(out.strip().splitlines()[-1])
        claims += done["claims"]
        starts.append(done["began"])
        report.driver_seconds.append(done["seconds"])
    return claims, min(starts, default=began)


def _await_postings(container: Container, claims: list[str], fleet: list[Worker], timeout: float,
                    progress: Callable[[int], None]) -> list[str]:
    """Wait until every claim has posted and no job is left pending; what went wrong, if anything."""
    deadline, reported = time.monotonic() + timeout, 0
    while True:
        found = posted_once.check(container.session_factory, claims)
        posted = found.claims - len(found.not_posted)
        progress(posted - reported)
        reported = posted
        if not found.unfinished and not found.jobs.get("pending"):
            return []
        if not any(w.alive for w in fleet):
            return ["no worker is running: every one has exited, or none was started"]
        if time.monotonic() > deadline:
            return [f"time-out after {timeout:g} s: {len(found.unfinished)} claim(s) not posted"]
        time.sleep(0.1)


class Worker:
    """``budgetflow worker`` as a subprocess, its log (stderr) in a file."""

    def __init__(self, env: dict[str, str], log: Path, poll: float) -> None:
        self.log = log
        self._stderr: IO[str] = log.open("w")
        command = [sys.executable, "-m", "engine", "worker", "--poll", f"{poll:g}"]
        self.proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,  # noqa: S603 - our own CLI
                                     stderr=self._stderr, text=True)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self) -> str:
        return _tail(self.log)

    def started(self, timeout: float) -> str:
        """'' once the worker has logged its banner; else why not."""
        deadline = time.monotonic() + timeout
        while "budgetflow.worker" not in self.text():
            if not self.alive or time.monotonic() > deadline:
                return f"worker {self.log.stem} did not start: {self.tail()}"
            time.sleep(0.05)
        return ""

    def terminate(self) -> None:
        if self.alive:
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        """The exit code; killed if it has not ended within ``timeout``."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
        finally:
            self._stderr.close()


def _tail(log: Path, size: int = 1500) -> str:
    return log.read_text(errors="replace")[-size:]
