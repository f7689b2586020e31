"""The messages the command line shows, found two ways: ``_()``/``N_()`` literals in the source
(Babel's extractor) and every help text of the click command tree. The catalog must hold
exactly these (tests/cli/test_language.py)."""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import click
from babel.messages.extract import extract

from engine.cli.base import HELP_OPTION
from web.cli import cli  # the whole command line: the engine's commands and the web app's (serve, demo)

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*sorted((ROOT / "engine" / "cli").glob("*.py")), ROOT / "engine" / "settings_help.py",
           ROOT / "web" / "cli.py"]
KEYWORDS = {"_": None, "N_": None}
# _('...') written inside an f-string, which Babel's extractor reads as one string token
IN_FSTRING = re.compile(r"""(?<![\w.])_\(\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*\)""")


def marked_in_source() -> dict[str, str]:
    """msgid -> where it is first marked, for every literal passed to _() or N_()."""
    found: dict[str, str] = {}
    for path in SOURCES:
        with path.open("rb") as source:
            for line, message, _comments, _context in extract("python", source, keywords=KEYWORDS):
                if isinstance(message, str) and message:
                    found.setdefault(message, f"{path.relative_to(ROOT)}:{line}")
        for match in IN_FSTRING.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(ast.literal_eval(match.group(1)), str(path.relative_to(ROOT)))
    return found


def commands(command: click.Command = cli, path: str = "budgetflow") -> Iterator[tuple[str, click.Command]]:
    """Every group and command of the tree, with its command line."""
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from commands(sub, f"{path} {name}")


def help_texts() -> dict[str, str]:
    """msgid -> command line, for every command's help and every option's help."""
    found: dict[str, str] = {HELP_OPTION: "--help"}
    for path, command in commands():
        if command.help:
            found.setdefault(inspect.cleandoc(command.help), path)
        for param in command.params:
            text = getattr(param, "help", None)
            if text:
                found.setdefault(inspect.cleandoc(text), f"{path} {param.name}")
    return found


def used_messages() -> dict[str, str]:
    return {**help_texts(), **marked_in_source()}
