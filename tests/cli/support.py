"""Running ``budgetflow`` in this process (``engine.cli.main``) with an environment of its own."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from engine.cli import main

LOCALE = ("LC_ALL", "LC_MESSAGES", "LANG")


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str],
        *args: str) -> Run:
    """``budgetflow ARGS`` with BUDGETFLOW_* and the locale taken from ``env`` only (English if it sets none)."""
    with monkeypatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("BUDGETFLOW_") or n in LOCALE]:
            patch.delenv(name)
        for name, value in env.items():
            if name.startswith("BUDGETFLOW_") or name in LOCALE:
                patch.setenv(name, value)
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)
