"""Script resource limits that hold for single C calls (issue 7), measured through the real script engine.

Scripts with loops or functions run in the evaluator pool (the production path); expressions and
straight-line scripts run in-process with the hardened guards. Every script payload runs in an
evaluator (``straight_line_here=False``), and each straight-line one in-process as well. For every
payload the test measures the CPU time of whoever evaluated it (the limit is CPU time: within it plus
SLACK), the wall time (within the pool's hard cap of 4 x the limit + 1 s, which holds however busy
the machine is) and the memory of the process that evaluated it (the evaluator's peak RSS for
scripts in an evaluator, this process's peak RSS otherwise), then runs a normal script and a normal
condition through the same engine, and the claim diagram through it every few payloads.
"""

from __future__ import annotations

import resource
import threading
import time
from decimal import Decimal
from typing import Any

import pytest

from engine.workflow.scripts.errors import ScriptError, ScriptLimitExceeded, ScriptTimeout
from engine.workflow.scripts.evaluator_pool import KILL_GRACE, shared_pool
from engine.workflow.scripts.evaluator_worker import ADDRESS_HEADROOM
from engine.workflow.scripts.limits import SandboxLimits
from engine.workflow.scripts.sandbox import Sandbox, compile_code
from engine.workflow.scripts.spiff_adapter import make_script_engine
from tests.workflow.resource_payloads import BOTH, EXPR, PAYLOADS, SCRIPT
from tests.workflow.sandbox_support import IN_PROCESS_WALL_SANITY, LIMITS, SLACK, stopped, task_data
from tests.workflow.test_script_allowed import run_claim

MEMORY_SLACK = ADDRESS_HEADROOM  # the evaluator's address-space limit is the script's limit plus this
# Guards opened wide, so only the operating system stops a payload: what an unknown C call would meet.
LOOSE = SandboxLimits(expression_seconds=0.05, script_seconds=0.25, max_memory_bytes=64 * 2**20,
                      max_size=10**12, max_int_bits=10**12, max_task_data_size=10**12)
ALLOCATE_128_MIB = "k = 64 * 2**20\ns = 'ab' * k\nn = len(s)\ns = ''"  # twice the 64 MiB limit, in one C call


@pytest.fixture(scope="module")
def engine() -> Any:
    pool = shared_pool()
    pool.measure = True
    engine = make_script_engine(limits=LIMITS, isolated=True, straight_line_here=False)
    _assert_works(engine)
    return engine


@pytest.fixture(scope="module")
def baseline_rss(engine: Any) -> int:
    """Peak RSS of an evaluator that has run only normal scripts."""
    peak = shared_pool().last.peak_rss_bytes
    assert peak is not None and peak < 200 * 2**20
    return peak


def _assert_works(engine: Any) -> None:
    """A normal script and a normal condition give the right answers through ``engine``."""
    data = task_data()
    engine.environment.execute("total = sum(Decimal(l['amount']) for l in lines)", data)
    assert data["total"] == Decimal("1500.50")
    assert engine.environment.evaluate("amount > 5000 and subject == 'travel'", data) is True


def _targets(where: str) -> list[Any]:
    return [pytest.param(source, error, id=pid) for pid, source, error, target in PAYLOADS if target in (where, BOTH)]


