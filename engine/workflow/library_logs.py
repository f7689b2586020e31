"""SpiffWorkflow's loggers at WARNING: the library builds costly log details only for loggers left below INFO.

SpiffWorkflow 3.2.0 logs every state change at INFO and, when its own logger's level is below INFO
(``logger.level < 20``, the logger's own level, not the effective one), adds the whole task list or task
data to the record's extras: a walk of the task tree per state change, built even when no handler ever
prints it. The ``spiff.*`` loggers are created at level 0 (NOTSET), so that walk happened on every step.
At WARNING the INFO records are dropped at the ``isEnabledFor`` check and the details are never built;
warnings and errors still reach the handlers. ``logging.basicConfig`` (the CLI, the web) sets the root
logger only and leaves these levels alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

# Every logger SpiffWorkflow 3.2.0 creates (``grep -r getLogger SpiffWorkflow``), and their parent.
SPIFF_LOGGERS = ("spiff", "spiff.workflow", "spiff.task", "spiff.data", "spiff.dmn")


def quiet_library_logs(level: int = logging.WARNING) -> None:
    """Set each SpiffWorkflow logger's own level (the library tests that, not the effective level)."""
    for name in SPIFF_LOGGERS:
        logging.getLogger(name).setLevel(level)


@contextmanager
def library_defaults() -> Iterator[None]:
    """SpiffWorkflow's loggers as the library leaves them (level 0) inside, ours again after.

    For timing stock SpiffWorkflow beside the engine in one process: importing ``engine.workflow`` quiets
    these loggers for everyone, and the details the library builds at level 0 are part of what stock costs.
    """
    saved = {name: logging.getLogger(name).level for name in SPIFF_LOGGERS}
    quiet_library_logs(logging.NOTSET)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
