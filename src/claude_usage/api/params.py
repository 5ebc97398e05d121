"""Query parameters shared by the aggregate endpoints, validated into a report :class:`Query`.

Every bad value becomes HTTP 400 ``{"error": "bad_parameter", "message": ...}`` naming the
parameter (DESIGN section 8).
"""

from __future__ import annotations

from typing import Any, Literal

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


_ALLOWED: dict[int, frozenset[str]] = {}
_DATE = {"type": "string", "format": "date"}
_LIMIT = {"anyOf": [{"type": "string", "enum": ["max"]}, {"type": "number", "minimum": 1e-6, "maximum": 1e15}]}
# What the handlers accept, stated more exactly in the OpenAPI schema than the Python types can
# (an IANA zone, a calendar date, a month, a positive limit or "max"). The handlers also accept
# what the schema does not promise (YYYYMMDD dates, zone names in any case).
PARAMETER_SCHEMAS: dict[tuple[str, str], dict] = {
    ("query", "tz"): {"$ref": "#/components/schemas/TimeZone"},
    ("query", "startDate"): _DATE,
    ("query", "endDate"): _DATE,
    ("query", "date"): _DATE,
    ("path", "date"): _DATE,
    ("path", "month"): {"type": "string", "pattern": "^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$"},
    ("query", "tokenLimit"): _LIMIT,
    ("query", "costLimit"): _LIMIT,
}


def refine_parameter_schemas(schema: dict) -> None:
    """Give the parameters of :data:`PARAMETER_SCHEMAS` their exact schema in an OpenAPI
    document (in place), and add the ``TimeZone`` component (every IANA zone name)."""
    import zoneinfo

    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                exact = PARAMETER_SCHEMAS.get((parameter.get("in"), parameter.get("name")))
                if exact is not None:
                    parameter["schema"] = dict(exact)
    zones = sorted(name for name in zoneinfo.available_timezones() if "/" in name or name == "UTC")
    schema.setdefault("components", {}).setdefault("schemas", {})["TimeZone"] = {
        "type": "string", "enum": zones, "description": "An IANA time zone name (any case is accepted)"}


def _query_names(dependant: Any) -> set[str]:
    """The query parameter names of a route's dependency tree (its own and its dependencies')."""
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def known_parameters(request: Request) -> None:
    """Refuse (400) an ``/api/`` request naming a query parameter its endpoint does not take.

    A misspelt filter (``?startdate=``) would otherwise be ignored and answer with the wrong,
    unfiltered numbers; and answers that differ only in a made-up parameter would each be
    computed and cached. Applied to every route (an app-wide dependency)."""
    if not request.url.path.startswith("/api/"):
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    allowed = _ALLOWED.get(id(route))
    if allowed is None:
        allowed = _ALLOWED[id(route)] = frozenset(_query_names(dependant))
    for name in request.query_params.keys():
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise bad_parameter(name, f"this endpoint takes no such parameter (it takes: {known})")


