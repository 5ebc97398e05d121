"""``GET /api/v2/limits``: the official limits the status line recorded, our estimate beside
them, their history and the limit hits (:mod:`claude_usage.limits_report`)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi import Query as Q

from claude_usage import limits_report
from claude_usage.api.limit_schemas import LimitsResponse
from claude_usage.api.params import local_only, time_filters
from claude_usage.api.schemas import ErrorBody
from claude_usage.api.store import DataStore
from claude_usage.api.v2 import ERRORS, json_response
from claude_usage.blocks import HOUR_US
from claude_usage.reports import Query
from claude_usage.timebuckets import local_day_bounds_us

# The observations are this machine's (its status line's): 409 on a team server.
router = APIRouter(prefix="/api/v2", tags=["limits"], dependencies=[Depends(local_only)],
                   responses={409: {"model": ErrorBody, "description": "A team server, which keeps no status-line observations"}})
MAX_HOURS = 24 * 366  # the longest span of history asked for


def official_now(store: DataStore) -> dict[str, Any] | None:
    """The latest official state (:func:`claude_usage.limits_report.official_limits`) as of
    now; None on a team server, which keeps none."""
    if store.team:
        return None
    now = time.time_ns() // 1000
    return store.answer(lambda view: limits_report.official_limits(view, now))


def _span(q: Query, hours: int | None, now_us: int) -> tuple[int, int]:
    """``[first, end)`` in UTC microseconds: from the start of ``startDate`` (else ``hours``
    before the end, 24 by default) to the end of ``endDate`` (else now); with both ``hours`` and
    ``startDate``, the later start. A span longer than :data:`MAX_HOURS` keeps its last
    :data:`MAX_HOURS` (the answer's ``since`` says where it starts)."""
    first, end = local_day_bounds_us(q.clock.zone, q.since, q.until)
    end = min(end, now_us) if end is not None else now_us
    if first is None or hours is not None:
        first = max(first or 0, end - (hours or 24) * HOUR_US)
    first = max(first, end - MAX_HOURS * HOUR_US)
    return first, max(first, end)


@router.get("/limits", response_model=LimitsResponse, responses=ERRORS,
            summary="Official 5-hour and weekly limits (from the status line), our estimate, history and limit hits")
def limits(
    request: Request,
    tz: str | None = Q(None, description="IANA time zone of startDate and endDate (default: the server's)"),
    startDate: str | None = Q(None, description="First local date of the history, inclusive (YYYY-MM-DD)"),
    endDate: str | None = Q(None, description="Last local date of the history, inclusive (YYYY-MM-DD)"),
    hours: int | None = Q(None, ge=1, le=MAX_HOURS, description="History of the last N hours before endDate (or now); "
                          "24 when no startDate is given; with startDate, the later start of the two"),
) -> Response:
    from claude_usage.blocks import query_blocks

    store: DataStore = request.app.state.store
    q = time_filters(request, tz, startDate, endDate)
    now = time.time_ns() // 1000
    first, end = _span(q, hours, now)
    # The blocks of all requests, as /api/v2/blocks computes them without filters (one cache entry).
    every = Query(zone=q.zone)
    blocks = store.cached(("blocks", every, 5.0), lambda view: query_blocks(view, every, 5.0))
    document = store.answer(lambda view: limits_report.limits_document(view, first, end, now, blocks))
    return json_response({**document, "timezone": q.clock.name})
