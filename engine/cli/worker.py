"""``budgetflow worker`` and ``budgetflow scheduler``: the long-running processes, started with logging on stderr."""

from __future__ import annotations

import logging
import os

import click

from engine import worker as worker_process
from engine.cli.base import command
from engine.cli.context import App, pass_app
from engine.cli.failures import DEBUG_ENV
from engine.cli.i18n import N_

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging() -> None:
    """One line per event on stderr, with the time: what a service manager (systemd, Docker) collects."""
    debug = os.environ.get(DEBUG_ENV) == "1"
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format=LOG_FORMAT)
    logging.getLogger("budgetflow").setLevel(logging.DEBUG if debug else logging.INFO)  # libraries: warnings only


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
    return worker_process.run(app.settings, once=once, poll_seconds=poll)


@command("scheduler", examples=("budgetflow scheduler",))
@click.option("--outbox-seconds", type=click.FloatRange(min=0.01), default=1.0, hidden=True)
@click.option("--timer-seconds", type=click.FloatRange(min=0.01), default=15.0, hidden=True)
@pass_app
def scheduler(app: App, outbox_seconds: float, timer_seconds: float) -> int:
    """The same as `budgetflow worker` (kept for existing deployments).

    One loop runs every periodic job; --outbox-seconds is taken as the poll, --timer-seconds is ignored.
    """
    configure_logging()
    return worker_process.run(app.settings, poll_seconds=outbox_seconds)


def register(cli: click.Group) -> None:
    cli.add_command(worker)
    cli.add_command(scheduler)
