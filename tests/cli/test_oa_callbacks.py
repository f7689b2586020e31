"""``budgetflow oa callbacks``: the stored callbacks with what each did, and a failed one applied again."""

from __future__ import annotations

import json

from engine.bootstrap import build
from engine.config import Settings
from tests.cli.support import run


def _stored(env: dict[str, str], tmp_path) -> int:
    container = build(Settings(instance_dir=tmp_path, database_url=env["BUDGETFLOW_DATABASE_URL"]))
    try:
        inbox = container.oa_callbacks()
        assert inbox.record("wecom", "k1", "sys_approval_change", {"x": 1})
        assert inbox.record("feishu", "k2", "approval_instance", {"y": 2})
        first, second = sorted(row["id"] for row in inbox.pending())
        inbox.finish(first, "failed", "wecom template T: Money-1 (amount): 'abc' is not an amount")
        inbox.finish(second, "done")
        return int(first)
    finally:
        container.dispose()


def test_failed_callbacks_are_listed_with_their_reason_and_one_is_queued_again(cli_env, monkeypatch, capsys, tmp_path):
    assert run(monkeypatch, capsys, cli_env, "init").code == 0
    failed = _stored(cli_env, tmp_path)
    listed = run(monkeypatch, capsys, cli_env, "oa", "callbacks", "--status", "failed")
    assert listed.code == 0 and "'abc' is not an amount" in listed.out and "approval_instance" not in listed.out
    report = json.loads(run(monkeypatch, capsys, cli_env, "oa", "callbacks", "--json").out)
    assert [(c["vendor"], c["status"]) for c in report["callbacks"]] == [("feishu", "done"), ("wecom", "failed")]
    assert run(monkeypatch, capsys, cli_env, "oa", "callbacks", "--retry", str(failed)).code == 0
    again = json.loads(run(monkeypatch, capsys, cli_env, "oa", "callbacks", "--json").out)["callbacks"]
    assert [(c["status"], c["attempts"]) for c in again if c["id"] == failed] == [("pending", 0)]
    # a callback that is pending (or done) is not queued again; an unknown id neither
    for other in (failed, failed + 1, 999):
        refused = run(monkeypatch, capsys, cli_env, "oa", "callbacks", "--retry", str(other))
        assert refused.code == 1 and "no failed or ignored callback" in refused.out
