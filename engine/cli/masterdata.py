"""``budgetflow import-master-data PATH`` and ``budgetflow seed demo`` (filled in with the importer)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    del sub
