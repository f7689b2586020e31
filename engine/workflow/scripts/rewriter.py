"""Compile-time half of the sandbox: RestrictedPython's transformer, extended with our guards.

``_Rewriter`` routes size-changing operators, comparisons, hash keys and f-string fields through
the guards of ``guards.py`` and puts a ``_tick_()`` budget check in every loop, function and
comprehension. ``rewriter_for`` is the policy ``sandbox.py`` hands to RestrictedPython's compiler.
"""

from __future__ import annotations

import ast
import copy
import functools
from collections.abc import Iterable
from typing import Any, TypeVar

from RestrictedPython.transformer import IOPERATOR_TO_STR, RestrictingNodeTransformer, copy_locations

from engine.workflow.scripts.errors import Abort
from engine.workflow.scripts.guards import Guards
from engine.workflow.scripts.limits import SandboxLimits

_GUARDED_OPS = {ast.Add: "+", ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<", ast.Mod: "%", ast.BitOr: "|",
                ast.BitXor: "^"}
_COMPARE_SYMBOLS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
                    ast.In: "in", ast.NotIn: "not in"}


_N = TypeVar("_N", bound=ast.AST)
_Loop = TypeVar("_Loop", ast.For, ast.While, ast.FunctionDef)  # the nodes whose body gets a _tick_()


def _same(kind: type[_N], visited: ast.AST | Iterable[ast.AST] | None) -> _N:
    """What RestrictedPython's visitor made of a ``kind`` node. Its visitors are typed to return any
    node, several or none; for the kinds rewritten here they return the node itself, transformed."""
    if not isinstance(visited, kind):
        raise TypeError(f"RestrictedPython turned a {kind.__name__} into {type(visited).__name__}")
    return visited


def _call(name: str, args: list[ast.expr], where: ast.expr | ast.stmt) -> ast.Call:
    node = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    copy_locations(node, where)
    return node


def _plain(node: ast.AST) -> bool:
    """A name or a constant (``-1`` too): evaluating it twice reads the same thing and does nothing else."""
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.operand, ast.Constant)
    return isinstance(node, ast.Name | ast.Constant)


def _is_literal(node: ast.AST) -> bool:
    """Constants and list/tuple displays of constants: comparing with them is cheap."""
    if isinstance(node, ast.Constant):
        return True
    return isinstance(node, (ast.List, ast.Tuple)) and all(isinstance(e, ast.Constant) for e in node.elts)


