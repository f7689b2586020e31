"""Wire settings, database and services together; the one place that picks concrete classes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine.config import Settings
from engine.persistence.db import make_engine, make_session_factory
from engine.persistence.unit_of_work import SqlUnitOfWork


@dataclass
class Container:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


def build(settings: Settings | None = None, *, pool_size: int = 10) -> Container:
    settings = settings or Settings.from_env()
    engine = make_engine(settings.database_url, pool_size=pool_size)
    return Container(settings=settings, engine=engine, session_factory=make_session_factory(engine))
