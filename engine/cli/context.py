"""The command line's one context object: settings read once, a Container built on first use, disposed at exit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from engine.bootstrap import Container, build
from engine.config import SettingInvalid, Settings


class App:
    """Held by the root click context (``ctx.obj``); handlers get it through ``pass_app``."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self._container: Container | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env()  # SettingInvalid names a malformed variable
        return self._settings

    @property
    def container(self) -> Container:
        """Built on first use (commands that need no database never connect) and disposed once, at exit.
        A SQLite file that does not exist yet is not created: the command says "run budgetflow init"."""
        if self._container is None:
            self._container = build(self.settings, create=False)
        return self._container

    def creating_container(self) -> Container:
        """The container of a command that creates the database if there is none (init, seed, demo)."""
        if self._container is None:
            self._container = build(self.settings, create=True)
        return self._container

    @property
    def reader(self) -> Callable[[], Any]:
        """Read-only units of work: a snapshot that takes no SQLite write lock and waits for no writer."""
        return self.container.reader

    @property
    def uow(self) -> Callable[[], Any]:
        return self.container.uow

    def database_url(self) -> str | None:
        """The configured URL, for error messages; None when the settings themselves cannot be read."""
        if self._settings is not None:
            return self._settings.database_url
        try:
            return Settings.from_env().database_url
        except SettingInvalid:
            return None

    def close(self) -> None:
        if self._container is not None:
            self._container.dispose()
            self._container = None


pass_app = click.make_pass_decorator(App, ensure=True)
