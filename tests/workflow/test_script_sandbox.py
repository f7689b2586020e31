"""Sandbox escapes (docs/scripts.md): diagram expressions and scripts cannot escape, and cannot run away.

Every payload must be refused (at compile time or run time, with a ScriptError naming the code)
or stopped within its limit. Limits are lowered here so the suite stays fast; one test per kind
checks the defaults.
"""

from __future__ import annotations

import decimal
import os
from typing import Any

import pytest
from RestrictedPython import safe_globals

from engine.workflow.scripts.errors import (
    ScriptError,
    ScriptFailed,
    ScriptLimitExceeded,
    ScriptRefused,
    ScriptTimeout,
)
from engine.workflow.scripts.limits import SandboxLimits
from engine.workflow.scripts.sandbox import Sandbox
from tests.workflow.sandbox_support import IN_PROCESS_WALL_SANITY, LIMITS, SLACK, stopped, task_data

ESCAPE_FILE = "/tmp/budgetflow-sandbox-escape"

REFUSED, LIMIT, TIMEOUT, FAILED = ScriptRefused, ScriptLimitExceeded, ScriptTimeout, ScriptFailed
BOTH, EXPR, SCRIPT = "both", "expression", "script"


def p(payload_id: str, source: str, error: type[ScriptError], where: str = BOTH) -> tuple[str, str, Any, str]:
    return payload_id, source, error, where


