"""Test databases: every test that asks for ``db_url`` runs on SQLite, and also on PostgreSQL
when BUDGETFLOW_TEST_DATABASE_URL is set (CI sets it).

SQLite: a migrated template file per run, copied per test. PostgreSQL: a schema of
its own per test run (dropped at the end), emptied before each test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from engine.bootstrap import Container, build
from engine.config import Settings, normalise_url
from engine.persistence import schema
from engine.persistence.db import make_engine

PG_ENV = "BUDGETFLOW_TEST_DATABASE_URL"
# Tests read the command line's English output, whatever the locale of whoever runs them;
# subprocesses inherit it. tests/cli/test_language.py sets the language it tests explicitly.
os.environ["BUDGETFLOW_LANG"] = "en"
KEEP_ON_RESET = {"alembic_version", "role"}  # role rows are seeded by the migration itself


@pytest.fixture(autouse=True)
def _no_user_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Without BUDGETFLOW_INSTANCE_DIR the instance folder is the per-user data folder: never the tester's."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.getbasetemp() / "xdg-data"))


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    base = normalise_url(os.environ[PG_ENV])
    name = f"bf_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options={quote(f'-csearch_path={name}')}"
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars()
        names = [t for t in tables if t not in KEEP_ON_RESET]
        if names:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in names) + " RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=_backends())
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "budgetflow.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_url")
    _reset_postgres(url)
    return url


@pytest.fixture
def container(db_url: str, tmp_path: Path) -> Iterator[Container]:
    c = build(Settings(instance_dir=tmp_path, database_url=db_url), pool_size=20)
    yield c
    c.dispose()


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for running the ``budgetflow`` console script against the test database."""
    env = dict(os.environ)
    env.update(BUDGETFLOW_DATABASE_URL=db_url, BUDGETFLOW_INSTANCE_DIR=str(tmp_path))
    return env


@pytest.fixture
def app(container: Container) -> Container:
    """A database with the demo company and the engine's fixture diagrams deployed."""
    from engine.services import processes
    from engine.services.masterdata.importing import seed_demo
    from engine.workflow.bundle import read_folder

    seed_demo(container.masterdata_store)
    processes.deploy(container.uow, read_folder(Path(__file__).parent / "engine_fixtures"), by="E0016")
    return container
