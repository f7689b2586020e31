"""``budgetflow serve`` and ``budgetflow demo``: the command line with the web app's commands added.

The console script points here (web is the outermost layer: it may import the engine's command
line, never the reverse). ``python -m engine`` still runs the engine's commands alone.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Sequence
from contextlib import ExitStack

import click

from engine import worker
from engine.cli import cli
from engine.cli.base import command
from engine.cli.bench import each_database, machine, scratch_databases
from engine.cli.context import App, pass_app
from engine.cli.i18n import _
from engine.cli.output import emit_json, json_option, progress, say
from engine.config import Settings
from web import bench as web_bench
from web.app import create_app
from web.demo import DEMO_PASSWORD, prepare_demo
from web.demo_erp import DEMO_ERPS, DemoErp, company_erp_configured, emulated_demo_erp
from web.demo_oa import DEMO_SUITES, DemoOa, company_oa_configured, emulated_oa
from web.server import Server
from web.settings import WebSettings

HOST_HELP = "Address to listen on; 0.0.0.0 for every interface (then put HTTPS in front)."


@command("serve", examples=("budgetflow serve", "budgetflow serve --host 0.0.0.0 --port 8080 --threads 16"))
@click.option("--host", default="127.0.0.1", show_default=True, help=HOST_HELP)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port (0: any free one).")
@click.option("--threads", type=click.IntRange(1, 256), default=8, show_default=True, help="Request threads.")
@pass_app
def serve(app: App, host: str, port: int, threads: int) -> int:
    """Serve the web app and the REST API with the production server (waitress).

    Stateless: run as many as you like against one PostgreSQL behind a load balancer, with the same
    BUDGETFLOW_SECRET_KEY. Outbox jobs and timers need `budgetflow worker` running beside it.
    """
    server = Server(_web_app(app, host), host=host, port=port, threads=threads)
    say(_("budgetflow serving on {url} (Ctrl+C stops)").format(url=server.url))
    server.run()
    return 0


@command("demo", examples=("budgetflow demo", "budgetflow demo --port 8080", "budgetflow demo --oa dingtalk",
                            "budgetflow demo --erp kingdee"))
@click.option("--host", default="127.0.0.1", show_default=True, help=HOST_HELP)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port (0: any free one).")
@click.option("--oa", "oa_suite", type=click.Choice([*DEMO_SUITES, "none"]), default="wecom", show_default=True,
              help="The OA suite to emulate beside the demo (none: no OA). Ignored when an OA is configured.")
@click.option("--erp", "erp_name", type=click.Choice([*DEMO_ERPS, "local"]), default="local", show_default=True,
              help="The ERP to emulate beside the demo (local: the built-in one). Ignored when an ERP is configured.")
@pass_app
def demo(app: App, host: str, port: int, oa_suite: str, erp_name: str) -> int:
    """Everything a new user needs, in one command: schema, the demo company, the diagrams, sign-ins,
    the web app and the worker, on the configured database (SQLite in the instance folder by default),
    with an emulated OA suite to approve in.

    Prints the address and a sign-in for each role, then serves until stopped. Running it again
    keeps what was done before.
    """
    container = app.creating_container()
    logins = prepare_demo(container)
    with ExitStack() as stack:
        oa = None
        if oa_suite != "none" and not company_oa_configured(app.settings.instance_dir):
            oa = stack.enter_context(emulated_oa(oa_suite, container))
        erp = None
        if erp_name != "local" and not company_erp_configured(app.settings.instance_dir):
            erp = stack.enter_context(emulated_demo_erp(erp_name, app.settings.instance_dir))
        server = Server(_web_app(app, host), host=host, port=port)
        settings = app.settings
        if "BUDGETFLOW_PUBLIC_URL" not in os.environ:  # OA messages and forms link to where the demo really is
            settings = dataclasses.replace(settings, public_url=server.url.rstrip("/"))
        if oa is not None:
            oa.post_callbacks_to(server.url.rstrip("/"))
        _banner(server.url, logins, oa, erp)
        _serve(server, settings)
    return 0


def _banner(url: str, logins: dict[str, tuple[str, str]], oa: DemoOa | None, erp: DemoErp | None = None) -> None:
    say(_("budgetflow demo on {url}").format(url=url))
    say(_("sign in with any of these (password: {password}):").format(password=DEMO_PASSWORD))
    for role, (code, name) in logins.items():
        say(f"  {role:<18} {code}  {name}")
    if oa is not None:
        say(_("emulated {vendor}: approve there at {url}/_emulator/ (start a \"Travel application approved in "
              "the OA\" as E0017)").format(vendor=oa.vendor, url=oa.url))
    if erp is not None:
        say(_("emulated {erp} ERP: vouchers go to {url}; its book is at {url}/_emulator/book").format(
            erp=erp.name, url=erp.url))
    say(_("Ctrl+C stops the web app and the worker."))


def _serve(server: Server, settings: Settings) -> None:
    stop = threading.Event()
    background = threading.Thread(target=worker.run, args=(settings,), kwargs={"stop": stop},
                                  name="budgetflow-worker", daemon=True)
    background.start()
    try:
        server.run()
    finally:
        stop.set()
        background.join(timeout=30)


def _web_app(app: App, host: str):  # type: ignore[no-untyped-def]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return create_app(app.container, web=WebSettings.from_env(app.settings, host=host))


cli.add_command(serve)
cli.add_command(demo)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``budgetflow ARGS`` with the web commands; returns the exit code."""
    return cli.main(list(argv) if argv is not None else None, standalone_mode=False)


@command("web", examples=("budgetflow bench web", "budgetflow bench web --open 5000 --history 50000 --json"))
@click.option("--open", "open_tasks", type=click.IntRange(min=1), default=100_000,
              help="open tasks (default 100,000)")
@click.option("--history", type=click.IntRange(min=0), default=1_000_000, help="finished tasks (default 1,000,000)")
@click.option("--queries", type=click.IntRange(min=1), default=200,
              help="API requests, each with a random approver's token (default 200)")
@json_option
def bench_web(open_tasks: int, history: int, queries: int, as_json: bool) -> int:
    """The inbox over real HTTP through `budgetflow serve`: GET /api/v1/tasks for random approvers and the
    busiest approver's inbox page, with many open and finished tasks in the database."""
    machine(as_json)
    results: dict[str, object] = {}
    databases = scratch_databases()
    units = web_bench.work_units(open_tasks=open_tasks, history=history, queries=queries)
    with progress(units * len(databases), _("filling and querying"), as_json=as_json) as advance:
        for name, url in each_database(databases):
            figures = web_bench.run(url, open_tasks=open_tasks, history=history, queries=queries, progress=advance)
            results[name] = figures.to_json()
            say(_("{name}: {open} open tasks, {history} finished; GET /api/v1/tasks p50 {p50} ms, p95 {p95} ms, "
                  "max {max} ms; inbox page of the busiest approver ({busiest} tasks) p50 {page50} ms, p95 {page95} "
                  "ms").format(name=name, open=f"{figures.open_tasks:,}", history=f"{figures.history:,}",
                               p50=f"{figures.api_p50_ms:.1f}", p95=f"{figures.api_p95_ms:.1f}",
                               max=f"{figures.api_max_ms:.1f}", busiest=f"{figures.busiest_tasks:,}",
                               page50=f"{figures.inbox_p50_ms:.1f}", page95=f"{figures.inbox_p95_ms:.1f}"),
                as_json=as_json)
    if as_json:
        emit_json(results)
    return 0


_bench_group = cli.commands["bench"]
assert isinstance(_bench_group, click.Group)
_bench_group.add_command(bench_web)
