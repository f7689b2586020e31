"""A small pool of script evaluator processes, safe to share between the threads of one engine process.

Each evaluator is a fresh interpreter (``evaluator_worker.py``) started with ``subprocess`` --
fork+exec in C, never a Python-level fork of a process whose other threads may hold locks --
and fed one request at a time over a pipe. A caller takes an idle evaluator (or starts one, up to
``size``; beyond that it waits), writes its request and waits for the reply until a wall-clock
deadline: the script's limit plus ``KILL_GRACE``, moved on while the evaluator has not actually
used that much CPU (a busy machine), but never past ``seconds * 4 + 1``. An evaluator that misses
the deadline, dies, or answers out of protocol is killed and forgotten; the next caller gets a
new one. Processes left over after a fork of the engine are ignored by the forked copy.
"""

from __future__ import annotations

import atexit
import os
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.workflow.scripts import evaluator_wire as wire

KILL_GRACE = 0.25  # seconds past the script's own limit before the parent kills a stuck evaluator
STARTUP_SECONDS = 60.0  # an interpreter importing the sandbox on a loaded machine
MAX_REPLY_BYTES = 256 * 2**20  # far above any task data the limits let through
SIZE_ENV = "BUDGETFLOW_SCRIPT_EVALUATORS"  # pool size; 0 runs scripts in-process (tests of the sandbox itself)
DEFAULT_SIZE = 2
_ROOT = Path(__file__).resolve().parents[3]  # the folder that holds the ``engine`` package
_BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); "
         "from engine.workflow.scripts.evaluator_worker import main; main()")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class EvaluatorLost(Exception):
    """The evaluator did not answer: killed at its deadline (``timed_out``), died, or broke protocol;
    ``before_request``: it was already gone when the request was to be sent, so nothing ran."""

    def __init__(self, message: str, *, timed_out: bool = False, before_request: bool = False):
        super().__init__(message)
        self.timed_out, self.before_request = timed_out, before_request


@dataclass(frozen=True)
class RunStats:
    """One request as the parent saw it (tests measure the limits with it)."""

    pid: int
    wall_seconds: float
    killed: bool
    peak_rss_bytes: int | None  # the evaluator's VmHWM, read when ``EvaluatorPool.measure`` is set
    cpu_seconds: float | None = None  # CPU the evaluator spent on the request (None: it was killed)


