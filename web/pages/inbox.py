"""The inbox: my tasks, the pool tasks I can take, what I delegated, what I did; sorted, filtered, paged."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.services import inbox as inbox_model
from engine.services import my_documents
from web.pages.blueprint import bp
from web.pages.common import bad_request, me, page, reader

PAGE_SIZE = 50
SORTABLE = ("age", "due", "amount")


@bp.get("/inbox")
@page()
def inbox() -> ResponseReturnValue:
    args = _arguments()
    try:
        found = inbox_model.inbox(reader(), me().code, limit=PAGE_SIZE, **args)
    except ValueError as exc:  # a hand-made or stale link: say which parameter, list nothing
        return bad_request(str(exc))
    return render_template("pages/inbox.html", page=found, args=args, views=inbox_model.VIEWS,
                           sortable=SORTABLE, link=_link, processes=_processes(args["process"]))


def _arguments() -> dict[str, Any]:
    q = request.args
    return {"view": q.get("view", "mine"), "sort": q.get("sort", "age"), "descending": q.get("desc") == "1",
            "process": q.get("process") or None, "text": q.get("q") or None, "cursor": q.get("cursor") or None}


def _link(args: dict[str, Any], **changes: Any) -> str:
    """The inbox URL with ``changes``; a new view, sort or filter starts again at the first page."""
    merged = {**args, "cursor": None, **changes}
    params = {"view": merged["view"], "sort": merged["sort"], "desc": "1" if merged["descending"] else None,
              "process": merged["process"], "q": merged["text"], "cursor": merged["cursor"]}
    return url_for("pages.inbox", **{k: v for k, v in params.items() if v})


def _processes(chosen: str | None) -> list[tuple[str, str]]:
    """(process id, name) to filter by: the deployed entry points, and the one chosen."""
    found = {p["process_id"]: p.get("name") or p["process_id"] for p in my_documents.startable(reader())}
    if chosen and chosen not in found:
        found[chosen] = chosen
    return sorted(found.items())
