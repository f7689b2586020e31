"""What every connector shares: the error type that carries a vendor-neutral code."""

from __future__ import annotations

from typing import Any


class ConnectorError(Exception):
    """A failure with a published code (``ERP_POST_FAILED``, ``BUDGET_INSUFFICIENT``, ...).

    ``retryable`` failures (timeouts, 5xx, throttling) are retried by the outbox;
    the others go straight to the diagram as a BPMN error event.
    """

    def __init__(self, code: str, message: str, *, retryable: bool = False, **payload: Any) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.payload = payload
