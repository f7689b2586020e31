"""Diagram code: the sandbox that checks, compiles and runs BPMN expressions and scripts.

Expressions (gateway conditions, timers, service parameters, completion conditions, DMN cells)
and scripts (script tasks, pre/post scripts) share one pipeline:

1. parse, then check every node against an allow-list (``policy.py``; expressions get the
   smaller one);
2. RestrictedPython's transformer (``_getattr_``, ``_getitem_``, ``_write_`` ...), extended by
   ``rewriter.py`` to route size-changing operators, comparisons, hash keys and f-string fields
   through the run-time guards (``guards.py``, the text-writing ones in ``text_guards.py``) and
   to put a ``_tick_()`` budget check in every loop, function and comprehension;
3. compile once per source (LRU cache) and run with the names of ``namespace.py`` (safe builtins,
   ``math``/``json`` proxies, the business helpers of ``helpers.py``) under the limits of
   ``limits.py``, then check what a script leaves in task data (``storable.py``): ``sandbox.py``.

Every failure is a ``ScriptError`` (``errors.py``). Scripts run in evaluator processes under
kernel limits: ``isolation.py`` keeps SpiffWorkflow's semantics across the process boundary,
``evaluator_pool.py`` starts, times and kills the processes, ``evaluator_worker.py`` is the
process itself and ``evaluator_wire.py`` the tagged-JSON protocol between them.
``spiff_adapter.py`` wires the sandbox into SpiffWorkflow's script engine. docs/scripts.md says
what diagram code may do and why the limits are enforced this way.
"""
