"""``budgetflow users set-password`` and ``budgetflow tokens issue|list|revoke`` against a demo database."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.cli import cli
from engine.services import accounts
from engine.services.masterdata.importing import seed_demo

PASSWORD = "a-new-secret-of-enough-length"


@pytest.fixture
def budgetflow(cli_env, container):
    seed_demo(container.masterdata_store)
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None):
        return runner.invoke(cli, list(args), input=stdin, env=cli_env, catch_exceptions=False)
    return invoke


def test_set_password_asks_twice_and_then_the_person_signs_in(budgetflow, container):
    done = budgetflow("users", "set-password", "E0017", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert done.exit_code == 0, done.output
    assert PASSWORD not in done.output
    assert accounts.authenticate(container.uow, login="E0017", password=PASSWORD) is not None


def test_set_password_from_stdin_and_refusals(budgetflow, container):
    assert budgetflow("users", "set-password", "E0017", "--password-stdin", stdin=PASSWORD + "\n").exit_code == 0
    short = budgetflow("users", "set-password", "E0017", "--password-stdin", stdin="short\n")
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    unknown = budgetflow("users", "set-password", "E9999", "--password-stdin", stdin=PASSWORD + "\n")
    assert unknown.exit_code == 2
    assert accounts.authenticate(container.uow, login="E0017", password=PASSWORD) is not None


def test_a_token_is_printed_once_listed_without_its_secret_and_revoked(budgetflow, container):
    issued = budgetflow("tokens", "issue", "--employee", "E0011", "--scope", "finance", "--label", "erp sync",
                        "--expires-days", "30")
    assert issued.exit_code == 0, issued.output
    secret = issued.output.splitlines()[0]
    assert secret.startswith("bft_")
    found = accounts.principal_for_token(container.reader, secret)
    assert found is not None and found.code == "E0011" and found.roles == frozenset({"finance"})

    listed = budgetflow("tokens", "list", "--json")
    assert listed.exit_code == 0 and secret not in listed.output
    [token] = json.loads(listed.output)["tokens"]
    assert token["label"] == "erp sync" and token["scopes"] == ["finance"] and token["expires_at"]

    assert budgetflow("tokens", "revoke", str(token["id"])).exit_code == 0
    assert accounts.principal_for_token(container.reader, secret) is None
    assert budgetflow("tokens", "revoke", str(token["id"])).exit_code == 2  # already revoked


def test_a_token_cannot_carry_a_role_its_employee_lacks(budgetflow):
    refused = budgetflow("tokens", "issue", "--employee", "E0011", "--scope", "admin", "--label", "x")
    assert refused.exit_code == 2 and "admin" in refused.output
    assert "bft_" not in refused.output