PAYLOADS = [
    # imports
    p("import-os", "import os", REFUSED, SCRIPT),
    p("from-os-import-system", "from os import system", REFUSED, SCRIPT),
    p("dunder-import-call", "__import__('os').system('id')", REFUSED),
    p("import-inside-function", "def f():\n    import os\nf()", REFUSED, SCRIPT),
    p("builtins-name", "__builtins__", REFUSED),
    p("builtins-subscript", "__builtins__['open']('/etc/passwd')", REFUSED),
    p("importlib-by-name", "importlib.import_module('os')", FAILED),
    # dunder walks
    p("subclasses-walk", "().__class__.__base__.__subclasses__()", REFUSED),
    p("mro-walk", "x.__class__.__mro__", REFUSED),
    p("str-mro-subclasses", "''.__class__.__mro__[1].__subclasses__()", REFUSED),
    p("object-subclasses", "object.__subclasses__()", REFUSED),
    p("dict-attribute", "x.__dict__", REFUSED),
    p("fullwidth-letters-normalised", "x.__\uff43lass__", REFUSED),  # NFKC makes it __class__
    p("function-globals", "def f():\n    pass\ng = f.__globals__", REFUSED, SCRIPT),
    p("function-code", "def f():\n    pass\nc = f.__code__", REFUSED, SCRIPT),
    p("helper-globals", "round_money.__globals__['Decimal']", REFUSED),
    p("helper-attribute", "round_money.func_globals", REFUSED),
    p("generator-frame-back", "g = (i for i in [1])\nf = g.gi_frame.f_back", REFUSED, SCRIPT),
    p("generator-code", "(i for i in [1]).gi_code", REFUSED),
    p("coroutine-frame", "x.cr_frame", REFUSED),
    p("async-def", "async def f():\n    pass", REFUSED, SCRIPT),
    p("frame-globals", "x.f_globals", REFUSED),
    p("traceback-frame", "try:\n    1/0\nexcept ZeroDivisionError as e:\n    t = e.__traceback__.tb_frame",
      REFUSED, SCRIPT),
    p("exception-method", "try:\n    1/0\nexcept ZeroDivisionError as e:\n    t = e.with_traceback", REFUSED, SCRIPT),
    p("generator-function", "def g():\n    yield 1", REFUSED, SCRIPT),
    p("class-definition", "class A:\n    pass", REFUSED, SCRIPT),
    p("guarded-type-attribute", "int.mro()", REFUSED),
    p("dict-fromkeys", "dict.fromkeys(range(10))", REFUSED),
    # builtins
    p("getattr-concat", "getattr(x, '__cl' + 'ass__')", REFUSED),
    p("vars", "vars()", REFUSED),
    p("globals", "globals()", REFUSED),
    p("locals", "locals()", REFUSED),
    p("type-of", "type(x)", REFUSED),
    p("type-new-class", "type('X', (), {})", REFUSED),
    p("super", "super()", REFUSED),
    p("eval", "eval('1 + 1')", REFUSED),
    p("exec", "exec('y = 1')", REFUSED),
    p("compile", "compile('1', 'f', 'eval')", REFUSED),
    p("open-passwd", "open('/etc/passwd').read()", REFUSED),
    p("open-write", f"open('{ESCAPE_FILE}', 'w')", REFUSED),
    p("open-by-alias", f"o = open\no('{ESCAPE_FILE}', 'w')", FAILED, SCRIPT),
    p("input", "input()", REFUSED),
    p("breakpoint", "breakpoint()", REFUSED),
    p("help", "help()", REFUSED),
    p("memoryview", "memoryview(text)", REFUSED),
    p("dir", "dir(x)", REFUSED),
    p("print", "print(x)", REFUSED),
    p("bytes-literal", "b'abc'", REFUSED),
    # str.format / f-string tricks
    p("format-class", "'{0.__class__}'.format(1)", REFUSED),
    p("format-map-globals", "'{x.__init__.__globals__}'.format_map({'x': x})", REFUSED),
    p("format-dict-lookup", "'{0[a]}'.format({'a': 1})", REFUSED),
    p("unbound-str-format", "str.format('{0.__class__}', 1)", REFUSED),
    p("fstring-repr-dunder", "f'{x.__class__!r}'", REFUSED),
    p("fstring-computed-spec", "f'{x:{10**9}}'", REFUSED),
    p("fstring-width-bomb", "f'{x:1000000000}'", REFUSED),
    p("percent-format", "'%s' % x", REFUSED),
    p("percent-width-bomb", "'%1000000000d' % 1", REFUSED),
    p("decimal-fixed-format-bomb", "f\"{Decimal('1e999999'):f}\"", REFUSED),
    # attribute access and writes by name
    p("setattr", "setattr(x, 'y', 1)", REFUSED),
    p("delattr", "delattr(x, 'y')", REFUSED),
    p("hasattr", "hasattr(x, '__class__')", REFUSED),
    p("decimal-dunder-write", "Decimal.__add__ = None", REFUSED, SCRIPT),
    p("decimal-method-write", "Decimal.quantize = None", REFUSED, SCRIPT),
    p("math-pi-write", "math.pi = 3", REFUSED, SCRIPT),
    p("date-today-write", "date.today = None", REFUSED, SCRIPT),
    p("json-loads-write", "json.loads = 1", REFUSED, SCRIPT),
    p("string-attribute-write", "del text.upper", REFUSED, SCRIPT),
    # json and decimal
    p("json-decoder-init", "json.JSONDecoder.__init__", REFUSED),
    p("json-decoder-class", "json.JSONDecoder", REFUSED),
    p("json-dumps-globals", "json.dumps.__globals__", REFUSED),
    p("decimal-getcontext", "decimal.getcontext().prec = 1", FAILED, SCRIPT),
    p("decimal-class-getcontext", "Decimal.getcontext", REFUSED),
    p("int-of-huge-decimal", "int(Decimal('1e999999'))", LIMIT),
    p("round-of-huge-decimal", "round(Decimal('1e999999'))", LIMIT),
    p("floor-of-huge-decimal", "math.floor(Decimal('1e999999'))", LIMIT),
    p("int-of-long-string", "int('9' * 100000)", LIMIT),
    p("json-long-integer", "json.loads('9' * 100000)", LIMIT),
    p("decimal-of-a-million-digits", "Decimal('1' * 10**6) * Decimal('3' * 10**6)", LIMIT),
    # endless loops and CPU bombs
    p("while-true-one-line", "while True: pass", TIMEOUT, SCRIPT),
    p("while-true-counter", "i = 0\nwhile True:\n    i += 1", TIMEOUT, SCRIPT),
    p("for-range-10-12", "for i in range(10**12): pass", LIMIT, SCRIPT),
    p("nested-for", "for i in range(10**6):\n    for j in range(10**6):\n        pass", TIMEOUT, SCRIPT),
    p("generator-product", "sum(1 for a in range(10**6) for b in range(10**6))", TIMEOUT),
    p("comprehension-false-filter", "[a for a in range(10**6) for b in range(10**6) if False]", TIMEOUT),
    p("c-level-sum-range", "sum(range(10**12))", LIMIT),
    p("timeout-swallowed-by-except", "while True:\n    try:\n        while True: pass\n    except Exception:\n"
      "        pass", TIMEOUT, SCRIPT),
    p("loop-in-finally", "try:\n    while True: pass\nfinally:\n    while True: pass", TIMEOUT, SCRIPT),
    p("bare-except", "try:\n    y = 1\nexcept:\n    pass", REFUSED, SCRIPT),
    p("exponential-recursion", "def f():\n    try:\n        f()\n    except RecursionError:\n        f()\nf()",
      TIMEOUT, SCRIPT),
    # memory bombs
    p("str-times-10-10", "'a' * 10**10", REFUSED),
    p("list-times-10-9", "[0] * 10**9", LIMIT),
    p("pow-tower", "10**10**10", REFUSED),
    p("shift-10-10", "1 << 10**10", REFUSED),
    p("pow-2-2-40", "2**(2**40)", REFUSED),
    p("pow-of-variable", "amount ** 10**9", LIMIT),
    p("augmented-pow", "y = amount\ny **= 10**9", LIMIT, SCRIPT),
    p("augmented-item-growth", "s = {'x': 'a' * 1000}\nwhile True:\n    s['x'] += s['x']", LIMIT, SCRIPT),
    p("augmented-item-dunder-container", "__builtins__['open'] += 1", REFUSED, SCRIPT),
    p("augmented-item-dunder-key", "d = {}\nd[__name__] += 1", REFUSED, SCRIPT),
    p("augmented-item-call-key", "d = {}\nd[getattr(d, 'x')] += 1", REFUSED, SCRIPT),
    p("augmented-attribute", "x.real += 1", REFUSED, SCRIPT),
    p("list-of-range-10-9", "list(range(10**9))", LIMIT),
    p("join-bomb", "'x'.join(['a' * 10**5] * 10**3)", LIMIT),
    p("replace-bomb", "('a' * 10**5).replace('a', 'a' * 1000)", LIMIT),
    p("string-doubling", "s = 'a'\nwhile True:\n    s = s + s", LIMIT, SCRIPT),
    p("list-extend-doubling", "l = [0]\nwhile True:\n    l.extend(l)", LIMIT, SCRIPT),
    p("list-iadd-doubling", "l = [0]\nwhile True:\n    l += l", LIMIT, SCRIPT),
    p("star-unpack-doubling", "l = [0]\nl = [*l, *l]", REFUSED, SCRIPT),
    p("slice-assign-doubling", "l = [0]\nl[len(l):] = l", REFUSED, SCRIPT),
    p("memory-growth", "l = []\nwhile True:\n    l.append('a' * 1000000)", LIMIT, SCRIPT),
    p("memory-without-loops", "(" + ", ".join(["[0] * 10**6"] * 100) + ")", LIMIT),
    p("shared-list-equality", "a = [0]\nb = [0]\nfor i in range(60):\n    a = [a, a]\n    b = [b, b]\nc = a == b",
      LIMIT, SCRIPT),
    p("shared-list-in-iterator", "a = [0]\nb = [0]\nfor i in range(40):\n    a = [a, a]\n    b = [b, b]\n"
      "c = a in reversed([b] * 1000)", LIMIT, SCRIPT),
    p("shared-tuple-hash", "t = (0,)\nfor i in range(60):\n    t = (t, t)\nd = {t: 1}", LIMIT, SCRIPT),
    p("shared-tuple-repr", "t = (0,)\nfor i in range(60):\n    t = (t, t)\ns = str(t)", LIMIT, SCRIPT),
    p("shared-tuple-json", "t = [0]\nfor i in range(60):\n    t = [t, t]\ns = json.dumps(t)", LIMIT, SCRIPT),
    p("self-reference-stored", "a = []\na.append(a)", LIMIT, SCRIPT),
    # recursion, lambdas, closures
    p("direct-recursion", "def f():\n    return f()\nf()", LIMIT, SCRIPT),
    p("lambda-recursion", "f = lambda n: f(n)\nf(1)", LIMIT, SCRIPT),
    p("lambda-in-expression", "(lambda: 1)()", REFUSED, EXPR),
    p("walrus-in-expression", "(y := 1)", REFUSED, EXPR),
    p("closure-cells", "def f():\n    y = 1\n    def g():\n        return y\n    return g\nc = f().__closure__",
      REFUSED, SCRIPT),
    p("lambda-defaults", "f = lambda: 1\nd = f.__defaults__", REFUSED, SCRIPT),
    p("function-attribute", "def f():\n    pass\nn = f.func_code", REFUSED, SCRIPT),
    p("global-statement", "def f():\n    global x\n    x = 2", REFUSED, SCRIPT),
    p("with-statement", f"with open('{ESCAPE_FILE}', 'w') as f:\n    pass", REFUSED, SCRIPT),
    p("match-statement", "match x:\n    case _:\n        pass", REFUSED, SCRIPT),
]


