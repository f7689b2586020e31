"""One sandbox for the module, with the tight limits of sandbox_support."""

import pytest

from engine.workflow.scripts.sandbox import Sandbox
from tests.workflow.sandbox_support import LIMITS


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return Sandbox(limits=LIMITS)
