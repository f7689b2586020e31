"""The worker's oa-sync job: there when an OA suite is configured and BUDGETFLOW_OA_SYNC_INTERVAL is above 0, at
that interval; run by the worker's loop, it syncs the directory (here the Feishu emulator's)."""

from __future__ import annotations

import threading
from dataclasses import replace

from connectors.emulators.base import Running
from engine.worker.jobs import periodic_jobs
from engine.worker.loop import Loop
from tests.oa_engine.org_sync_support import SUITES, seed_demo_directory, write_settings
from tests.oa_engine.test_org_sync import employee


def names(app) -> dict[str, float]:
    return {job.name: job.interval for job in periodic_jobs(app, threading.Event())}


def test_the_job_runs_when_an_oa_is_configured_at_its_interval(app):
    assert "oa-sync" not in names(app)  # no OA configured
    suite = SUITES["feishu"]
    with Running(suite.emulator()) as emulator:
        ids = seed_demo_directory(suite, emulator.url)
        write_settings(app.settings.instance_dir, suite, emulator.url)
        assert names(app)["oa-sync"] == 3600.0
        app.settings = replace(app.settings, oa_sync_interval_seconds=0)
        assert "oa-sync" not in names(app)  # 0 turns it off
        app.settings = replace(app.settings, oa_sync_interval_seconds=120)
        assert names(app)["oa-sync"] == 120.0

        suite.person(emulator.url, ids["E0021"], "梁宇", "D320")  # to Product Management
        stop = threading.Event()
        done = Loop(periodic_jobs(app, stop), url=app.settings.database_url, stop=stop).run_once()
    assert done["oa-sync"] == 4  # 梁宇 moved, and the emulator's 3 sample people created
    assert employee(app, "E0021") == ("梁宇", "RND-PROD", True)
    assert employee(app, "FS-U_ALICE") == ("Alice", "FIN", True)
