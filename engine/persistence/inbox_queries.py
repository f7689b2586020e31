"""The inbox's four views of one person, paged by keyset, and their counts (``uow.inbox``).

Every view starts from an index on the person: open tasks by ``assignee`` or through
``human_task_candidate (employee, pool, taken, created_at, task_id)``, delegated ones by ``delegated_by``, done
ones by ``(completed_by, completed_at)``. Filters and the sort then work on that person's rows only, so a page
costs the same with 100,000 open and 1,000,000 finished tasks as with a hundred (docs/performance.md).
"""

from __future__ import annotations

import functools
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, Integer, Select, and_, bindparam, func, or_, select, union_all

from engine.persistence.tables import Employee
from engine.persistence.workflow_tables import HumanTask, HumanTaskCandidate, ProcessInstance

_task = HumanTask.__table__
_inst = ProcessInstance.__table__
_cand = HumanTaskCandidate.__table__
_emp = Employee.__table__

ROW_COLUMNS = (
    _task.c.id, _task.c.task_guid, _task.c.bpmn_id, _task.c.title, _task.c.lane, _inst.c.process_id,
    _inst.c.business_key.label("document_no"), _inst.c.id.label("instance_id"), _inst.c.applicant,
    _emp.c.name.label("applicant_name"), _inst.c.subject, _inst.c.amount, _inst.c.currency, _inst.c.purpose,
    _task.c.created_at, _task.c.due_at, _task.c.assignee, _task.c.candidate_count, _task.c.completed_at,
    _task.c.completed_by, _task.c.status, _task.c.form_key)
SORT_COLUMNS: dict[str, Any] = {"age": _task.c.created_at, "done": _task.c.completed_at, "due": _task.c.due_at,
                                "amount": _inst.c.amount}
SortKey = datetime | Decimal | None
VIEWS = ("mine", "claimable", "delegated", "done")


def _rows(*where: Any, via_candidates: bool = False) -> Select[Any]:
    start = _cand.join(_task, _task.c.id == _cand.c.task_id) if via_candidates else _task
    return (select(*ROW_COLUMNS).select_from(start.join(_inst, _inst.c.id == _task.c.instance_id)
                                             .outerjoin(_emp, _emp.c.code == _inst.c.applicant)).where(*where))


def _offered(employee: Any, *, pool: bool) -> Any:
    """A person's candidate rows of open, untaken tasks: their own (``pool`` false) or a pool's."""
    return and_(_cand.c.employee == employee, _cand.c.pool.is_(pool), _cand.c.taken.is_(False))


def _view(view: str, employee: Any) -> list[tuple[Select[Any], bool]]:
    """The view's rows as one or two SELECTs (branches of a UNION ALL), each driven by one index; True for
    a branch read through the candidate index."""
    is_open = _task.c.status == "open"
    if view == "mine":
        return [(_rows(_task.c.assignee == employee, is_open), False),
                (_rows(_offered(employee, pool=False), via_candidates=True), True)]
    if view == "claimable":
        return [(_rows(_offered(employee, pool=True), via_candidates=True), True)]
    if view == "delegated":
        return [(_rows(_task.c.delegated_by == employee, is_open), False)]
    if view == "done":
        return [(_rows(_task.c.completed_by == employee, _task.c.status == "completed"), False)]
    raise ValueError(f"view {view!r}")


def _sort_columns(sort: str, via_candidates: bool) -> tuple[Any, Any]:
    """(sort key, task id) columns; through the candidate index, its own copies where it has them."""
    if via_candidates and sort == "age":
        return _cand.c.created_at, _cand.c.task_id
    return SORT_COLUMNS[sort], _task.c.id


def _order(key: Any, task_id: Any, *, descending: bool, nullable: bool) -> tuple[Any, ...]:
    """(key, nulls last; id) ascending or descending; a key never null keeps an index's plain order."""
    ordered = key.desc() if descending else key.asc()
    return (ordered.nulls_last() if nullable else ordered, task_id.desc() if descending else task_id.asc())


