"""Wiring for the stored audit anchor: its file, the rows, and the worker's periodic refresh.

``budgetflow audit verify|head`` and the long-running processes (``worker``, ``scheduler``)
share these, so all of them read and advance the same anchor file (docs/audit.md).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping

from engine.audit_key import anchor_file_path, development_key_warning
from engine.bootstrap import Container
from engine.config import Settings, redact_url
from engine.domain.errors import BudgetflowError
from engine.persistence import audit_repository
from engine.persistence.audit_anchor_file import AnchorFile
from engine.services.audit import AnchoredVerify, RowSource, verify_anchored

ANCHOR_INTERVAL_S = 60.0  # each refresh re-reads only the rows appended since the last one


def anchor_store(settings: Settings, environ: Mapping[str, str] | None = None) -> AnchorFile:
    """The anchor file for ``settings`` (``environ``: where BUDGETFLOW_AUDIT_* are read; None: the process's)."""
    return AnchorFile(anchor_file_path(settings, environ), database=redact_url(settings.database_url))


def row_source(container: Container) -> RowSource:
    return lambda from_seq: audit_repository.stream_rows(container.engine, from_seq)


def warn_about_development_key(settings: Settings) -> None:
    warning = development_key_warning(settings)
    if warning:
        print(warning, file=sys.stderr)


class AnchorKeeper:
    """Advances the anchor from inside a long-running process; never stops that process.

    A chain that does not verify is reported (one line on stderr) and leaves the anchor where
    it was; the business work goes on, and ``budgetflow audit verify`` gives the details.
    """

    def __init__(self, container: Container, name: str, interval: float = ANCHOR_INTERVAL_S) -> None:
        self.container = container
        self.name = name
        self.interval = interval
        self.next_at = 0.0
        self.warned = False

    def tick(self) -> None:
        """Refresh if the interval has passed (the first call refreshes at once)."""
        if time.monotonic() >= self.next_at:
            self.next_at = time.monotonic() + self.interval
            self.refresh()

    def refresh(self) -> AnchoredVerify | None:
        if not self.warned:
            self.warned = True
            warn_about_development_key(self.container.settings)
        c = self.container
        try:
            outcome = verify_anchored(row_source(c), c.audit_key(), anchor_store(c.settings), incremental=True)
        except (BudgetflowError, OSError) as exc:
            self._say(f"audit anchor not refreshed: {exc}")
            return None
        for note in outcome.notes:
            self._say(note)
        if not outcome.result.ok:
            self._say(failure_line(outcome))
        return outcome

    def _say(self, line: str) -> None:
        print(f"{self.name}: {line}", file=sys.stderr, flush=True)


def failure_line(outcome: AnchoredVerify) -> str:
    """One line: what is wrong, and where the anchor stays."""
    result = outcome.result
    first = result.problems[0] if result.problems else f"{result.problem_count} problem(s)"
    kept = f"the anchor stays at seq {outcome.stored.seq}" if outcome.stored else "no anchor written"
    return f"AUDIT CHAIN DOES NOT VERIFY: {first}; {kept} ({outcome.location}); run `budgetflow audit verify`"
