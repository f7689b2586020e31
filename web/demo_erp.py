"""An emulated ERP for ``budgetflow demo --erp kingdee|yonyou|yonyou_u8|sap``: vouchers go to a vendor's
emulator on loopback instead of the built-in local ERP, so a new user sees the voucher number the "ERP" gave,
can mark it paid in the emulator's book, and reconcile on the finance page.

The emulator's settings go to ``demo-erp.toml`` in the instance folder (never over a company's own
``erp.toml``: a configured ERP leaves the demo alone). The emulator keeps its book in memory: after a restart,
vouchers posted before are missing from it, and reconciliation says so.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from connectors.emulators.erp_fixtures import emulated_erp
from engine.erp_settings import erp_config_path

# The demo's choices: the ERP families (yonyou is YonBIP), U8, and the built-in local ERP.
DEMO_ERPS = {"kingdee": "kingdee", "yonyou": "yonbip", "yonyou_u8": "yonyou_u8", "sap": "sap"}


@dataclass(frozen=True)
class DemoErp:
    name: str
    url: str


def company_erp_configured(instance_dir: Path) -> bool:
    return erp_config_path(instance_dir) is not None


@contextmanager
def emulated_demo_erp(name: str, instance_dir: Path) -> Iterator[DemoErp]:
    """Run ``name``'s emulator and point this process's ERP settings at it (BUDGETFLOW_ERP_CONFIG), so the
    worker and the web app made afterwards post there."""
    with emulated_erp(DEMO_ERPS[name]) as erp:
        config = instance_dir / "demo-erp.toml"
        config.write_text("[erp]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in erp.settings.items()),
                          encoding="utf-8")
        config.chmod(0o600)
        os.environ["BUDGETFLOW_ERP_CONFIG"] = str(config)
        try:
            yield DemoErp(name, erp.running.url)
        finally:
            os.environ.pop("BUDGETFLOW_ERP_CONFIG", None)
