"""``/api/v2`` usage endpoints: daily, weekly, monthly, models, projects (DESIGN section 8)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Literal

import msgspec
from fastapi import APIRouter, Depends, Request, Response
from fastapi import Query as Q

from claude_usage import reports
from claude_usage.api.params import OrderParam, filters, paginate
from claude_usage.api.schemas import (
    CostSeriesResponse,
    DailyResponse,
    ErrorBody,
    ModelsResponse,
    MonthlyResponse,
    ProjectsResponse,
    WeeklyResponse,
)
from claude_usage.api.store import DataStore
from claude_usage.reports import Query
from claude_usage.totals import Totals
from claude_usage.rows import cost_string, keyed_row, model_row, project_row
from claude_usage.store import facts

router = APIRouter(prefix="/api/v2", tags=["usage"])
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "A bad query parameter"},
    404: {"model": ErrorBody, "description": "No project or model matches a filter (the message suggests the closest names)"},
}
ACTIVE_DAYS = 30


def json_response(document: Any) -> Response:
    """A JSON response encoded by msgspec (no second validation pass)."""
    return Response(msgspec.json.encode(document), media_type="application/json")


def _store(request: Request) -> DataStore:
    return request.app.state.store


def _unpriced(groups: list[Totals]) -> list[str]:
    return sorted(set().union(*(t.unpriced_models for t in groups))) if groups else []


def _time_rows(store: DataStore, kind: str, q: Query, order: str) -> tuple[list[dict], list[str]]:
    def compute(view):
        series = {"date": reports.daily, "week": reports.weekly, "month": reports.monthly}[kind]
        groups = series(view, q, order)
        return [keyed_row(kind, key, t) for key, t in groups], _unpriced([t for _, t in groups])

    return store.cached((kind, q, order), compute)


def _listing(q: Query, rows: list[dict], unpriced: list[str], page: int, limit: int, **extra) -> Response:
    data, pagination = paginate(rows, page, limit)
    return json_response(
        {"data": data, "pagination": pagination, **extra, "timezone": q.clock.name, "unpricedModels": unpriced}
    )


@router.get("/daily", response_model=DailyResponse, responses=ERRORS, summary="Usage per local day")
def daily(
    request: Request,
    q: Query = Depends(filters),
    page: int = Q(1, ge=1, le=1_000_000),
    limit: int = Q(50, ge=1, le=1000),
    startHour: int | None = Q(None, ge=0, le=23, description="First local hour, inclusive"),
    endHour: int | None = Q(None, ge=0, le=23, description="Last local hour, inclusive; before startHour: a range across midnight"),
    order: OrderParam = Q("asc"),
) -> Response:
    q = replace(q, start_hour=startHour, end_hour=endHour)
    rows, unpriced = _time_rows(_store(request), "date", q, order)
    return _listing(q, rows, unpriced, page, limit)


@router.get("/weekly", response_model=WeeklyResponse, responses=ERRORS, summary="Usage per week (Monday start)")
def weekly(
    request: Request,
    q: Query = Depends(filters),
    page: int = Q(1, ge=1, le=1_000_000),
    limit: int = Q(26, ge=1, le=520),
    order: OrderParam = Q("asc"),
) -> Response:
    rows, unpriced = _time_rows(_store(request), "week", q, order)
    return _listing(q, rows, unpriced, page, limit)


@router.get("/monthly", response_model=MonthlyResponse, responses=ERRORS, summary="Usage per local month")
def monthly(
    request: Request,
    q: Query = Depends(filters),
    page: int = Q(1, ge=1, le=1_000_000),
    limit: int = Q(12, ge=1, le=120),
    year: int | None = Q(None, ge=1970, le=9999, description="Only months of this year"),
    order: OrderParam = Q("asc"),
) -> Response:
    if year is not None:
        since, until = max(q.since or "", f"{year:04d}-01-01"), min(q.until or "9999", f"{year:04d}-12-31")
        q = replace(q, since=since, until=until)
    from claude_usage.plan_value import plan_document, served_plan, with_value

    rows, unpriced = _time_rows(_store(request), "month", q, order)
    plan = served_plan()
    return _listing(q, with_value(rows, plan), unpriced, page, limit, plan=plan_document(plan))


ModelSort = Literal["totalTokens", "cost", "messages", "sessions", "model"]
_MODEL_SORT = {
    "totalTokens": lambda row: row["totalTokens"],
    "cost": lambda row: row["costUsd"] or 0.0,
    "messages": lambda row: row["messages"],
    "sessions": lambda row: row["sessions"],
    "model": lambda row: row["model"],
}


@router.get("/models", response_model=ModelsResponse, responses=ERRORS, summary="Usage per model")
def models(
    request: Request,
    q: Query = Depends(filters),
    sortBy: ModelSort = Q("totalTokens"),
    sortOrder: OrderParam = Q("desc"),
) -> Response:
    store = _store(request)

    def compute(view):
        groups = reports.by_models(view, q)
        rows = [model_row(model, t) for model, t in groups.items()]
        rows.sort(key=_MODEL_SORT[sortBy], reverse=sortOrder == "desc")
        every = reports.overall(view, q)
        most_used = max(rows, key=lambda row: (row["requests"], row["totalTokens"]), default=None)
        stats = {
            "totalModels": len(rows),
            "totalTokens": every.total_tokens,
            "totalCost": cost_string(every.cost_usd),
            "totalMessages": every.requests,
            "totalSessions": every.sessions,
            "mostUsedModel": most_used["model"] if most_used else None,
        }
        return {"data": rows, "stats": stats, "timezone": q.clock.name, "unpricedModels": _unpriced(list(groups.values()))}

    return json_response(store.cached(("models", q, sortBy, sortOrder), compute))


ProjectSort = Literal["lastActivity", "totalCost", "totalTokens", "name", "messageCount"]
_PROJECT_SORT = {
    "lastActivity": lambda row: row["lastActivity"] or "",
    "totalCost": lambda row: row["costUsd"] or 0.0,
    "totalTokens": lambda row: row["totalTokens"],
    "name": lambda row: row["name"].lower(),
    "messageCount": lambda row: row["messageCount"],
}


@router.get("/projects", response_model=ProjectsResponse, responses=ERRORS, summary="Usage per project")
def projects(
    request: Request,
    q: Query = Depends(filters),
    page: int = Q(1, ge=1, le=1_000_000),
    limit: int = Q(20, ge=1, le=200),
    sortBy: ProjectSort = Q("lastActivity"),
    sortOrder: OrderParam = Q("desc"),
    minCost: float | None = Q(None, ge=0, description="Only projects costing at least this many USD"),
    search: str | None = Q(None, description="Case-insensitive substring of the project key or path"),
) -> Response:
    store = _store(request)

    def compute(view):
        groups = reports.by_projects(view, q)
        paths = facts.project_paths(view, list(groups))
        rows = [project_row(paths, name, t) for name, t in groups.items()]
        needle = search.lower() if search else None
        if needle:
            rows = [r for r in rows if needle in r["name"].lower() or needle in (r["path"] or "").lower()]
        if minCost is not None:
            rows = [r for r in rows if (r["costUsd"] or 0.0) >= minCost]
        rows.sort(key=_PROJECT_SORT[sortBy], reverse=sortOrder == "desc")
        shown = {r["name"] for r in rows}
        cutoff = (time.time() - ACTIVE_DAYS * 86400) * 1_000_000
        stats = {
            "totalProjects": len(rows),
            "totalCost": cost_string(sum(groups[n].cost_usd for n in shown)),
            "totalTokens": sum(r["totalTokens"] for r in rows),
            "totalMessages": sum(r["messageCount"] for r in rows),
            "activeProjects": sum(1 for n in shown if (groups[n].last_ts_us or 0) >= cutoff),
        }
        return rows, stats, _unpriced([groups[n] for n in shown])

    rows, stats, unpriced = store.cached(("projects", q, sortBy, sortOrder, minCost, search), compute)
    return _listing(q, rows, unpriced, page, limit, stats=stats)


@router.get("/cost-series", response_model=CostSeriesResponse, responses=ERRORS,
            summary="Cost and tokens per local day, one series per model or per project (for stacked charts)")
def cost_series(
    request: Request,
    q: Query = Depends(filters),
    by: Literal["model", "project"] = Q("model", description="One series per model or per project"),
) -> Response:
    from claude_usage import insights

    def compute(view):
        return {"by": by, **insights.cost_series(view, q, by), "timezone": q.clock.name,
                "unpricedModels": sorted(reports.overall(view, q).unpriced_models)}

    return json_response(_store(request).cached(("cost-series", q, by), compute))