def _like_escaped(text: str) -> str:
    """``text`` with LIKE's wildcards and the escape character itself escaped (ESCAPE '/')."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _text_filter() -> ColumnElement[bool]:
    """A document number starting with, an applicant's code or the subject equal to, or a name containing the
    search text (its binds: ``text_prefix``, ``text_code``, ``text_anywhere``)."""
    return or_(_inst.c.business_key.like(bindparam("text_prefix"), escape="/"),
               _inst.c.applicant == bindparam("text_code"), _inst.c.subject == bindparam("text_code"),
               _emp.c.name.like(bindparam("text_anywhere"), escape="/"))


def _text_binds(text: str) -> dict[str, str]:
    return {"text_prefix": _like_escaped(text.upper()) + "%", "text_code": text.upper(),
            "text_anywhere": "%" + _like_escaped(text) + "%"}


def _after(key: Any, task_id: Any, *, among_nulls: bool, descending: bool) -> ColumnElement[bool]:
    """Rows after the cursor's (``after_key``, ``after_id``) in the order (key, nulls last; id), ascending or
    descending; ``among_nulls``: the cursor's key is null (which comes last)."""
    last_id = bindparam("after_id", type_=task_id.type)
    next_id = task_id < last_id if descending else task_id > last_id
    if among_nulls:
        return and_(key.is_(None), next_id)
    value = bindparam("after_key", type_=key.type)
    beyond = key < value if descending else key > value
    return or_(beyond, and_(key == value, next_id), key.is_(None))


@functools.lru_cache(maxsize=1024)
def _page_statement(view: str, sort: str, descending: bool, by_process: bool, by_text: bool,
                    cursor: str | None) -> Select[Any]:
    """The page's SELECT for one shape of request, built once: building a union's column collections cost a
    request more than running it (docs/performance.md). Binds: ``employee``, ``limit`` and, as the shape
    needs them, ``process``, the text binds and ``after_key``/``after_id``. ``cursor``: None, "null" or
    "value"."""
    nullable = sort in ("due", "amount")
    where: list[ColumnElement[bool]] = [_inst.c.process_id == bindparam("process")] if by_process else []
    if by_text:
        where.append(_text_filter())
    limit = bindparam("limit", type_=Integer)
    branches = []
    for branch, via_candidates in _view(view, bindparam("employee")):
        key, task_id = _sort_columns(sort, via_candidates)
        condition = [_after(key, task_id, among_nulls=cursor == "null", descending=descending)] if cursor else []
        branches.append(branch.add_columns(key.label("sort_key")).where(*where, *condition)
                        .order_by(*_order(key, task_id, descending=descending, nullable=nullable)).limit(limit))
    if len(branches) == 1:
        return branches[0]
    both = union_all(*(select(b.subquery()) for b in branches)).subquery()
    return select(both).order_by(*_order(both.c.sort_key, both.c.id, descending=descending,
                                         nullable=nullable)).limit(limit)


def _counts_statement() -> Select[Any]:
    """How many rows each view holds, each counted from one index, in one round trip (bind: ``employee``)."""
    employee: Any = bindparam("employee")
    is_open = _task.c.status == "open"
    count = select(func.count()).select_from(_task)
    offered = select(func.count()).select_from(_cand)
    queries = {
        "assigned": count.where(_task.c.assignee == employee, is_open),
        "mine": offered.where(_offered(employee, pool=False)),
        "claimable": offered.where(_offered(employee, pool=True)),
        "delegated": count.where(_task.c.delegated_by == employee, is_open),
        "done": count.where(_task.c.completed_by == employee, _task.c.status == "completed"),
    }
    return select(*(q.scalar_subquery().label(name) for name, q in queries.items()))


_COUNTS = _counts_statement()


class SqlInboxQueries:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def page(self, employee: str, *, view: str, sort: str, descending: bool, process: str | None,
             text: str | None, after: tuple[SortKey, int] | None, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` rows of ``view`` after the keyset position ``after`` (sort key, task id).

        Each branch is ordered and limited on its own (the first rows of a union are among the first rows of
        its branches), so a person's own tasks sorted by age are read in index order and stop at the page.
        """
        if view not in VIEWS:
            raise ValueError(f"view {view!r}")
        sort = "done" if view == "done" and sort == "age" else sort
        cursor = None if after is None else "null" if after[0] is None else "value"
        stmt = _page_statement(view, sort, descending, bool(process), bool(text), cursor)
        params: dict[str, Any] = {"employee": employee, "limit": limit, "process": process}
        if text:
            params.update(_text_binds(text))
        if after is not None:
            params.update(after_key=after[0], after_id=after[1])
        return [dict(r._mapping) for r in self.conn.execute(stmt, params)]

    def counts(self, employee: str) -> dict[str, int]:
        """How many rows each view holds."""
        row = self.conn.execute(_COUNTS, {"employee": employee}).one()
        found = {name: int(n) for name, n in row._mapping.items()}
        found["mine"] += found.pop("assigned")
        return found

    def task_row(self, task_guid: str) -> dict[str, Any] | None:
        """One task as an inbox row (any status), with its status and form."""
        row = self.conn.execute(_rows(_task.c.task_guid == task_guid)).first()
        return None if row is None else dict(row._mapping)