def _targets(where: str) -> list[Any]:
    return [pytest.param(source, error, id=pid) for pid, source, error, target in PAYLOADS if target in (where, BOTH)]




def _assert_stopped(run: Any, error: type[ScriptError], limit: float) -> ScriptError:
    result = stopped(run, error)
    assert result.cpu < limit + SLACK, f"used {result.cpu:.2f} s of CPU"  # the limit is CPU time
    assert result.wall < IN_PROCESS_WALL_SANITY, f"took {result.wall:.2f} s"
    assert result.error.kind and result.error.source, "the error must name the code it came from"
    return result.error


@pytest.mark.parametrize(("source", "error"), _targets(EXPR))
def test_expression_payload_is_refused_or_stopped(sandbox: Sandbox, source: str, error: type[ScriptError]):
    _assert_stopped(lambda: sandbox.evaluate(source, task_data()), error, LIMITS.expression_seconds)


@pytest.mark.parametrize(("source", "error"), _targets(SCRIPT))
def test_script_payload_is_refused_or_stopped(sandbox: Sandbox, source: str, error: type[ScriptError]):
    data = task_data()
    _assert_stopped(lambda: sandbox.execute(source, data), error, LIMITS.script_seconds)
    assert not any(k.startswith("_") for k in data), "guard names must not leak into task data"