class Evaluator:
    """One evaluator process and the pipe to it."""

    def __init__(self) -> None:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
            [sys.executable, "-I", "-c", _BOOT, str(_ROOT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=env, start_new_session=True)  # Ctrl-C in a terminal stops the engine, which then closes us
        self.pid = self.proc.pid
        self.cpu_before = 0.0
        try:
            ready = self._read_reply(time.perf_counter(), STARTUP_SECONDS, cap=STARTUP_SECONDS)
        except EvaluatorLost:
            self.close()
            raise
        self.cpu_before = _number(ready.get("cpu"))

    def call(self, request: bytes, seconds: float) -> dict[str, Any]:
        """Send one request and return its reply; raises EvaluatorLost (and the process is then dead)."""
        started = time.perf_counter()
        try:
            if self.proc.poll() is not None:
                raise BrokenPipeError(self._exit_reason())
            assert self.proc.stdin is not None
            self.proc.stdin.write(request)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            self.close()
            raise EvaluatorLost(f"the evaluator process is gone ({exc})", before_request=True) from None
        reply = self._read_reply(started, seconds + KILL_GRACE, cap=seconds * 4 + 1 + KILL_GRACE, budget=seconds)
        self.cpu_before = _number(reply.get("cpu"))
        return reply

    def _read_reply(self, started: float, wait: float, *, cap: float, budget: float | None = None) -> dict[str, Any]:
        assert self.proc.stdout is not None
        fd, chunks, size = self.proc.stdout.fileno(), [], 0
        deadline = started + wait
        while True:
            now = time.perf_counter()
            if now >= deadline:
                deadline = self._extend_or_kill(started, now, cap, budget)
                continue
            if not select.select([fd], [], [], deadline - now)[0]:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                self.close()
                raise EvaluatorLost(f"the evaluator process died ({self._exit_reason()})",
                                    timed_out=self.proc.returncode == -24)  # SIGXCPU: its CPU limit
            chunks.append(chunk)
            size += len(chunk)
            if b"\n" in chunk or size > MAX_REPLY_BYTES:
                return self._parse(b"".join(chunks))

    def _extend_or_kill(self, started: float, now: float, cap: float, budget: float | None) -> float:
        """Past the deadline: wait longer only if the evaluator was starved of CPU, not busy."""
        if budget is not None and now < started + cap:
            used = self.cpu_seconds() - self.cpu_before
            if used < budget:
                return now + (budget - used) + 0.05
        self.close()
        raise EvaluatorLost("the evaluator missed its deadline and was killed", timed_out=True)

    def _parse(self, line: bytes) -> dict[str, Any]:
        """Exactly one line, within size, holding a JSON object; anything else ends this evaluator."""
        try:
            if len(line) > MAX_REPLY_BYTES or line.find(b"\n") != len(line) - 1:
                raise wire.WireError("a reply must be one line within the size limit")
            reply = wire.loads(line)
            if type(reply) is not dict:
                raise wire.WireError("a reply must be a JSON object")
        except wire.WireError as exc:
            self.close()
            raise EvaluatorLost(f"the evaluator broke protocol: {exc}") from None
        return reply

    def cpu_seconds(self) -> float:
        """User plus system CPU of the evaluator, from /proc (the process cannot lie about it)."""
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
        except (OSError, IndexError, ValueError):
            return float("inf")  # cannot tell: treat it as busy

    def peak_rss(self) -> int | None:
        try:
            with open(f"/proc/{self.pid}/status", "rb") as status:
                for line in status:
                    if line.startswith(b"VmHWM:"):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
        return None

    def _exit_reason(self) -> str:
        code = self.proc.returncode
        return "no exit status" if code is None else f"signal {-code}" if code < 0 else f"exit status {code}"

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


def _number(value: Any) -> float:
    return float(value) if type(value) in (int, float) else 0.0


class EvaluatorPool:
    """Up to ``size`` evaluators; each concurrent caller gets one of its own, or waits for one."""

    def __init__(self, size: int = DEFAULT_SIZE):
        self.size = max(1, size)
        self.measure = False
        self.last: RunStats | None = None
        self._idle: list[Evaluator] = []
        self._running = 0
        self._changed = threading.Condition()
        self._pid = os.getpid()

    def call(self, request: dict[str, Any], seconds: float) -> dict[str, Any]:
        """One request on one evaluator; evaluators that died while idle are replaced, transparently."""
        line = wire.dumps(request)
        for _ in range(self.size):  # each dead idle evaluator is dropped; then a fresh one is started
            try:
                return self._call_once(line, seconds)
            except EvaluatorLost as lost:
                if not lost.before_request:
                    raise
        return self._call_once(line, seconds)

    def _call_once(self, line: bytes, seconds: float) -> dict[str, Any]:
        evaluator, started = self._acquire(), time.perf_counter()
        cpu_at_start, healthy = evaluator.cpu_before, False
        try:
            reply = evaluator.call(line, seconds)
            healthy = not reply.get("retire")
            return reply
        finally:
            self._record(evaluator, started, cpu_at_start)
            self._release(evaluator, healthy)

    def _record(self, evaluator: Evaluator, started: float, cpu_at_start: float) -> None:
        peak = evaluator.peak_rss() if self.measure else None
        killed = evaluator.proc.returncode is not None
        cpu = None if killed else max(evaluator.cpu_before - cpu_at_start, 0.0)
        self.last = RunStats(evaluator.pid, time.perf_counter() - started, killed, peak, cpu)

    def _acquire(self) -> Evaluator:
        with self._changed:
            while not self._idle and self._running >= self.size:
                self._changed.wait()
            if self._idle:
                return self._idle.pop()
            self._running += 1
        try:
            return Evaluator()  # outside the lock: starting an interpreter takes a while
        except BaseException:
            self._release(None, healthy=False)
            raise

    def _release(self, evaluator: Evaluator | None, healthy: bool) -> None:
        if evaluator is not None and not healthy:
            evaluator.close()
        with self._changed:
            if evaluator is not None and healthy:
                self._idle.append(evaluator)
            else:
                self._running -= 1
            self._changed.notify()

    def close(self) -> None:
        """Stop the idle evaluators (busy ones stop when their caller releases them)."""
        if os.getpid() != self._pid:
            return  # a forked copy: those processes belong to the parent
        with self._changed:
            idle, self._idle = self._idle, []
            self._running -= len(idle)
        for evaluator in idle:
            evaluator.close()


_shared: EvaluatorPool | None = None
_shared_lock = threading.Lock()


def configured_size() -> int:
    """Pool size from ``BUDGETFLOW_SCRIPT_EVALUATORS`` (default 2); 0 means run scripts in-process."""
    text = os.environ.get(SIZE_ENV, "").strip()
    if not text:
        return DEFAULT_SIZE
    if not text.isdigit():
        raise ValueError(f"{SIZE_ENV} must be a whole number (0 runs scripts in-process), not {text!r}")
    return int(text)


def shared_pool() -> EvaluatorPool:
    """The process-wide pool (a fresh one after a fork: pipes are not shared across processes)."""
    global _shared
    pool = _shared
    if pool is None or pool._pid != os.getpid():
        with _shared_lock:
            if _shared is None or _shared._pid != os.getpid():
                _shared = EvaluatorPool(configured_size() or DEFAULT_SIZE)
            pool = _shared
    return pool


@atexit.register
def _close_shared() -> None:
    if _shared is not None:
        _shared.close()
