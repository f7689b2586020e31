"""Resource payloads for test_script_resources.py: code that tries to outgrow its time or memory in one C call.

Each entry: (id, source, expected error, where it runs). "both" payloads are single expressions, so
they run as a gateway condition (in-process) and as a script task (in an evaluator process).
"""

from __future__ import annotations

from typing import Any

from engine.workflow.scripts.errors import ScriptFailed, ScriptLimitExceeded, ScriptRefused, ScriptTimeout

REFUSED, LIMIT, TIMEOUT, FAILED = ScriptRefused, ScriptLimitExceeded, ScriptTimeout, ScriptFailed
BOTH, EXPR, SCRIPT = "both", "expression", "script"
COLLIDING = "k * (2**61 - 1)"  # Python hashes ints modulo 2**61 - 1: these all hash to 0


def p(payload_id: str, source: str, error: type[Any], where: str = SCRIPT) -> tuple[str, str, Any, str]:
    return payload_id, source, error, where


PAYLOADS = [
    # f-strings, as a whole and per field
    p("fstring-doubling", "s = 'a' * 1000\nwhile True:\n    s = f'{s}{s}'", LIMIT),
    p("fstring-two-fields", "s = 'a' * 600000\nt = f'{s}{s}'", LIMIT),
    p("fstring-three-fields", "s = 'a' * 400000\nt = f'{s}-{s}-{s}'", LIMIT),
    p("fstring-repr-doubling", "s = 'ab\\n'\nwhile True:\n    s = f'{s!r}{s!r}'", LIMIT),
    p("fstring-long-constant-plus-fields", "f'{\"x\" * 999999}{amount}{amount}'", LIMIT, BOTH),
    p("fstring-ascii-conversion", "f'{\"中\" * 200000!a}'", LIMIT, BOTH),
    # repr / str of escapes, containers, exceptions, timezone names
    p("repr-doubling", "s = '\\n' * 1000\nwhile True:\n    s = repr(s)", LIMIT),
    p("repr-nul-escapes", "repr('\\x00' * 300000)", LIMIT, BOTH),
    p("str-of-list-of-escapes", "str(['\\n' * 1000] * 400)", LIMIT, BOTH),
    p("str-of-dict-of-tabs", "str({'k': '\\t' * 300000})", LIMIT, BOTH),
    p("repr-of-tuple", "repr(('\\x01' * 200000,))", LIMIT, BOTH),
    p("repr-shared-nesting", "a = ['é\\n' * 10]\nfor i in range(20):\n    a = [a, a]\ns = repr(a)", LIMIT),
    p("repr-exception-args", "repr(ValueError('\\x00' * 300000))", LIMIT, BOTH),
    p("repr-timezone-name", "repr(datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=8), 'x' * 200000)))",
      LIMIT, BOTH),
    # json.dumps growth
    p("json-cjk-doubling", "s = '中' * 100000\nwhile True:\n    s = json.dumps(s)", LIMIT),
    p("json-line-separators", "json.dumps(['\\u2028' * 1000] * 500)", LIMIT, BOTH),
    p("json-astral", "json.dumps('😀' * 100000)", LIMIT, BOTH),
    p("json-small-ints", "json.dumps([[1] * 1000] * 1000)", LIMIT, BOTH),
    p("json-indent", "json.dumps({'a': ['x'] * 100000}, indent=8)", LIMIT, BOTH),
    p("json-quotes", "json.dumps('\"' * 600000)", LIMIT, BOTH),
    p("json-backslashes", "json.dumps('\\\\' * 600000)", LIMIT, BOTH),
    p("json-control-chars-unescaped-ascii-off", "json.dumps('\\x00' * 200000, ensure_ascii=False)", LIMIT, BOTH),
    # padding, width and strftime
    p("strftime-huge-width", "date(2024, 1, 1).strftime('%-99999999d')", REFUSED, BOTH),
    p("fstring-date-width", "f'{date(2024, 1, 1):%099999d}'", REFUSED, BOTH),
    p("strftime-many-fields", "date(2024, 1, 1).strftime('%0999d' * 2000)", LIMIT, BOTH),
    p("strftime-timezone-name", "d = datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=8), 'x' * 100000))\n"
      "s = d.strftime('%Z' * 20)", LIMIT),
    p("fstring-width", "f'{1:>1000000}'", REFUSED, BOTH),
    p("fstring-center-width", "f'{text:^9999}'", REFUSED, BOTH),
    p("fstring-float-precision", "f'{1.5:.99999f}'", REFUSED, BOTH),
    p("fstring-decimal-fixed", "f\"{Decimal('1e999999'):f}\"", REFUSED, BOTH),
    # case mapping that grows text
    p("upper-ffi-ligature", "('\\ufb03' * 400000).upper()", LIMIT, BOTH),
    p("upper-sharp-s", "('ß' * 400000).upper()", LIMIT, BOTH),
    p("upper-iota-dialytika", "('ΐ' * 400000).upper()", LIMIT, BOTH),
    p("title-ligature", "('\\ufb03' * 400000).title()", LIMIT, BOTH),
    p("casefold-sharp-s", "('ß' * 400000).casefold()", LIMIT, BOTH),
    p("swapcase-ff-ligature", "('ﬀ' * 400000).swapcase()", LIMIT, BOTH),
    p("lower-dotted-i", "('İ' * 400000).lower()", LIMIT, BOTH),
    p("capitalize-n-apostrophe", "('ŉ' * 400000).capitalize()", LIMIT, BOTH),
    # isinstance over nested tuples
    p("isinstance-shared-tuple", "t = int\nfor i in range(40):\n    t = (t, t)\nr = isinstance(1, t)", REFUSED),
    p("isinstance-nested-literal", "isinstance(x, ((int, str), float))", REFUSED, BOTH),
    # big integers, hashing and sets
    p("set-of-colliding-ints", f"{{{COLLIDING} for k in range(1, 30000)}}", LIMIT, BOTH),
    p("set-add-colliding", f"s = set()\nfor k in range(1, 30000):\n    s.add({COLLIDING})", LIMIT),
    p("dict-store-colliding", f"d = {{}}\nfor k in range(1, 30000):\n    d[{COLLIDING}] = 1", LIMIT),
    p("set-of-list-colliding", f"set([{COLLIDING} for k in range(30000)])", LIMIT, BOTH),
    p("dict-of-zip-colliding", f"l = [{COLLIDING} for k in range(30000)]\nd = dict(zip(l, l))", LIMIT),
    p("set-union-colliding", f"{{1}}.union([{COLLIDING} for k in range(30000)])", LIMIT, BOTH),
    p("dict-update-colliding", f"d = {{}}\nd.update([({COLLIDING}, 1) for k in range(30000)])", LIMIT),
    p("dict-setdefault-colliding", f"d = {{}}\nfor k in range(1, 30000):\n    d.setdefault({COLLIDING}, 1)",
      LIMIT),
    p("set-of-colliding-decimals", "{Decimal(k) / Decimal(10) ** 40 for k in range(1, 30000)}", LIMIT, BOTH),
    p("tuple-keys-colliding", f"{{(1, {COLLIDING}): 1 for k in range(1, 1000)}}", LIMIT, BOTH),
    p("set-of-huge-ints", "{2**16000 + k for k in range(100)}", LIMIT, BOTH),
    p("list-of-huge-int-range", "list(range(2**16000, 2**16000 + 10**5))", LIMIT, BOTH),
    # C iterators that multiply what they are given
    p("zip-of-a-list-a-thousand-times", "list(zip(*[[0] * 10**6] * 1000))", LIMIT, BOTH),
    p("zip-of-iterators", "list(zip(*[reversed([0] * 10**6) for _ in range(1000)]))", LIMIT, BOTH),
    p("enumerate-from-huge-start", "list(enumerate([0] * 10**6, 2**100))", LIMIT, BOTH),
    # task data a step may store
    p("many-variables", "\n".join(f"v{i} = 'a' * 900000" for i in range(70)), LIMIT),
    p("int-past-json-digits", "x = 2**16000", LIMIT),
    p("int-past-json-digits-nested", "l = [2**15000] * 3", LIMIT),
    p("int-past-json-digits-in-dict", "d = {'k': {'n': 2**14500}}", LIMIT),
    p("nested-too-deep", "a = []\nfor i in range(100):\n    a = [a]", LIMIT),
    p("lone-surrogate", "s = chr(0xd800)", FAILED),
    p("one-variable-too-much-text", "l = ['x' * 500000] * 5", LIMIT),
    p("dict-of-large-texts", "d = {str(i): 'y' * 100000 for i in range(25)}", LIMIT),
    # the earlier classes: loops, recursion, exponents, memory, repeats
    p("while-true", "while True: pass", TIMEOUT),
    p("recursion", "def f():\n    return f()\nf()", LIMIT),
    p("power-tower", "10**10**10", REFUSED, BOTH),
    p("power-of-variable", "amount ** 10**9", LIMIT, BOTH),
    p("list-repeat", "[0] * 10**9", LIMIT, BOTH),
    p("memory-growth", "l = []\nwhile True:\n    l.append('a' * 1000000)", LIMIT),
    p("string-doubling", "s = 'a'\nwhile True:\n    s = s + s", LIMIT),
    p("list-extend-doubling", "l = [0]\nwhile True:\n    l.extend(l)", LIMIT),
    p("int-of-long-string", "int('9' * 100000)", LIMIT, BOTH),
    p("range-loop", "for i in range(10**12): pass", LIMIT),
    p("generator-product", "sum(1 for a in range(10**6) for b in range(10**6))", TIMEOUT, BOTH),
    p("join-bomb", "'x'.join(['a' * 10**5] * 10**3)", LIMIT, BOTH),
    p("replace-quotes", "(\"'\" * 600000).replace(\"'\", \"''\")", LIMIT, BOTH),
]
