"""Click commands whose help is translated when shown, with an Examples section in every ``--help``.

Help texts stay English in the code (docstrings and ``help=``); they are the catalog's
msgids and go through ``_()`` only when a help page is rendered, after ``--lang`` is known.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import click

from engine.cli.help_format import Context, shorten
from engine.cli.i18n import N_, _

HELP_OPTION = N_("Show this message and exit.")


def translated_help(text: str | None) -> str:
    """A docstring or option help in the current language (click's '[required]' and the like kept)."""
    if not text:
        return ""
    head, sep, tail = inspect.cleandoc(text).partition("  [")
    return _(head) + sep + tail


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


class _Translated:
    """What Command and Group share: translated help, usage and options, and the examples."""

    examples: Sequence[str]
    help: str | None
    context_class: type[click.Context] = Context  # help wrapped by display width: a Chinese character is 2 columns

    def _setup(self, examples: Sequence[str]) -> None:
        self.examples = tuple(examples)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option: click.Option | None = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_OPTION
        return option

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=_("Usage:") + " ")

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        text = translated_help(self.help)
        if text:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(text)

    def get_short_help_str(self, limit: int = 45) -> str:
        return shorten(first_line(translated_help(self.help)), limit)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for param in self.get_params(ctx):  # type: ignore[attr-defined]
            record = param.get_help_record(ctx)
            if record is not None and not isinstance(param, click.Argument):
                rows.append((record[0], translated_help(record[1])))
        if rows:
            with formatter.section(_("Options")):
                formatter.write_dl(rows)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if self.examples:
            with formatter.section(_("Examples")):
                for example in self.examples:  # a command line: not rewrapped, not translated
                    formatter.write(f"{'':>{formatter.current_indent}}{example}\n")
        epilog = getattr(self, "epilog", None)
        if epilog:
            formatter.write_paragraph()
            formatter.write(_render_epilog(epilog, ctx))


def _render_epilog(epilog: Any, ctx: click.Context) -> str:
    """An epilog is text, or a callable that renders it (the settings table is built when shown)."""
    return str(epilog(ctx) if callable(epilog) else translated_help(epilog)) + "\n"


class Command(_Translated, click.Command):
    def __init__(self, *args: Any, examples: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._setup(examples)


class Group(_Translated, click.Group):
    """A group of commands; run bare, it prints its help and exits 0 (it is not a mistake to ask)."""

    command_class = Command

    def __init__(self, *args: Any, examples: Sequence[str] = (), **kwargs: Any) -> None:
        kwargs.setdefault("no_args_is_help", False)
        super().__init__(*args, **kwargs)
        self._setup(examples)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and not ctx.resilient_parsing:
            click.echo(ctx.get_help(), color=ctx.color)
            ctx.exit(0)
        return super().parse_args(ctx, args)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_options(ctx, formatter)
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        commands = [(name, command) for name in self.list_commands(ctx)
                    if (command := self.get_command(ctx, name)) is not None and not command.hidden]
        if not commands:
            return
        limit = formatter.width - 6 - max(len(name) for name, _command in commands)
        with formatter.section(_("Commands")):
            formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in commands])


Group.group_class = Group


def command(name: str, *, examples: Sequence[str], **kwargs: Any) -> Callable[[Callable[..., Any]], Command]:
    """A command with translated help and its ``examples`` (at least one: people copy them)."""
    return click.command(name, cls=Command, examples=examples, **kwargs)


def group(name: str, *, examples: Sequence[str], **kwargs: Any) -> Callable[[Callable[..., Any]], Group]:
    return click.group(name, cls=Group, examples=examples, **kwargs)
