"""Documents: one document with its history, open tasks, budget panel and process picture; withdrawing it."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from werkzeug.exceptions import NotFound, UnprocessableEntity

from engine.services import attachments, budget_panel, document_actions, document_numbers, document_views, my_documents
from engine.services.steps import Outcome
from web.api.auth import current, roles
from web.api.blueprint import api_blueprint
from web.api.document_schemas import (
    ApplicationSchema,
    DiagramSchema,
    DocumentRowSchema,
    DocumentSchema,
    MineArgs,
    StartableSchema,
    StartBody,
    StartedSchema,
    WithdrawBody,
)
from web.api.paging import page, page_schema
from web.api.schemas import OutcomeSchema
from web.context import container

blp = api_blueprint("Documents", __name__, url_prefix="/api/v1",
                    description="Applications and claims: start, list, read, withdraw")


APPLICANTS = ("employee",)
READERS = ("employee", "manager", "finance", "budget_admin", "admin", "auditor", "process_designer")
NUMBER = "/documents/<string(maxlength=100):document_no>"


@blp.route("/documents")
class Documents(MethodView):
    @roles(*READERS)
    @blp.arguments(MineArgs, location="query")
    @blp.response(200, page_schema(DocumentRowSchema, "DocumentRows"))
    def get(self, args: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """My documents (where I am the applicant), newest first, with where each stands and who holds it."""
        found = my_documents.my_documents(container().reader, current().code, status=args.get("status"),
                                          cursor=args.get("cursor"), limit=args["limit"])
        return page(found.rows, found.next_cursor)

    @roles(*APPLICANTS)
    @blp.arguments(StartBody)
    @blp.response(201, StartedSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Start an application or a claim for myself under the next document number (TA-2026-000001...).
        The start data may not set what the engine sets (applicant, org unit, numbers, reservations: 422)."""
        if body["process_id"] not in {p["process_id"] for p in my_documents.startable(container().reader)}:
            raise UnprocessableEntity(f"process {body['process_id']!r} cannot be started (GET /startable-processes)")
        number, outcome = document_numbers.start_document(
            container().uow, process_id=body["process_id"], applicant=current().code, data=body["data"],
            application_no=body.get("application_no"))
        return {"document_no": number, "outcome": outcome}


@blp.route("/startable-processes")
@roles(*APPLICANTS)
@blp.response(200, StartableSchema(many=True))
def startable() -> list[dict[str, Any]]:
    """The processes a person can start, each with its start form's JSON Schema."""
    return my_documents.startable(container().reader)


@blp.route("/approved-applications")
@roles(*APPLICANTS)
@blp.response(200, ApplicationSchema(many=True))
def approved_applications() -> list[dict[str, Any]]:
    """My approved applications a claim can still draw on (an open reservation, no claim running)."""
    return my_documents.approved_applications(container().reader, current().code)


def _visible(document_no: str) -> document_views.DocumentView:
    found = document_views.document_view(container().reader, document_no, current().code)
    if found is None:
        raise NotFound(f"no document {document_no} that this token may see")
    return found


@blp.route(f"{NUMBER}")
@roles(*READERS)
@blp.response(200, DocumentSchema)
def get_document(document_no: str) -> dict[str, Any]:
    """A document with its history (who did what, when, with comments), open tasks and who holds them, its
    budget panel, its attachments and where it stands in its process. 404 when it does not exist or the caller
    may not see it."""
    found = _visible(document_no)
    panel = budget_panel.budget_panel(container().reader, document_no, current().code) or []
    return {**found.__dict__, "budget": panel,
            "attachments": attachments.attachments_of(container().reader, document_no)}


@blp.route(f"{NUMBER}/diagram")
@roles(*READERS)
@blp.response(200, DiagramSchema)
def get_diagram(document_no: str) -> Any:
    """The document's process diagram (BPMN XML with its layout) and the path taken, for a viewer such as
    bpmn-js: completed elements, current ones and the sequence flows taken."""
    found = _visible(document_no)
    if found.picture is None:
        raise NotFound(f"the diagram of {document_no} is not available")
    return found.picture


@blp.route(f"{NUMBER}/withdraw", methods=["POST"])
@roles(*APPLICANTS)
@blp.arguments(WithdrawBody)
@blp.response(200, OutcomeSchema)
def withdraw(body: dict[str, Any], document_no: str) -> Outcome:
    """The applicant takes back a pending document; refused (403) once it is decided or for anyone else."""
    return document_actions.withdraw(container().uow, document_no=document_no, user=current().code,
                                     reason=body["reason"])
