"""``budgetflow worker`` and ``budgetflow scheduler``: the long-running processes, started with logging on stderr."""

from __future__ import annotations

import logging
import os

import click

from engine.cli import worker_loop
from engine.cli.base import command
from engine.cli.context import App, pass_app
from engine.cli.failures import DEBUG_ENV
from engine.cli.i18n import N_

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging() -> None:
    """One line per event on stderr, with the time: what a service manager (systemd, Docker) collects."""
    level = logging.DEBUG if os.environ.get(DEBUG_ENV) == "1" else logging.INFO
    logging.basicConfig(level=level, format=LOG_FORMAT)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # its per-run lines would drown ours


@command("worker", examples=("budgetflow worker", "budgetflow worker --once", "budgetflow worker --poll 5"))
@click.option("--once", is_flag=True, help=N_("run what is due now, then exit"))
@click.option("--poll", type=click.FloatRange(min=0.01), default=1.0, metavar="SECONDS",
              help=N_("seconds between polls when idle (default 1)"))
@pass_app
def worker(app: App, once: bool, poll: float) -> int:
    """Run outbox jobs (ERP, notifications) and due timers until stopped.

    Any number of workers may run side by side; stop one with SIGTERM or Ctrl-C.
    """
    configure_logging()
    return worker_loop.run(app.settings, once=once, poll_seconds=poll)


@command("scheduler", examples=("budgetflow scheduler",))
@click.option("--outbox-seconds", type=click.FloatRange(min=0.01), default=1.0,
              help=N_("outbox poll interval (default 1)"))
@click.option("--timer-seconds", type=click.FloatRange(min=0.01), default=15.0,
              help=N_("timer poll interval (default 15)"))
@pass_app
def scheduler(app: App, outbox_seconds: float, timer_seconds: float) -> int:
    """Run the same jobs as the worker on fixed intervals, as one long-lived process.

    Run exactly one scheduler; stop it with SIGTERM or Ctrl-C.
    """
    configure_logging()
    return worker_loop.run_scheduler(app.settings, outbox_seconds=outbox_seconds, timer_seconds=timer_seconds)


def register(cli: click.Group) -> None:
    cli.add_command(worker)
    cli.add_command(scheduler)
