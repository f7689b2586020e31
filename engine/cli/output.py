"""Where output goes: the report on stdout, messages and progress on stderr, ``--json`` as one document.

With ``--json`` stdout carries exactly one JSON document and nothing else, so ``| jq`` and
scripts never meet a stray line; everything meant for a person then goes to stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

json_option = click.option("--json", "as_json", is_flag=True, help="print one JSON document on stdout, nothing else")


def say(line: str = "", *, as_json: bool = False) -> None:
    """A line of the report: stdout, or stderr when stdout is reserved for JSON."""
    click.echo(line, err=as_json)


def note(line: str) -> None:
    """A message beside the report (progress, warnings): always stderr."""
    click.echo(line, err=True)


def emit_json(document: Any) -> None:
    click.echo(json.dumps(document, default=_plain, ensure_ascii=False))


def _plain(value: Any) -> Any:
    """JSON for what the engine returns: money stays exact (a string), times are ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


Advance = Callable[[int], None]


@contextmanager
def progress(total: int, label: str, *, as_json: bool = False) -> Iterator[Advance]:
    """A progress bar on stderr for work that takes more than a moment; ``advance(n)`` moves it.

    Hidden when stderr is not a terminal (a log file, a pipe, CI) or with ``--json``, so
    nothing but the report reaches what reads the output.
    """
    if as_json or not sys.stderr.isatty() or total <= 0:
        yield lambda _n: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr, show_eta=True) as bar:
        yield bar.update