def _local_date(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return parse_day(value).isoformat()
    except ValueError as error:
        raise bad_parameter(name, str(error)) from None


PROJECT_HELP = "Project: its key (directory under projects/), its path, or the last part of its path"
MODEL_HELP = "Model: its id, or a short name as the tables show it (opus-4-1, sonnet)"


def filters(
    request: Request,
    tz: str | None = Q(None, description="IANA time zone of the local buckets (default: the server's)"),
    startDate: str | None = Q(None, description="First local date, inclusive (YYYY-MM-DD)"),
    endDate: str | None = Q(None, description="Last local date, inclusive (YYYY-MM-DD)"),
    project: str | None = Q(None, description=PROJECT_HELP),
    model: str | None = Q(None, description=MODEL_HELP),
    mode: CostModeParam = Q("auto", description="Cost mode: auto (costUSD when present), calculate, display"),
    user: str | None = Q(None, description="Team server only: the sessions of this user"),
    machine: str | None = Q(None, description="Team server only: the sessions of this machine (name or id)"),
) -> Query:
    """The common filters of DESIGN section 8 as a report query (zone checked, dates parsed,
    ``project`` and ``model`` resolved to the keys and ids they name, see
    :mod:`claude_usage.filters`). A project or model that names nothing is a 404 whose
    message suggests the closest names.

    An ``endDate`` before ``startDate`` is an empty range (no day matches), not an error.
    ``user`` and ``machine`` (DESIGN 12) are refused (400) by a server of one machine's data."""
    query = time_filters(request, tz, startDate, endDate)
    if (user is not None or machine is not None) and not request.app.state.store.team:
        name = "user" if user is not None else "machine"
        raise bad_parameter(name, "this server reads one machine's transcripts; users and machines are filters of a "
                            "team server (claude-usage serve --team URL)")
    projects, models = resolve_names(request, project, model)
    return Query(zone=query.zone, since=query.since, until=query.until, project=projects, model=models, mode=mode,
                 user=user, machine=machine)


def time_filters(request: Request, tz: str | None, startDate: str | None, endDate: str | None) -> Query:
    """A query of the zone and the local dates only (checked: 400 names a bad one)."""
    if tz is not None and not tz.strip():
        raise bad_parameter("tz", "empty: give an IANA zone such as 'UTC' or 'Europe/Paris', or leave it out")
    zone = tz or request.app.state.store.default_zone
    try:
        clock_for(zone)
    except ZoneError as error:
        raise bad_parameter("tz", str(error)) from None
    return Query(zone=zone, since=_local_date("startDate", startDate), until=_local_date("endDate", endDate))


def resolve_names(request: Request, project: str | None, model: str | None) -> tuple[Any, Any]:
    """``(project keys, model ids)`` named by the ``project`` and ``model`` parameters (None
    where not given); raises a 404 with suggestions for a name that matches nothing."""
    from claude_usage.filters import NoMatch, resolve

    if not (project and project.strip()) and not (model and model.strip()):
        return None, None
    try:
        return request.app.state.store.answer(lambda view: resolve(view, project, model))
    except NoMatch as error:
        raise ApiError(404, "not_found", f"Parameter '{error.what}': {error}") from None


def report_filters(
    request: Request,
    tz: str | None = Q(None, description="IANA time zone of the local dates (default: the server's)"),
    startDate: str | None = Q(None, description="First local date, inclusive (YYYY-MM-DD)"),
    endDate: str | None = Q(None, description="Last local date, inclusive (YYYY-MM-DD)"),
    project: str | None = Q(None, description=PROJECT_HELP),
    model: str | None = Q(None, description=MODEL_HELP),
) -> Query:
    """The filters of the tool analytics: dates, project and model (no cost mode: tools have
    no cost)."""
    query = time_filters(request, tz, startDate, endDate)
    projects, models = resolve_names(request, project, model)
    return Query(zone=query.zone, since=query.since, until=query.until, project=projects, model=models)


def file_filters(
    request: Request,
    tz: str | None = Q(None, description="IANA time zone of the local dates (default: the server's)"),
    startDate: str | None = Q(None, description="First local date, inclusive (YYYY-MM-DD)"),
    endDate: str | None = Q(None, description="Last local date, inclusive (YYYY-MM-DD)"),
    project: str | None = Q(None, description=PROJECT_HELP),
) -> Query:
    """The filters of the MCP logs and todo lists: dates and project (files have no model)."""
    query = time_filters(request, tz, startDate, endDate)
    projects, _ = resolve_names(request, project, None)
    return Query(zone=query.zone, since=query.since, until=query.until, project=projects)


def local_only(request: Request) -> None:
    """Refuse (409 ``local_only``) an endpoint that reads this machine's files (the file
    viewer, MCP logs, todo lists, tool calls) on a team server, which has none of them."""
    if request.app.state.store.team:
        raise ApiError(409, "local_only", f"{request.url.path} reads the files of the machine the server runs on; a team "
                       "server has only the pushed requests (run `claude-usage serve` on that machine)")


def team_only(request: Request) -> None:
    """Refuse (409 ``team_only``) an endpoint of team mode on a server of one machine's data."""
    if not request.app.state.store.team:
        raise ApiError(409, "team_only", f"{request.url.path} is served by a team server (claude-usage serve --team URL)")


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
