"""``GET /api/v2/cache``: prompt-cache analytics per local day, model or project (issue 15;
:mod:`claude_usage.cache_report`)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi import Query as Q

from claude_usage.api.params import MODEL_HELP, PROJECT_HELP, filters
from claude_usage.api.schemas import CacheResponse
from claude_usage.api.v2 import ERRORS, json_response
from claude_usage.reports import Query

router = APIRouter(prefix="/api/v2", tags=["usage"])


def cache_filters(
    request: Request,
    tz: str | None = Q(None, description="IANA time zone of the local days (default: the server's)"),
    startDate: str | None = Q(None, description="First local date, inclusive (YYYY-MM-DD)"),
    endDate: str | None = Q(None, description="Last local date, inclusive (YYYY-MM-DD)"),
    project: str | None = Q(None, description=PROJECT_HELP),
    model: str | None = Q(None, description=MODEL_HELP),
    user: str | None = Q(None, description="Team server only: the sessions of this user"),
    machine: str | None = Q(None, description="Team server only: the sessions of this machine (name or id)"),
) -> Query:
    """The common filters without the cost mode: savings are priced from the tokens at list
    rates whatever the lines logged."""
    return filters(request, tz, startDate, endDate, project, model, "auto", user, machine)


@router.get("/cache", response_model=CacheResponse, responses=ERRORS,
            summary="Prompt cache per local day, model or project: hit ratio, 5m / 1h writes, savings, 1h extra")
def cache(
    request: Request,
    q: Query = Depends(cache_filters),
    by: Literal["day", "model", "project"] = Q("day", description="One row per local day, model or project"),
) -> Response:
    from claude_usage.cache_report import cache_report, report_document

    state = request.app.state.store

    def compute(view):
        return report_document(cache_report(view, q, by, state.pricer()), q, by, view)

    return json_response(state.cached(("cache", q, by), compute))
