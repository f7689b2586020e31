"""What the emulated Feishu tenant holds: its app, tokens, approval instances, messages and directory."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from connectors.emulators.base import Clock, Emulator

TOKEN_LIFETIME = 7200


@dataclass
class Person:
    user_id: str
    name: str
    department_ids: list[str]
    active: bool = True
    open_id: str = field(default_factory=lambda: "ou_" + uuid.uuid4().hex)
    union_id: str = field(default_factory=lambda: "on_" + uuid.uuid4().hex)


@dataclass
class Department:
    department_id: str
    name: str
    parent_id: str
    deleted: bool = False


@dataclass
class CallbackTarget:
    url: str
    encrypt_key: str
    verification_token: str
    schema: str = "1.0"


class FeishuState(Emulator):
    """The tenant's state; the endpoint mixins of this package read and change it under ``self.lock``."""

    def __init__(self, clock: Clock | None = None, *, app_id: str = "cli_emulator0001",
                 app_secret: str = "emulator-app-secret",  # noqa: S107 - the emulator's own demo app
                 approval_codes: tuple[str, ...] = ("BUDGETFLOW-APPROVAL-0001", "BUDGETFLOW-TRAVEL-0001")) -> None:
        super().__init__(clock)
        self.app_id, self.app_secret = app_id, app_secret
        self.approval_codes = set(approval_codes)
        self.subscribed: set[str] = set()
        self.tokens: dict[str, float] = {}  # tenant token -> expires at
        self.current_token = ""
        self.instances: dict[str, dict[str, Any]] = {}
        self.by_uuid: dict[str, str] = {}
        self.messages: list[dict[str, Any]] = []
        self.codes: dict[str, tuple[str, str, float]] = {}  # OAuth code -> user id, redirect uri, expires at
        self.user_tokens: dict[str, tuple[str, float]] = {}  # user access token -> user id, expires at
        self.callback: CallbackTarget | None = None
        self.departments: dict[str, Department] = {"0": Department("0", "Company", "")}
        self.people: dict[str, Person] = {}
        self._seed_directory()

    def _seed_directory(self) -> None:
        self.departments["D100"] = Department("D100", "Finance", "0")
        self.departments["D200"] = Department("D200", "Sales", "0")
        self.people["u_alice"] = Person("u_alice", "Alice", ["D100"])
        self.people["u_bob"] = Person("u_bob", "Bob", ["D200"])
        self.people["u_carol"] = Person("u_carol", "Carol", ["D100"])
