"""``/api/v2`` summary, hourly, sessions and the detail views of a day, month, project, session."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi import Query as Q

from claude_usage import documents, limits_report, reports, session_info
from claude_usage.api.params import ApiError, OrderParam, bad_parameter, filters
from claude_usage.api.schemas import (
    BlocksResponse,
    DayDetail,
    ErrorBody,
    HourlyResponse,
    MonthDetail,
    ProjectDetail,
    SessionDetail,
    SessionRequests,
    SessionsResponse,
    SummaryResponse,
)
from claude_usage.api.store import DataStore
from claude_usage.api.v2 import ERRORS, json_response
from claude_usage.reports import Query
from claude_usage.rows import session_row
from claude_usage.local_files import project_sessions, todos_in
from claude_usage.sources.todos import todo_files, todo_lists
from claude_usage.store import facts
from claude_usage.timebuckets import parse_day

router = APIRouter(prefix="/api/v2", tags=["details"])
DETAIL_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"model": ErrorBody, "description": "Nothing with this key in the selection"},
}
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def _store(request: Request) -> DataStore:
    return request.app.state.store


def _found(document: dict | None, what: str, q: Query) -> Response:
    if document is None:
        raise ApiError(404, "not_found", f"No usage for {what} (timezone {q.clock.name}, with the filters given)")
    return json_response(document)


def full_summary(store: DataStore, q: Query, view: Any) -> dict[str, Any]:
    """The summary of the API: the store's, plus the sessions that used MCP tools and the todo
    lists (both within the filters), and the bytes of every data file (transcripts, todo
    lists, MCP logs). A team server has no local files: its MCP and todo counts are null and
    its size is that of the pushed transcripts."""
    if store.team:
        return documents.summary(view, q, {"totalMcpSessions": None, "totalTodoFiles": None})
    todos = todo_files(store.roots)
    logs = store.logs.summaries()
    other_bytes = sum(path.stat().st_size for path in todos) + sum(log.size for log in logs)
    todo_count = len(todos)
    if q.since or q.until or q.project is not None:
        sessions = None if q.project is None else project_sessions(view, q.project)
        todo_count = len(todos_in(todo_lists(store.roots), q, sessions))
    extra = {"totalMcpSessions": store.mcp_sessions(view, q), "totalTodoFiles": todo_count}
    document = documents.summary(view, q, extra)
    document["totalSize"] += other_bytes
    return document


@router.get("/summary", response_model=SummaryResponse, responses=ERRORS, summary="Totals at a glance")
def summary(request: Request, q: Query = Depends(filters)) -> Response:
    from claude_usage.api.limits import official_now

    store = _store(request)
    document = store.cached(("summary", q), lambda view: full_summary(store, q, view))
    return json_response({**document, "officialLimits": official_now(store)})


@router.get("/hourly", response_model=HourlyResponse, responses=ERRORS, summary="Usage per local hour of day")
def hourly(
    request: Request,
    q: Query = Depends(filters),
    date: str | None = Q(None, description="One local day (YYYY-MM-DD); overrides startDate/endDate"),
) -> Response:
    if date is not None:
        try:
            day = parse_day(date).isoformat()
        except ValueError as error:
            raise bad_parameter("date", str(error)) from None
        q = replace(q, since=day, until=day)
    store = _store(request)
    return json_response(store.cached(("hourly", q), lambda view: documents.hourly(view, q)))


@router.get("/blocks", response_model=BlocksResponse, responses=ERRORS,
            summary="5-hour blocks: cost per block, gaps, the active block's burn rate and projection")
def blocks(
    request: Request,
    q: Query = Depends(filters),
    active: bool = Q(False, description="Only the active block"),
    recent: bool = Q(False, description="Blocks started in the last 3 days, and the active one"),
    tokenLimit: str | None = Q(None, description="Your token limit per block, or 'max' (estimate: largest past block)"),
    costLimit: str | None = Q(None, description="Your cost limit per block in USD, or 'max' (estimate: largest past block)"),
    sessionLength: float = Q(5.0, ge=0.25, le=168, multiple_of=0.25, description="Block length in hours, in steps of 0.25"),
) -> Response:
    from claude_usage.blocks import blocks_document, parse_limit, query_blocks

    limits = []
    for name, given in (("tokenLimit", tokenLimit), ("costLimit", costLimit)):
        try:
            if given is not None and not given.strip():
                raise ValueError("empty: give a positive number or 'max', or leave it out")
            limits.append(parse_limit(given))
        except ValueError as error:
            raise bad_parameter(name, str(error)) from None
    tokens, cost = limits
    store = _store(request)
    built = store.cached(("blocks", q, sessionLength), lambda view: query_blocks(view, q, sessionLength))
    from claude_usage.api.limits import official_now

    document = blocks_document(built, time.time_ns() // 1000, sessionLength, active, recent, tokens, cost)
    unpriced = sorted(set().union(*(b.totals.unpriced_models for b in built)))
    return json_response({**document, "officialLimits": official_now(store), "timezone": q.clock.name,
                          "unpricedModels": unpriced})


@router.get("/daily/{date}", response_model=DayDetail, responses=DETAIL_ERRORS, summary="One day in detail")
def day(
    request: Request,
    date: str = Path(description="Local date YYYY-MM-DD (or YYYYMMDD)", pattern=r"^\d{4}-?\d{2}-?\d{2}$"),
    q: Query = Depends(filters),
) -> Response:
    try:
        key = parse_day(date).isoformat()
    except ValueError as error:
        raise bad_parameter("date", str(error)) from None
    store = _store(request)
    return _found(store.cached(("day", q, key), lambda view: documents.day_detail(view, q, key)), key, q)


@router.get("/monthly/{month}", response_model=MonthDetail, responses=DETAIL_ERRORS, summary="One month in detail")
def month(
    request: Request,
    month: str = Path(description="Local month YYYY-MM", pattern=r"^\d{4}-\d{2}$"),
    q: Query = Depends(filters),
) -> Response:
    if not _MONTH.match(month):
        raise bad_parameter("month", f"{month!r} is not a month; use YYYY-MM")
    store = _store(request)
    return _found(store.cached(("month", q, month), lambda view: documents.month_detail(view, q, month)), month, q)


@router.get("/projects/{name}", response_model=ProjectDetail, responses=DETAIL_ERRORS, summary="One project in detail")
def project(request: Request, name: str = Path(description="Project key (directory under projects/)"), q: Query = Depends(filters)) -> Response:
    store = _store(request)
    document = store.cached(("project", q, name), lambda view: documents.project_detail(view, q, name))
    return _found(document, f"project {name!r}", q)


SessionSort = Literal["lastActivity", "cost", "totalTokens"]


@router.get("/sessions", response_model=SessionsResponse, responses=ERRORS, summary="Usage per session")
def sessions(
    request: Request,
    q: Query = Depends(filters),
    page: int = Q(1, ge=1, le=1_000_000),
    limit: int = Q(50, ge=1, le=500),
    sortBy: SessionSort = Q("lastActivity"),
    sortOrder: OrderParam = Q("desc"),
) -> Response:
    store = _store(request)

    def compute(view):
        count, groups = reports.session_page(view, q, sortBy, sortOrder == "desc", (page - 1) * limit, limit)
        paths = facts.project_paths(view, sorted({p for _, t in groups for p in t.projects}))
        unpriced = sorted(reports.overall(view, q).unpriced_models)
        named = session_info.titles(view, [s for s, _ in groups])
        theirs = limits_report.session_costs(view, [s for s, _ in groups])
        return count, [session_row(paths, s, t, breakdown=True, titles=named, claude_code_costs=theirs)
                       for s, t in groups], unpriced

    count, data, unpriced = store.cached(("sessions", q, sortBy, sortOrder, page, limit, store.observed), compute)
    pages = max(1, -(-count // limit))
    pagination = {"currentPage": page, "totalPages": pages, "totalItems": count, "itemsPerPage": limit,
                  "hasNext": page < pages, "hasPrev": page > 1}
    return json_response({"data": data, "pagination": pagination, "timezone": q.clock.name, "unpricedModels": unpriced})


@router.get("/sessions/{session_id}", response_model=SessionDetail, responses=DETAIL_ERRORS, summary="One session in detail")
def session(request: Request, session_id: str = Path(description="Session id"), q: Query = Depends(filters)) -> Response:
    store = _store(request)
    document = store.cached(("session", q, session_id, store.observed), lambda view: documents.session_detail(view, q, session_id))
    return _found(document, f"session {session_id!r}", q)


@router.get("/sessions/{session_id}/requests", response_model=SessionRequests, responses=DETAIL_ERRORS,
            summary="One session's requests in time order (its timeline)")
def session_requests(
    request: Request,
    session_id: str = Path(description="Session id"),
    q: Query = Depends(filters),
    limit: int = Q(session_info.TIMELINE_LIMIT, ge=1, le=20_000, description="Requests at most (the first ones)"),
) -> Response:
    store = _store(request)
    count, rows = store.cached(("session-requests", q, session_id, limit),
                               lambda view: session_info.timeline(view, q, session_id, limit))
    if not count:
        raise ApiError(404, "not_found", f"No usage for session {session_id!r} (timezone {q.clock.name}, with the filters given)")
    return json_response({"sessionId": session_id, "data": rows, "totalRequests": count, "shown": len(rows),
                          "timezone": q.clock.name})