def test_there_are_at_least_fifty_payloads_per_target():
    assert len(PAYLOADS) >= 50
    assert len(_targets(EXPR)) >= 50 and len(_targets(SCRIPT)) >= 50


def test_payloads_left_no_trace():
    assert not os.path.exists(ESCAPE_FILE)
    assert decimal.getcontext().prec == 28


def test_plain_exec_with_safe_globals_reaches_os_wrap_close(sandbox: Sandbox):
    """The control (S6): RestrictedPython's safe_globals without compile_restricted is no sandbox."""
    escape = ("found = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close']\n"
              "pid = found[0].__init__.__globals__['getpid']()")
    namespace = dict(safe_globals)
    exec(escape, namespace)  # the library's default engine does exactly this
    assert namespace["pid"] == os.getpid()
    with pytest.raises(ScriptRefused, match="'__class__' is not allowed"):
        sandbox.execute(escape, {})


def test_refusal_names_the_attribute_the_code_and_the_reason(sandbox: Sandbox):
    with pytest.raises(ScriptRefused) as caught:
        sandbox.evaluate("x.__class__", {"x": 1})
    assert str(caught.value) == ("attribute '__class__' is not allowed in expression \"x.__class__\": "
                                 "names starting with '_' are internal")


def test_script_errors_carry_the_line(sandbox: Sandbox):
    with pytest.raises(ScriptFailed) as caught:
        sandbox.execute("a = 1\nb = {}\nc = b['missing']\n", {})
    assert caught.value.lineno == 3
    assert "KeyError: 'missing' in script line 3 \"c = b['missing']\"" in str(caught.value)


@pytest.mark.parametrize(("kind", "source", "limit"), [
    ("script", "while True: pass", SandboxLimits().script_seconds),
    ("expression", "sum(1 for a in range(10**6) for b in range(10**6))", SandboxLimits().expression_seconds),
])
def test_default_limits_stop_runaway_code(kind: str, source: str, limit: float):
    default = Sandbox()
    run = default.evaluate if kind == "expression" else default.execute
    error = _assert_stopped(lambda: run(source, {}), ScriptTimeout, limit)
    assert f"{limit:g} s limit" in str(error)
