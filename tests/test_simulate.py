"""The README's main job: applications and claims through the real diagrams, with people and the worker."""

from __future__ import annotations

import re
import subprocess
import sys


def test_simulate_posts_vouchers_and_both_verifications_pass(db_url, cli_env):
    done = subprocess.run([sys.executable, "-m", "engine", "simulate", "--claims", "4"], env=cli_env,
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    posted = int(re.search(r"vouchers posted \(local ERP\): (\d+)", done.stdout).group(1))
    assert posted >= 1
    assert re.search(r"automation rate: \d+\.\d%", done.stdout)
    assert "ledger verify: OK; audit verify: OK" in done.stdout
