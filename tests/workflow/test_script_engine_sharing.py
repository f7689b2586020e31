"""Script engines share one Sandbox per set of limits, and answer SpiffWorkflow's syntax check per text."""

from __future__ import annotations

import pytest

from engine.workflow.scripts.helpers import round_money
from engine.workflow.scripts.limits import SandboxLimits
from engine.workflow.scripts.spiff_adapter import make_script_engine
from engine.workflow.service_tasks import new_script_engine


def test_engines_without_extra_globals_share_a_sandbox_per_limits() -> None:
    first, second = new_script_engine(), new_script_engine()
    assert first is not second and first.environment.sandbox is second.environment.sandbox
    tight = SandboxLimits(script_seconds=0.5)
    assert make_script_engine(limits=tight).environment.sandbox is make_script_engine(limits=tight).environment.sandbox
    assert make_script_engine(limits=tight).environment.sandbox is not first.environment.sandbox
    extra = make_script_engine({"rm": round_money}).environment.sandbox  # its own names: its own sandbox
    assert extra is not first.environment.sandbox
    assert "rm" in extra.public and "rm" not in first.environment.sandbox.public


def test_a_shared_sandbox_keeps_no_data_between_runs() -> None:
    first, second = new_script_engine(), new_script_engine()
    data = {"amount": 5}
    first.environment.execute("secret = amount * 2", data)
    assert data == {"amount": 5, "secret": 10}
    other: dict[str, int] = {}
    with pytest.raises(Exception, match="secret"):
        second.environment.execute("leak = secret", other)
    assert other == {}


@pytest.mark.parametrize("text", ["> 20000", "x >", "'open"])
def test_validate_raises_a_new_syntax_error_each_time(text: str) -> None:
    engine = new_script_engine()
    errors = []
    for _ in range(2):
        with pytest.raises(SyntaxError) as caught:
            engine.validate(text)
        errors.append(caught.value)
    assert errors[0] is not errors[1] and errors[0].args == errors[1].args


def test_validate_accepts_what_parses() -> None:
    engine = new_script_engine()
    engine.validate("amount_value > 20000")
    engine.validate("'TRAVEL'")
