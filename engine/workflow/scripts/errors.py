"""Errors of the diagram-code sandbox, and how they travel out of sandboxed code.

Every failure of an expression or script becomes a ``ScriptError`` subclass that says which
code failed, what happened and why. Inside sandboxed code the guards raise ``Abort`` (see its
docstring) so the code cannot swallow the error it is stopped with.
"""

from __future__ import annotations

import decimal
import reprlib
from typing import NoReturn

from SpiffWorkflow.exceptions import WorkflowException


class ScriptError(WorkflowException):
    """A diagram expression or script failed; the message says which code, what and why.

    A SpiffWorkflow exception, so the stock ``PythonScriptEngine`` passes it on with its message
    (it would replace any other exception by a generic one); our engine turns it into a
    ``WorkflowTaskException`` that also names the task.
    """

    def __init__(self, what: str, *, why: str = "", kind: str = "", source: str = "", lineno: int | None = None):
        super().__init__(what)
        self.what, self.why = what, why
        self.kind, self.source, self.lineno = kind, source, lineno

    def located(self, kind: str, source: str, lineno: int | None = None) -> ScriptError:
        """Attach the code the error happened in (first location wins: it is the most precise)."""
        if not self.kind:
            self.kind, self.source = kind, source
            self.lineno = self.lineno or lineno
        return self

    @property
    def error_line(self) -> str:
        lines = self.source.splitlines()
        if self.lineno and 0 < self.lineno <= len(lines):
            return lines[self.lineno - 1].strip()
        return self.source.strip()

    def __str__(self) -> str:
        text = self.what
        if self.kind:
            where = f"{self.kind} line {self.lineno}" if self.lineno and "\n" in self.source.strip() else self.kind
            snippet = self.error_line
            snippet = snippet if len(snippet) <= 120 else snippet[:117] + "..."
            text += f' in {where} "{snippet}"'
        text = f"{text}: {self.why}" if self.why else text
        return ". ".join([text, *self.notes]) if self.notes else text


class ScriptRefused(ScriptError):
    """The code tried something the sandbox does not allow (found at compile time or run time)."""


class ScriptLimitExceeded(ScriptError):
    """The code would build a value, or use memory, beyond the configured limits."""


class ScriptTimeout(ScriptLimitExceeded):
    """The code ran longer than its CPU-time limit."""


class ScriptFailed(ScriptError):
    """Ordinary Python error inside the code (KeyError, ZeroDivisionError, ...)."""


class ScriptSyntaxError(ScriptError):
    """The code does not parse."""


class Abort(BaseException):  # noqa: N818 - a control-flow signal, not an error type users catch
    """Carries a ScriptError out of sandboxed code.

    A BaseException on purpose: scripts may write ``except Exception`` (bare ``except:`` is
    refused at compile time and BaseException is not in their builtins), so a refusal or a
    timeout can never be swallowed by the code it stops.
    """

    def __init__(self, error: ScriptError):
        super().__init__(str(error))
        self.error = error


def refuse(what: str, why: str = "") -> NoReturn:
    raise Abort(ScriptRefused(what, why=why))


def too_large(what: str, why: str) -> NoReturn:
    raise Abort(ScriptLimitExceeded(what, why=why))


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, 200, 100


def describe_exception(exc: BaseException) -> str:
    """``Type: message`` built without calling the exception's own ``__str__``.

    Exception args come from sandboxed code and may be huge or self-referencing; reprlib
    bounds the output. Decimal errors carry a list of condition classes as args[0], which is
    what makes SpiffWorkflow's own error path fail with a TypeError (SpiffWorkflow 3.2.0).
    """
    name, args = type(exc).__name__, exc.args
    if isinstance(exc, decimal.DecimalException) and args and isinstance(args[0], list):
        detail = ", ".join(getattr(c, "__name__", "?") for c in args[0][:5])
    elif len(args) == 1 and type(args[0]) is str and not isinstance(exc, KeyError):
        detail = args[0] if len(args[0]) <= 500 else args[0][:497] + "..."
    elif args:
        detail = _REPR.repr(args[0] if len(args) == 1 else args)
    else:
        detail = ""
    return f"{name}: {detail}" if detail else name


def defuse(exc: BaseException) -> None:
    """Replace non-text args in ``exc`` and its cause/context chain by ``describe_exception`` text.

    We chain our errors to the original for debugging, so a logger will print that chain; an
    exception raised by diagram code could carry a value whose repr never ends.
    """
    pending, seen = [exc], 0
    while pending and seen < 20:
        item = pending.pop()
        seen += 1
        if not all(type(a) is str and len(a) <= 1000 for a in item.args):
            item.args = (describe_exception(item),)
        pending.extend(e for e in (item.__cause__, item.__context__) if e is not None)
