"""The root ``budgetflow`` group: global options, the settings and exit codes in its help, the error boundary."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import click

from engine.cli import bpmn_reference, failures, i18n  # noqa: F401 -- bpmn_reference adds `bpmn operators`
from engine.cli.base import Group
from engine.cli.context import App
from engine.cli.i18n import N_, _
from engine.settings_help import SETTINGS, SettingHelp

INTERRUPTED = 130  # Ctrl-C, as shells report it (128 + SIGINT)
EXIT_CODES = (
    ("0", N_("done")),
    ("1", N_("the command ran and found a problem (a check failed), or could not finish: the database is locked, "
             "read-only or unreachable, or an internal error")),
    ("2", N_("usage or configuration error, or a request the rules refuse: wrong arguments, a malformed setting, "
             "a bad database URL, a missing driver, a database not initialised")),
)


def package_version() -> str:
    try:
        return version("budgetflow")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


class Root(Group):
    """The top group: its help ends with the settings and the exit codes; its ``main`` is the error boundary."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        with formatter.section(_("Settings (environment variables)")):
            formatter.write_dl([(s.name, _setting_text(s)) for s in SETTINGS], col_max=38)
        with formatter.section(_("Exit codes")):
            formatter.write_dl([(code, _(meaning)) for code, meaning in EXIT_CODES])
        formatter.write_paragraph()
        formatter.write_text(_("Output is in Chinese or English: --lang zh|en, else BUDGETFLOW_LANG, else the "
                               "locale. Commands that report data take --json: stdout is then one JSON document."))

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,  # type: ignore[override]
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> int:
        """Run the command line; every failure becomes one line on stderr and an exit code (never a traceback)."""
        i18n.use(i18n.choose())
        app = extra.pop("obj", None) or App()
        try:
            result = super().main(args, prog_name or "budgetflow", complete_var, standalone_mode=False, obj=app,
                                  **extra)
            code = int(result or 0)
        except click.UsageError as exc:  # one line, like every other failure, pointing at the help
            where = exc.ctx.command_path if exc.ctx else "budgetflow"
            click.echo(_("error: {message} (see: {command} --help)").format(
                message=" ".join(exc.format_message().split()), command=where), err=True)
            code = exc.exit_code
        except click.ClickException as exc:
            exc.show()
            code = exc.exit_code
        except click.exceptions.Abort as exc:
            click.echo(_("aborted"), err=True)
            code = INTERRUPTED if isinstance(exc.__cause__, KeyboardInterrupt) else failures.FAILURE
        except BrokenPipeError:  # `budgetflow ledger balances | head`: the reader has all it wanted
            _silence_stdout()
            code = failures.FAILURE
        except Exception as exc:  # the boundary: one line, never a traceback
            if os.environ.get(failures.DEBUG_ENV) == "1":
                raise
            line, code = failures.explain(exc, app.database_url())
            click.echo(_("error: {message}").format(message=line), err=True)
        finally:
            app.close()
        if standalone_mode:
            sys.exit(code)
        return code


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so flushing it at exit does not fail a second time on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (a test's captured stdout)
        pass


def _setting_text(setting: SettingHelp) -> str:
    if not setting.default:
        return _(setting.meaning)
    return _("{meaning}; default: {default}").format(meaning=_(setting.meaning), default=_(setting.default))


def _set_language(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        i18n.use(value)


@click.group("budgetflow", cls=Root, context_settings={"max_content_width": 110}, examples=(
    "budgetflow init",
    "budgetflow simulate --claims 20",
    "budgetflow --lang zh ledger balances --prefix 2026/ORG:SALES",
))
@click.version_option(package_version(), "--version", prog_name="budgetflow", message="%(prog)s %(version)s",
                      help=N_("Show the version and exit."))
@click.option("--lang", type=click.Choice(sorted(i18n.LANGUAGES)), is_eager=True, expose_value=False,
              callback=_set_language, help=N_("output language (default: BUDGETFLOW_LANG, else the locale)"))
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Budget control and expense reimbursement.

    Budgets are reserved (预占) by applications and written off (核销) by expense claims; vouchers (凭证) go to
    the ERP. Every command works on the database of BUDGETFLOW_DATABASE_URL (see the settings below).
    """
    ctx.ensure_object(App)
    ctx.call_on_close(ctx.obj.close)  # the one Container, built on first use, disposed once
