"""The demo company made ready for people: schema, data dictionary, diagrams and a sign-in per employee."""

from __future__ import annotations

from engine.bootstrap import Container
from engine.persistence import schema
from engine.services import accounts, processes
from engine.services.masterdata.importing import seed_demo
from engine.workflow.bundle import read_folder

DEMO_PASSWORD = "budgetflow-demo"  # noqa: S105 - printed by `budgetflow demo`; a demo database only
# One person per role of the story in the README (demo data: engine/seed/demo/employees.csv).
ROLES = {
    "applicant": "E0017",
    "manager": "E0005",
    "department head": "E0002",
    "finance": "E0011",
    "finance director": "E0009",
    "budget admin": "E0013",
    "process designer": "E0016",
    "admin": "E0015",
    "auditor": "E0014",
}


def prepare_demo(container: Container) -> dict[str, tuple[str, str]]:
    """Idempotent: an upgraded schema, the demo data, the shipped diagrams deployed, demo sign-ins.
    Returns role -> (employee code, name) for the banner."""
    schema.upgrade(container.engine)
    seed_demo(container.masterdata_store)
    processes.deploy(container.uow, read_folder(container.settings.bpmn_dir), by="demo", label="demo")
    accounts.seed_demo_accounts(container.uow, password=DEMO_PASSWORD, by="demo")
    names = {p.code: p.name for p in (accounts.principal(container.reader, c) for c in ROLES.values()) if p}
    return {role: (code, names.get(code, "?")) for role, code in ROLES.items()}
