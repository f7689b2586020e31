"""One sandbox for the module, with the tight limits of sandbox_support."""

import gc
from collections.abc import Iterator

import pytest

from engine.workflow.scripts.sandbox import Sandbox
from tests.workflow.sandbox_support import LIMITS


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    # The limits are the script's own CPU time. In production scripts run in small evaluator processes; here
    # they run inside the test process, whose heap holds every earlier test's objects, and a full garbage
    # collection over it (triggered by a payload's garbage) is charged to the payload: one such pass cost an
    # exponential-recursion payload 5.6 s of CPU in a full CI run. Frozen objects are not scanned, so the
    # payloads meet the heap an evaluator has.
    gc.collect()
    gc.freeze()
    try:
        yield Sandbox(limits=LIMITS)
    finally:
        gc.unfreeze()
