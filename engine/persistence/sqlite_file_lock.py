"""OS file locks that hand SQLite's write lock over fairly between processes.

Within a process, writers queue on a Python lock (db.py). Between processes they used to meet only SQLite's
busy handler, which polls with sleeps growing to 100 ms: the process that just committed takes the lock again
long before a sleeping one looks, so one process starved another (measured with ``bench lifecycle
--processes 2``: 2 vs 39 lifecycles/s; in a 16-process race one process made 1 call and another 231).

Here the writer that holds the in-process lock also takes ``flock(LOCK_EX)`` on ``<database>.writer-lock``
before ``BEGIN IMMEDIATE``. A process that waits sleeps in the kernel and is woken when the lock is freed, not
at the end of a poll interval. A woken waiter must still run before it has the lock, though, and on a busy
machine the process that just let go, still on its CPU, took it straight back (measured: 32 vs 799 writes in
one race). So a writer passes through a gate first, ``<database>.writer-gate``, and holds it while it waits
for the lock: whoever just let go queues at the gate behind the waiter and cannot take the lock back before
the waiter has had its turn. Uncontended, that is three ``flock`` calls more per write transaction.

The timed wait: an uncontended lock is taken with one non-blocking call. A contended one is waited for in a
helper thread blocked in ``flock`` while the caller waits on an event for at most the busy timeout. Polling
with ``LOCK_NB`` and short sleeps instead would bring back what this module removes (the lock goes to whoever
happens to poll next) and costs CPU on every waiting process. A helper that is given up on keeps the old file
descriptors: if it gets the lock later it lets go at once and closes them; this lock opens new descriptors, a
new lock owner, so the late helper can never release a lock someone else took in its place.

``BUDGETFLOW_SQLITE_WRITER_HANDOVER=off`` turns it off (SQLite's busy handler alone, as before); there is no
``fcntl`` on Windows, where it is off too. ``:memory:`` databases live in one process and need none.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.config import PREFIX, SettingInvalid
from engine.persistence.db_errors import WriterLockTimeout

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

HANDOVER_ENV = f"{PREFIX}SQLITE_WRITER_HANDOVER"
SUFFIX = ".writer-lock"
GATE_SUFFIX = ".writer-gate"
_ON, _OFF = ("on", "1", "true", "yes"), ("off", "0", "false", "no")

log = logging.getLogger(__name__)


def handover_wanted(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``BUDGETFLOW_SQLITE_WRITER_HANDOVER`` asks for the file lock (on unless it says off)."""
    raw = (os.environ if environ is None else environ).get(HANDOVER_ENV, "").strip().lower()
    if raw in ("", *_ON):
        return True
    if raw in _OFF:
        return False
    raise SettingInvalid(f"{HANDOVER_ENV}={raw!r} is neither on nor off (default on); fix or unset it")


def for_database(database: str | None, timeout: float, *, wanted: bool) -> SqliteFileLock | None:
    """The file lock beside the SQLite file ``database``; None where there is none to take."""
    if not wanted or fcntl is None or database in (None, "", ":memory:") or str(database).startswith("file:"):
        return None
    return SqliteFileLock(Path(str(database) + SUFFIX), timeout)


class SqliteFileLock:
    """The writer lock and its gate, taken and let go by one thread at a time (the in-process lock's holder)."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.gate = path.with_name(path.name.removesuffix(SUFFIX) + GATE_SUFFIX)
        self._timeout = timeout
        self._fds: tuple[int, int] | None = None  # (gate, writer)
        self._pid = 0  # the process that opened them: a forked child would share their locks, so it opens its own
        self._closer: weakref.finalize[..., Any] | None = None  # closes them when the engine is gone
        self._warned = False

    def acquire(self) -> bool:
        """Take the lock, waiting at most the busy timeout; WriterLockTimeout if it does not come.

        False: the lock files cannot be opened here; the writer goes on without them (SQLite still keeps writers
        apart, only the fair handover is lost), with one warning per process.
        """
        fds = self._descriptors()
        if fds is None:
            return False
        gate, writer = fds
        has_gate = _try_lock(gate)
        if has_gate and _try_lock(writer):
            fcntl.flock(gate, fcntl.LOCK_UN)
            return True
        if not _Waiter(gate, writer, has_gate=has_gate).wait(self._timeout):
            self._forget(close=False)  # the waiter owns (and closes) the old descriptors now
            raise WriterLockTimeout(f"no SQLite write lock within {self._timeout:g} s: another process holds "
                                    f"{self.path.name} (a transaction is stuck)")
        return True

    def release(self) -> None:
        if self._fds is not None and self._pid == os.getpid():
            fcntl.flock(self._fds[1], fcntl.LOCK_UN)

    def _descriptors(self) -> tuple[int, int] | None:
        if self._fds is not None and self._pid != os.getpid():
            self._forget(close=True)  # a forked child's copies: closing them leaves the parent's locks alone
        if self._fds is None:
            self._fds, self._pid = self._open(), os.getpid()
            if self._fds is not None:
                self._closer = weakref.finalize(self, _close_all, self._fds)
        return self._fds

    def _forget(self, *, close: bool) -> None:
        if self._closer is not None:
            if close:
                self._closer()
            else:
                self._closer.detach()
        self._fds, self._closer = None, None

    def _open(self) -> tuple[int, int] | None:
        gate: int | None = None
        try:
            gate = _open(self.gate)
            return gate, _open(self.path)
        except OSError as error:
            if gate is not None:
                os.close(gate)
            if not self._warned:
                self._warned = True
                log.warning("no fair SQLite writer handover in this process: %s", error)
            return None


def _open(path: Path) -> int:
    # The files are never removed: a process that removed one would leave the others locking an orphan.
    # flock needs no write access, so a file another user created (0644 under a 022 umask) still serves.
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except PermissionError:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)


def _close_all(fds: tuple[int, ...]) -> None:
    for fd in fds:
        os.close(fd)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class _Waiter:
    """A helper thread blocked in ``flock``; a caller that gives up leaves it to let go and close."""

    def __init__(self, gate: int, writer: int, *, has_gate: bool) -> None:
        self._gate, self._writer, self._has_gate = gate, writer, has_gate
        self._done = threading.Event()
        self._guard = threading.Lock()
        self._abandoned = False
        self._error: OSError | None = None

    def wait(self, timeout: float) -> bool:
        """True once the lock is held; False if it did not come within ``timeout`` seconds."""
        threading.Thread(target=self._block, name="sqlite-writer-lock", daemon=True).start()
        self._done.wait(timeout)
        with self._guard:
            if not self._done.is_set():
                self._abandoned = True
                return False
        if self._error is not None:
            raise self._error
        return True

    def _block(self) -> None:
        try:
            if not self._has_gate:
                fcntl.flock(self._gate, fcntl.LOCK_EX)
            try:
                fcntl.flock(self._writer, fcntl.LOCK_EX)
            finally:
                fcntl.flock(self._gate, fcntl.LOCK_UN)
        except OSError as error:
            self._error = error
        with self._guard:
            if not self._abandoned:
                self._done.set()
                return
        if self._error is None:
            fcntl.flock(self._writer, fcntl.LOCK_UN)
        _close_all((self._gate, self._writer))
