"""Each in-memory path runs under SpiffWorkflow's default script environment and under the sandboxed one."""

import pytest


@pytest.fixture(params=["default", "restricted"])
def restricted(request):
    return request.param == "restricted"
