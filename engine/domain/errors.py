"""Domain errors: plain exceptions with a stable machine-readable code.

The web app (still to be built) is to map them to HTTP in one place; the CLI prints them; the
workflow turns known codes into BPMN error events. Messages name what is wrong
and where, because finance users read them.
"""

from __future__ import annotations


class BudgetflowError(Exception):
    """Base class of every error the domain raises on purpose."""

    code = "BUDGETFLOW_ERROR"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.details = details

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": str(self), **{k: str(v) for k, v in self.details.items()}}


class InvalidAmount(BudgetflowError):
    code = "INVALID_AMOUNT"


class CurrencyMismatch(BudgetflowError):
    code = "CURRENCY_MISMATCH"


class BudgetInsufficient(BudgetflowError):
    code = "BUDGET_INSUFFICIENT"


class UnknownBudgetLine(BudgetflowError):
    code = "UNKNOWN_BUDGET_LINE"


class UnknownReservation(BudgetflowError):
    code = "UNKNOWN_RESERVATION"


class ReservationClosed(BudgetflowError):
    code = "RESERVATION_CLOSED"


class IdempotencyConflict(BudgetflowError):
    """The same idempotency key arrived with different parameters."""

    code = "IDEMPOTENCY_CONFLICT"


class UnknownInstance(BudgetflowError, LookupError):
    """No process instance has this id."""

    code = "UNKNOWN_INSTANCE"


class DocumentExists(BudgetflowError):
    """A document number (the business key of a process instance) is already taken."""

    code = "DUPLICATE_DOCUMENT"


class MasterDataInvalid(BudgetflowError):
    """A data-dictionary folder failed validation; ``problems`` lists every finding."""

    code = "MASTER_DATA_INVALID"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) in master data:\n" + "\n".join(problems))
        self.problems = problems


class UnknownEmployee(BudgetflowError, LookupError):
    """No active employee has this code."""

    code = "UNKNOWN_EMPLOYEE"


class PasswordRejected(BudgetflowError):
    """A new password does not meet the rules (the message says which)."""

    code = "PASSWORD_REJECTED"


class TokenRejected(BudgetflowError):
    """An API token request is malformed: its label, scopes or expiry (the message says which)."""

    code = "TOKEN_REJECTED"


class OaFormInvalid(BudgetflowError, ValueError):
    """Values do not fit an OA form mapping (engine/domain/oa_forms.py); ``problems`` lists every finding,
    each naming the vendor, the template, the OA control and the document field."""

    code = "OA_FORM_INVALID"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) with an OA form:\n" + "\n".join(problems))
        self.problems = problems
