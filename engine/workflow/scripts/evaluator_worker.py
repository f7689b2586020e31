"""The script evaluator process: runs diagram scripts where the operating system enforces the limits.

Started by ``evaluator_pool.py`` as ``python -I -c ...`` (a fresh interpreter, never a fork of the
threaded engine). It reads one request per line on stdin, runs the script through the same
``Sandbox`` the engine uses in-process (so refusals and limit errors are just as precise) and
writes one response line on its private copy of stdout. Around each script the kernel holds the
limits the in-process guards cannot: ``RLIMIT_AS`` (address space: a single C call that allocates
too much gets MemoryError) and ``RLIMIT_CPU`` (a backstop: SIGXCPU kills a process stuck in C).
The parent's wall-clock deadline is the final word: it kills and replaces the process.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from typing import Any, BinaryIO

from engine.workflow.scripts import evaluator_wire as wire
from engine.workflow.scripts.errors import ScriptError
from engine.workflow.scripts.limits import SandboxLimits
from engine.workflow.scripts.sandbox import Sandbox

if sys.platform == "win32":  # no kernel limits to set: the parent's deadline still holds
    resource = None
else:
    import resource

ADDRESS_HEADROOM = 32 * 2**20  # interpreter, allocator arenas and the reply on top of the script's own limit
_sandboxes: dict[tuple[Any, ...], Sandbox] = {}


def _resolve(name: str) -> Any:
    """An extra global by ``module:qualname`` (named by the engine, never by diagram code)."""
    module_name, _, qualname = name.partition(":")
    value: Any = import_module(module_name)
    for part in qualname.split("."):
        value = getattr(value, part)
    return value


def _sandbox(limits: list[Any], extras: dict[str, str]) -> Sandbox:
    key = (*limits, *sorted(extras.items()))
    sandbox = _sandboxes.get(key)
    if sandbox is None:
        if len(_sandboxes) > 16:
            _sandboxes.clear()
        extra_globals = {name: _resolve(target) for name, target in extras.items()}
        sandbox = _sandboxes[key] = Sandbox(extra_globals or None, SandboxLimits(*limits))
    return sandbox


_statm: list[int] = []  # the open /proc/self/statm: read with pread, not reopened per script
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _vm_bytes() -> int:
    if not _statm:
        _statm.append(os.open("/proc/self/statm", os.O_RDONLY))
    return int(os.pread(_statm[0], 64, 0).split()[0]) * _PAGE_SIZE


def _cpu_seconds() -> float:
    usage = os.times()
    return usage.user + usage.system


def _set_soft_limit(which: int, soft: int) -> None:
    """Soft limits only, never above the hard limit the evaluator was started with (containers set one)."""
    hard = resource.getrlimit(which)[1]
    if hard != resource.RLIM_INFINITY:
        soft = hard if soft == resource.RLIM_INFINITY else min(soft, hard)
    try:
        resource.setrlimit(which, (soft, hard))
    except (OSError, ValueError):
        pass  # the other limits and the parent's deadline still hold


def _hold_limits(limits: SandboxLimits) -> None:
    """Soft limits for this script: address space from here, and CPU time from now."""
    if resource is None:
        return
    try:
        _set_soft_limit(resource.RLIMIT_AS, _vm_bytes() + limits.max_memory_bytes + ADDRESS_HEADROOM)
    except (OSError, ValueError):
        pass  # no /proc: the in-process memory sampling still applies
    _set_soft_limit(resource.RLIMIT_CPU, int(_cpu_seconds() + limits.script_seconds) + 2)


def _release_limits() -> None:
    """Between scripts the evaluator only encodes and waits: give it room to write the reply."""
    if resource is not None:
        _set_soft_limit(resource.RLIMIT_AS, resource.RLIM_INFINITY)


def _error(err: ScriptError) -> dict[str, Any]:
    return {"type": type(err).__name__, "what": err.what, "why": err.why, "lineno": err.lineno}


def handle(request: dict[str, Any]) -> dict[str, Any]:
    """Run one script request; the reply carries the task data the script leaves, or its error."""
    sandbox = _sandbox(request["limits"], request.get("extras") or {})
    data, external = wire.decode(request["data"]), wire.decode(request["external"])
    _hold_limits(sandbox.limits)
    try:
        sandbox.execute(request["source"], data, external)
    except ScriptError as err:
        return {"ok": False, "error": _error(err), "retire": isinstance(err.__cause__, MemoryError)}
    except MemoryError:
        return {"ok": False, "error": {"type": "ScriptLimitExceeded", "what": "the script ran out of memory",
                                       "why": "the evaluator's address-space limit was reached"}, "retire": True}
    finally:
        _release_limits()
    return {"ok": True, "data": wire.encode(data)}


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    replies.write(wire.dumps({"ready": True, "cpu": _cpu_seconds()}))
    replies.flush()
    for line in iter(requests.readline, b""):
        request = wire.loads(line)
        try:
            reply = handle(request)
        except (wire.WireError, wire.Unencodable, MemoryError) as exc:
            reply = {"ok": False, "error": {"type": "ScriptFailed", "what": f"the evaluator failed: {exc}"[:500]},
                     "retire": True}
        reply.update(id=request.get("id"), cpu=_cpu_seconds())
        replies.write(wire.dumps(reply))
        replies.flush()
        if reply.get("retire"):
            return  # a process that ran out of memory may be in a bad state: the pool starts a new one


def main() -> None:
    # Our replies get a private descriptor; fd 1 then points at stderr, so nothing the
    # interpreter prints (warnings, a crash) can corrupt the protocol.
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    if resource is not None:
        _set_soft_limit(resource.RLIMIT_CORE, 0)  # SIGXCPU would otherwise dump core
    serve(sys.stdin.buffer, replies)
