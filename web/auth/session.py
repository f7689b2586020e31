"""Flask-Login wiring: the session holds an employee code; the Principal is reloaded every request."""

from __future__ import annotations

from flask import Flask
from flask_login import LoginManager, UserMixin

from engine.domain.identity import Principal
from engine.services import accounts
from web.context import container

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "basic"


class User(UserMixin):
    """A signed-in person as Flask-Login sees them; ``principal`` is what the engine sees."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    def get_id(self) -> str:
        return self.principal.code


@login_manager.user_loader
def _load(code: str) -> User | None:
    found = accounts.principal(container().reader, code)
    return User(found) if found is not None else None  # disabled or unknown: signed out


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
