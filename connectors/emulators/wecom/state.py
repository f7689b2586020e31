"""What a WeCom emulator holds: the corp's apps, templates and directory, its sheets, messages and callbacks,
the tokens and codes it issued, and the switches tests turn. The other modules' mixins all build on this."""

from __future__ import annotations

from collections import deque
from typing import Any

from connectors.emulators.base import Clock, Emulator
from connectors.emulators.wecom.model import (
    AGENT_ID,
    APP_SECRET,
    APPROVAL_CALLS_PER_MINUTE,
    BUDGET_TEMPLATE_ID,
    CORP_ID,
    TEMPLATE_ID,
    TRAVEL_TEMPLATE_ID,
    CallbackTarget,
    Delivery,
    Template,
    Token,
)
from connectors.emulators.wecom.seed import budget_template, default_directory, default_template, travel_template


class WeComState(Emulator):
    """One WeCom corp's state; its endpoints are in the mixins ``app.WeComEmulator`` is made of."""

    def __init__(self, clock: Clock | None = None, *, corp_id: str = CORP_ID) -> None:
        super().__init__(clock)
        self.corp_id = corp_id
        self.apps: dict[str, int] = {APP_SECRET: AGENT_ID}  # secret -> agent id
        self.templates: dict[str, Template] = {TEMPLATE_ID: default_template(), TRAVEL_TEMPLATE_ID: travel_template(),
                                               BUDGET_TEMPLATE_ID: budget_template()}
        self.departments, self.users = default_directory()
        self.instances: dict[str, dict[str, Any]] = {}
        self.messages: list[dict[str, Any]] = []
        self.deliveries: list[Delivery] = []
        self.callback: CallbackTarget | None = None
        self.callback_retries = 3
        self.hold_callbacks = False  # True: callbacks wait in ``held`` until /_emulator/callback/release
        self.held: list[tuple[str, int, bytes]] = []
        self.approval_calls_per_minute = APPROVAL_CALLS_PER_MINUTE  # WeCom's limit on the approval APIs
        self.trusted_ips: set[str] | None = None  # None: any caller; else others get 60020
        self.legacy_userinfo = False  # True: auth/getuserinfo answers the legacy ``UserId`` key
        self.queued_errors: deque[int] = deque()  # errcodes (-1 busy, ...) the next API calls answer, in turn
        self._tokens: dict[str, Token] = {}
        self._codes: dict[str, tuple[dict[str, str], float]] = {}
        self._approval_calls: deque[float] = deque()
        self._sequence: dict[str, int] = {}
