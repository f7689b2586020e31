"""The demo's emulated OA holds the demo company where the data dictionary puts it: the org sync, which the
demo's worker runs, changes no demo employee and only adds the emulator's own sample people."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.oa_settings import load_oa_connections
from engine.persistence.tables import Employee, OrgUnit
from engine.services import oa_org_sync
from web.demo_oa import DEMO_SUITES, emulated_oa


def people(container) -> list[tuple]:
    with container.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(Employee.code, Employee.name, OrgUnit.code, Employee.active)
                                               .join(OrgUnit, OrgUnit.id == Employee.org_unit_id)
                                               .order_by(Employee.code))]


@pytest.mark.parametrize("vendor", DEMO_SUITES)
def test_a_sync_against_the_demo_oa_leaves_the_demo_company_as_it_is(demo, vendor):
    before = people(demo)
    with emulated_oa(vendor, demo):
        report = oa_org_sync.sync_all(demo.uow, load_oa_connections(demo.settings.instance_dir), demo.oa_tokens())
    suite = report.suites[0]
    assert suite.ok, suite.error
    assert suite.changes and {c.kind for c in suite.changes} == {"created"}  # the emulator's sample people
    assert suite.not_placed == [] and suite.reassignments == []
    after = people(demo)
    assert [row for row in after if row[0] in {b[0] for b in before}] == before
