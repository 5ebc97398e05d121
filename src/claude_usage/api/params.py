"""Query parameters shared by the aggregate endpoints, validated into a report :class:`Query`.

Every bad value becomes HTTP 400 ``{"error": "bad_parameter", "message": ...}`` naming the
parameter (DESIGN section 8).
"""

from __future__ import annotations

from typing import Literal

from fastapi import Query as Q
from fastapi import Request

from claude_usage.reports import Query, clock_for
from claude_usage.timebuckets import ZoneError, parse_day

CostModeParam = Literal["auto", "calculate", "display"]
OrderParam = Literal["asc", "desc"]


class ApiError(Exception):
    """An HTTP error with the API's error body: ``status``, short ``error`` type, ``message``."""

    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


def bad_parameter(name: str, problem: str) -> ApiError:
    """A 400 naming the parameter."""
    return ApiError(400, "bad_parameter", f"Invalid parameter '{name}': {problem}")


def _local_date(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return parse_day(value).isoformat()
    except ValueError as error:
        raise bad_parameter(name, str(error)) from None


def filters(
    request: Request,
    tz: str | None = Q(None, description="IANA time zone of the local buckets (default: the server's)"),
    startDate: str | None = Q(None, description="First local date, inclusive (YYYY-MM-DD)"),
    endDate: str | None = Q(None, description="Last local date, inclusive (YYYY-MM-DD)"),
    project: str | None = Q(None, description="Project key (directory under projects/), exact"),
    model: str | None = Q(None, description="Model id, exact"),
    mode: CostModeParam = Q("auto", description="Cost mode: auto (costUSD when present), calculate, display"),
) -> Query:
    """The common filters of DESIGN section 8 as a report query (zone checked, dates parsed)."""
    zone = tz or request.app.state.store.default_zone
    try:
        clock_for(zone)
    except ZoneError as error:
        raise bad_parameter("tz", str(error)) from None
    since = _local_date("startDate", startDate)
    until = _local_date("endDate", endDate)
    if since and until and since > until:
        raise bad_parameter("endDate", f"{until} is before startDate {since}")
    return Query(zone=zone, since=since, until=until, project=project, model=model, mode=mode)


def paginate(items: list, page: int, limit: int) -> tuple[list, dict]:
    """One page of ``items`` and the ``pagination`` object (pages past the end are empty)."""
    total = len(items)
    pages = max(1, -(-total // limit))
    start = (page - 1) * limit
    return items[start : start + limit], {
        "currentPage": page,
        "totalPages": pages,
        "totalItems": total,
        "itemsPerPage": limit,
        "hasNext": page < pages,
        "hasPrev": page > 1,
    }
