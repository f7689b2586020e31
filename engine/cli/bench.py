"""``budgetflow bench ...`` (filled in with the benchmarks)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    del sub