def _peak_rss_of_this_process() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _reset_peak_rss(pid: int | str = "self") -> tuple[int, int] | None:
    """Reset the kernel's peak-RSS mark of ``pid`` (Linux: write 5 to clear_refs) and return (pid, RSS now),
    so the next peak reading is the peak of what ran since; None where the kernel does not allow it."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        with open(f"/proc/{pid}/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
    except OSError:
        return None
    return int(fields["Pid"]), int(fields["VmRSS"].split()[0]) * 1024


def _peak_rss_since_reset(pid: int | str = "self") -> int | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
    except OSError:
        return None
    return int(fields["VmHWM"].split()[0]) * 1024


def _assert_within_time(run: Any, elapsed: float, limit: float) -> None:
    """The evaluator spent at most its CPU limit (plus SLACK) and the parent waited at most its hard cap.

    A killed evaluator's CPU cannot be read any more: the pool kills only once the evaluator has used
    its CPU budget or the wall-clock cap has passed, so the wall cap is what is checked then.
    """
    assert elapsed < limit * 4 + 1 + KILL_GRACE + SLACK, f"took {elapsed:.2f} s"
    if run.cpu_seconds is not None:
        assert run.cpu_seconds < limit + SLACK, f"the evaluator used {run.cpu_seconds:.2f} s of CPU"


def _timed(run: Any, error: type[ScriptError]) -> tuple[ScriptError, float]:
    started = time.perf_counter()
    with pytest.raises(error) as caught:
        run()
    return caught.value, time.perf_counter() - started


def test_there_are_at_least_sixty_payloads():
    assert len(PAYLOADS) >= 60
    assert len(_targets(EXPR)) >= 30


@pytest.mark.slow
@pytest.mark.parametrize(("source", "error"), _targets(SCRIPT))
def test_script_payload_stops_within_its_limits(engine: Any, baseline_rss: int, source: str, error: type[Any]):
    data = task_data()
    # Reset the idle evaluators' peak-RSS marks, so the peak read afterwards is this payload's alone.
    before = {pid: rss for pid, rss in filter(None, (_reset_peak_rss(e.pid) for e in shared_pool()._idle))}
    caught, elapsed = _timed(lambda: engine.environment.execute(source, data), error)
    last = shared_pool().last
    _assert_within_time(last, elapsed, LIMITS.script_seconds)
    assert caught.kind == "script" and caught.source == source, "the error must name the code it came from"
    if last.peak_rss_bytes is not None:  # None: the evaluator was killed and is gone
        grown = last.peak_rss_bytes - before.get(last.pid, baseline_rss)
        assert grown < LIMITS.max_memory_bytes + MEMORY_SLACK, f"the evaluator grew by {grown >> 20} MiB"
    assert data == task_data(), "a failed script leaves the task data as it was"
    _assert_works(engine)


@pytest.mark.parametrize(("source", "error"), _targets(EXPR))
def test_expression_payload_stops_within_its_limits(engine: Any, source: str, error: type[Any]):
    reset = _reset_peak_rss()  # this process's peak-RSS mark, so the peak afterwards is this payload's
    before = reset[1] if reset else _peak_rss_of_this_process()
    result = stopped(lambda: engine.environment.evaluate(source, task_data()), error)
    caught = result.error
    assert result.cpu < LIMITS.expression_seconds + SLACK, f"used {result.cpu:.2f} s of CPU"
    assert result.wall < IN_PROCESS_WALL_SANITY, f"took {result.wall:.2f} s"
    assert caught.kind == "expression" and caught.source
    peak = _peak_rss_since_reset() if reset else _peak_rss_of_this_process()
    grown = (peak or 0) - before
    assert grown < LIMITS.max_memory_bytes + MEMORY_SLACK, f"this process grew by {grown >> 20} MiB"
    _assert_works(engine)


def _straight_line_scripts() -> list[Any]:
    found = []
    for param in _targets(SCRIPT):
        source = param.values[0]
        try:
            straight = compile_code(source, "script", LIMITS).straight_line
        except ScriptError:
            continue  # refused when compiled: no run at all
        if straight:
            found.append(param)
    return found


class NoEvaluator:
    def call(self, request: dict[str, Any], seconds: float) -> dict[str, Any]:
        raise AssertionError("a straight-line script reached an evaluator")


@pytest.fixture(scope="module")
def in_process() -> Any:
    engine = make_script_engine(limits=LIMITS, isolated=True)
    engine.environment.scripts._pool = NoEvaluator()
    _assert_works(engine)
    return engine


def test_most_script_payloads_are_straight_line():
    assert len(_straight_line_scripts()) >= 40


@pytest.mark.parametrize(("source", "error"), _straight_line_scripts())
def test_straight_line_script_payload_stops_in_process(in_process: Any, source: str, error: type[Any]):
    """What the expression payloads prove for one guarded operation holds for a few in a row."""
    reset = _reset_peak_rss()
    before = reset[1] if reset else _peak_rss_of_this_process()
    data = task_data()
    result = stopped(lambda: in_process.environment.execute(source, data), error)
    assert result.cpu < LIMITS.script_seconds + SLACK, f"used {result.cpu:.2f} s of CPU"
    assert result.wall < IN_PROCESS_WALL_SANITY, f"took {result.wall:.2f} s"
    assert result.error.kind == "script" and result.error.source == source
    peak = _peak_rss_since_reset() if reset else _peak_rss_of_this_process()
    assert (peak or 0) - before < LIMITS.max_memory_bytes + MEMORY_SLACK, "this process grew too much"
    assert data == task_data(), "a failed script leaves the task data as it was"
    _assert_works(in_process)


def test_the_claim_diagram_runs_after_the_payloads(engine: Any):
    wf = run_claim(["4000", "2500.50"], engine=engine)
    [task] = [t for t in wf.get_tasks() if t.task_spec.bpmn_id == "manager_approval"]
    assert task.data["total"] == Decimal("6500.50") and task.data["sla_hours"] == 8


# ---------------------------------------------------------------- the operating system's limits


def test_negative_control_one_c_call_outruns_the_in_process_budget():
    """Without the evaluator, a C call the guards let through runs far past the limit."""
    sandbox = Sandbox(limits=SandboxLimits(script_seconds=0.05, max_int_bits=10**12))
    started = time.perf_counter()
    with pytest.raises(ScriptLimitExceeded):  # not stopped: it only fails afterwards, storing the result
        sandbox.execute("e = 3_000_000\nx = 3 ** e", {})  # a variable: constants are folded at compile time
    assert time.perf_counter() - started > 4 * 0.05


@pytest.mark.slow
def test_the_evaluator_is_killed_at_its_deadline_and_replaced():
    engine = make_script_engine(limits=LOOSE, isolated=True, straight_line_here=False)
    pool = shared_pool()
    source = "e = 10**7\nx = 3 ** e"  # ~8 s in one C call; a variable, as constants are folded at compile time
    caught, elapsed = _timed(lambda: engine.environment.execute(source, {}), ScriptTimeout)
    killed = pool.last
    _assert_within_time(killed, elapsed, LOOSE.script_seconds)
    assert killed.killed and "killed" in str(caught) and caught.kind == "script"
    _assert_works(engine)
    assert pool.last.pid != killed.pid, "the next script ran in a new evaluator"
    run_claim(["120", "80"], engine=engine)


@pytest.mark.slow
def test_negative_control_one_allocation_passes_the_in_process_memory_check():
    """In-process, a single allocation the guards let through is only noticed after it happened."""
    sandbox = Sandbox(limits=LOOSE)
    reset = _reset_peak_rss()
    if reset is None:
        pytest.skip("this kernel does not let a process reset its peak-RSS mark")
    data: dict[str, Any] = {}
    sandbox.execute(ALLOCATE_128_MIB, data)
    assert data["n"] == 128 * 2**20
    assert (_peak_rss_since_reset() or 0) - reset[1] > LOOSE.max_memory_bytes


@pytest.mark.slow
def test_the_evaluator_address_space_limit_refuses_the_same_allocation(baseline_rss: int):
    engine = make_script_engine(limits=LOOSE, isolated=True, straight_line_here=False)
    caught, elapsed = _timed(lambda: engine.environment.execute(ALLOCATE_128_MIB, {}), ScriptLimitExceeded)
    _assert_within_time(shared_pool().last, elapsed, LOOSE.script_seconds)
    assert "MemoryError" in str(caught), str(caught)
    peak = shared_pool().last.peak_rss_bytes
    assert peak is None or peak - baseline_rss < LOOSE.max_memory_bytes + MEMORY_SLACK
    _assert_works(engine)


@pytest.mark.slow
def test_concurrent_callers_each_get_an_evaluator():
    engine = make_script_engine(limits=LIMITS, isolated=True, straight_line_here=False)
    results: list[tuple[type, float]] = []

    def run() -> None:
        started = time.perf_counter()
        try:
            engine.environment.execute("while True: pass", {})
        except ScriptError as err:
            results.append((type(err), time.perf_counter() - started))

    threads = [threading.Thread(target=run) for _ in range(shared_pool().size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [kind for kind, _ in results] == [ScriptTimeout] * len(threads)
    # The limit is CPU time: with every core busy a script gets less than a core, so the parent waits
    # longer, up to its hard wall-clock cap of four times the limit plus a second.
    cap = LIMITS.script_seconds * 4 + 1 + KILL_GRACE
    assert all(elapsed < cap + SLACK for _, elapsed in results), results
    _assert_works(engine)


def test_an_evaluator_that_died_while_idle_is_replaced_transparently(engine: Any):
    test_concurrent_callers_each_get_an_evaluator()  # leaves the whole pool idle
    idle = list(shared_pool()._idle)
    assert idle
    for evaluator in idle:
        evaluator.proc.kill()
        evaluator.proc.wait(timeout=10)
    _assert_works(engine)
    assert shared_pool().last.pid not in {e.pid for e in idle}