class _Rewriter(RestrictingNodeTransformer):
    """RestrictedPython's policy plus our guards; ``guards`` is set per limits by ``rewriter_for``.

    Each visitor lets RestrictedPython transform the children first, then wraps the result, so
    the names it inserts (``_binop_``, ``_tick_``...) are never checked against the '_' rule.
    """

    guards: Guards

    def _bounded(self, node: ast.expr) -> ast.expr:
        return node if isinstance(node, ast.Constant) else _call("_bounded_", [node], node)

    def _key(self, node: ast.expr) -> ast.expr:
        """A dict key or set member being stored: bounded, and no number chosen to collide (``check_hash_key``)."""
        if isinstance(node, ast.Constant) and not (type(node.value) is int and node.value.bit_length() > 64):
            return node
        return _call("_key_", [node], node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        node = self.node_contents_visit(node)
        symbol = _GUARDED_OPS.get(type(node.op))
        if symbol is None:
            return node
        left, right = node.left, node.right
        if isinstance(left, ast.Constant) and isinstance(right, ast.Constant):
            return self._fold(node, symbol, left.value, right.value)
        return _call("_binop_", [ast.Constant(symbol), node.left, node.right], node)

    def _fold(self, node: ast.BinOp, symbol: str, left: Any, right: Any) -> ast.AST:
        """Constant operands: compute now, so ``10**10**10`` is refused when the diagram is published."""
        runtime = _call("_binop_", [ast.Constant(symbol), node.left, node.right], node)
        try:
            value = self.guards.binop(symbol, left, right)
        except Abort as abort:
            self.error(node, abort.error.what + (f" ({abort.error.why})" if abort.error.why else ""))
            return node
        except Exception:  # e.g. 1 % 0: leave it to fail at run time, as Python would
            return runtime
        if isinstance(value, str | bytes) and len(value) > 4096:
            return runtime  # allowed, but not worth a big constant in the code object
        folded = ast.Constant(value)
        copy_locations(folded, node)
        return folded

    def visit_Compare(self, node: ast.Compare) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        node = self.node_contents_visit(node)
        operands = [node.left, *node.comparators]
        if len(node.ops) == 1:
            if type(node.ops[0]) not in _COMPARE_SYMBOLS or any(_is_literal(x) for x in operands):
                return node  # ``is``, or a literal side: the C work is bounded by the literal
            symbol = ast.Constant(_COMPARE_SYMBOLS[type(node.ops[0])])
            return _call("_compare_", [node.left, symbol, node.comparators[0]], node)
        bounded = [x if _is_literal(x) else self._bounded(x) for x in operands]
        node.left, node.comparators = bounded[0], bounded[1:]
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        node = self.node_contents_visit(node)
        # check_syntax let through only constant parts in a format spec
        spec_parts = node.format_spec.values if isinstance(node.format_spec, ast.JoinedStr) else []
        spec = "".join(str(v.value) for v in spec_parts if isinstance(v, ast.Constant))
        args: list[ast.expr] = [node.value, ast.Constant(node.conversion), ast.Constant(spec)]
        new = ast.FormattedValue(value=_call("_format_", args, node), conversion=-1, format_spec=None)
        copy_locations(new, node)
        return new

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        """``f'{a}{b}'`` becomes ``_fstring_(_format_(a, ...), _format_(b, ...))``: the sum is checked too."""
        node = self.node_contents_visit(node)
        if not any(isinstance(v, ast.FormattedValue) for v in node.values):
            return node  # only constants (a format spec, or f'text'): nothing to bound
        parts = [v.value if isinstance(v, ast.FormattedValue) else v for v in node.values]
        return _call("_fstring_", parts, node)

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        # Load -> _getitem_ (checks the key); Store/Del -> _write_
        result = _same(ast.AST, super().visit_Subscript(node))
        if isinstance(result, ast.Subscript) and not isinstance(result.slice, ast.Slice):
            stored = isinstance(result.ctx, ast.Store)
            result.slice = self._key(result.slice) if stored else self._bounded(result.slice)
        return result

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        """``d[k] += v`` becomes ``d[k] = _inplacevar_('+=', d[k], v)``, the guard plain names get.

        RestrictedPython refuses augmented assignment to items, yet ``totals[subject] += amount`` is
        what a process designer writes. Only a name or a constant may stand for ``d`` and ``k``:
        they are then read twice with no side effect. Anything else keeps RestrictedPython's refusal.
        """
        target = node.target
        if not (isinstance(target, ast.Subscript) and _plain(target.value) and _plain(target.slice)):
            return _same(ast.AST, super().visit_AugAssign(node))
        read = ast.Subscript(value=copy.deepcopy(target.value), slice=copy.deepcopy(target.slice), ctx=ast.Load())
        copy_locations(read, target)
        operator = ast.Constant(IOPERATOR_TO_STR[type(node.op)])
        value = _call("_inplacevar_", [operator, self.visit(read), self.visit(node.value)], node)
        assign = ast.Assign(targets=[self.visit(target)], value=value)
        copy_locations(assign, node)
        return assign

    def visit_Dict(self, node: ast.Dict) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        node = self.node_contents_visit(node)
        node.keys = [k if k is None else self._key(k) for k in node.keys]
        return node

    def visit_Set(self, node: ast.Set) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        node = self.node_contents_visit(node)
        node.elts = [self._key(e) for e in node.elts]
        return node

    def visit_DictComp(self, node: ast.DictComp) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        node = _same(ast.DictComp, super().visit_DictComp(node))
        node.key = self._key(node.key)
        return node

    def visit_SetComp(self, node: ast.SetComp) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        node = _same(ast.SetComp, super().visit_SetComp(node))
        node.elt = self._key(node.elt)
        return node

    # Budget checks: every way to run unboundedly passes a loop body, a call or a comprehension.
    def _tick(self, where: ast.expr | ast.stmt) -> ast.Call:
        return _call("_tick_", [], where)

    def _tick_body(self, node: _Loop) -> _Loop:
        tick = ast.Expr(self._tick(node))
        copy_locations(tick, node.body[0])
        node.body.insert(0, tick)
        return node

    def visit_For(self, node: ast.For) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        return self._tick_body(_same(ast.For, super().visit_For(node)))

    def visit_While(self, node: ast.While) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        return self._tick_body(_same(ast.While, super().visit_While(node)))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        return self._tick_body(_same(ast.FunctionDef, super().visit_FunctionDef(node)))

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        node = _same(ast.Lambda, super().visit_Lambda(node))
        node.body = ast.BoolOp(op=ast.And(), values=[self._tick(node), node.body])
        copy_locations(node.body, node)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        node = _same(ast.comprehension, super().visit_comprehension(node))
        node.ifs.insert(0, self._tick(node.iter))  # first, so a false filter cannot skip it
        return node


@functools.cache
def rewriter_for(limits: SandboxLimits) -> type[_Rewriter]:
    return type("Rewriter", (_Rewriter,), {"guards": Guards(limits)})
