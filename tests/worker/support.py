"""A real ``budgetflow worker`` subprocess, its log read as it is written, and the checks after a fault."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from engine.persistence.workflow_tables import OutboxJob, ProcessInstance, Voucher

HANG = 120.0  # seconds: only a hang takes this long, on however busy a machine
PLAIN_WORKER = Path(__file__).with_name("plain_worker.py")
ROOT = Path(__file__).resolve().parents[2]


class Worker:
    """``budgetflow worker`` (or the plain loop of the negative controls) with stderr going to a file."""

    def __init__(self, env: dict[str, str], log: Path, *, plain: bool = False, poll: float = 0.2) -> None:
        command = [sys.executable, str(PLAIN_WORKER)] if plain else \
            [sys.executable, "-m", "engine", "worker", "--poll", str(poll)]
        self.log = log
        self._stderr = log.open("w")
        self.proc = subprocess.Popen(command, env={**env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                                     stderr=self._stderr, text=True)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def count(self, needle: str) -> int:
        return self.text().count(needle)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int:
        if self.alive:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=HANG)
        finally:
            self._stderr.close()

    def kill(self) -> None:
        if self.alive:
            self.proc.kill()
            self.proc.wait(timeout=HANG)
        self._stderr.close()


def wait_for(condition: Callable[[], bool], what: str, *, timeout: float = HANG) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def vouchers_per_claim(app, prefix: str) -> dict[str, int]:
    with app.session_factory() as s:
        return dict(s.execute(select(Voucher.document_no, func.count()).where(Voucher.document_no.startswith(prefix))
                              .group_by(Voucher.document_no)).all())


def jobs_and_instances(app) -> tuple[dict[str, int], dict[str, int]]:
    with app.session_factory() as s:
        jobs = dict(s.execute(select(OutboxJob.status, func.count()).group_by(OutboxJob.status)).all())
        instances = dict(s.execute(select(ProcessInstance.status, func.count()).group_by(ProcessInstance.status)).all())
    return jobs, instances


def verify_ledger_and_audit(env: dict[str, str]) -> None:
    for command in (["ledger", "verify"], ["audit", "verify"]):
        done = subprocess.run([sys.executable, "-m", "engine", *command], env=env, capture_output=True, text=True,
                              check=False, timeout=HANG)
        assert done.returncode == 0, (command, done.stdout[-1000:], done.stderr[-1000:])
