"""The FastAPI application: routes, error bodies, health, docs and hardening (DESIGN 8-9)."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Sequence

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from claude_usage import __version__
from claude_usage.api import budget_routes, cache_routes, details, limits, metrics, team_routes, tooling, v2
from claude_usage.api import live as live_routes
from claude_usage.api.assets import Assets
from claude_usage.api.params import ApiError, known_parameters, refine_parameter_schemas
from claude_usage.api.schemas import ErrorBody, Health
from claude_usage.api.security import (
    HeadAsGet,
    RateLimit,
    ResponseCache,
    SameOriginWrites,
    SecurityHeaders,
    TrustedHosts,
    cors_middleware,
)
from claude_usage.api.store import DataStore
from claude_usage.team.connection import TeamError

DEFAULT_RATE_LIMIT = 600
HEALTH_WARNINGS = 100
_ERROR_TYPES = {400: "bad_parameter", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
_STATIC = Path(__file__).parent / "static"
_WEB = Path(__file__).parent.parent / "web"
_DOCS_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>claude-usage API</title><link rel="stylesheet" href="/docs-assets/swagger-ui.css">
<link rel="icon" href="/docs-assets/favicon.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs-assets/swagger-ui-bundle.js"></script><script src="/docs-assets/docs-init.js"></script>
</body></html>"""


def _error(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status_code=status)


def _validation_message(exc: RequestValidationError) -> str:
    problems = []
    for item in exc.errors():
        location = [str(part) for part in item.get("loc", ()) if part not in ("query", "path", "body")]
        name = ".".join(location) or "request"
        problems.append(f"Invalid parameter '{name}': {item.get('msg', 'invalid value')}")
    return "; ".join(problems) or "Invalid request"


_TEAM_ONLY_PATHS = ("/api/v2/users",)
_TEAM_PARAMETERS = ("user", "machine")
_LOCAL_ONLY_PREFIXES = ("/api/v2/tools", "/api/v2/mcp/", "/api/v2/todos", "/api/v2/logs/")


def _openapi(app: FastAPI, team: bool = False) -> dict[str, Any]:
    """The schema of what this server serves, with 400/429 answers documented and FastAPI's 422
    removed (validation errors are 400 here). A server of one machine's data leaves out the
    team endpoints and the ``user``/``machine`` filters; a team server (DESIGN 12) leaves out the
    views of local files."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        paths = schema.get("paths", {})
        for path in list(paths):
            if path.startswith(_LOCAL_ONLY_PREFIXES) if team else path in _TEAM_ONLY_PATHS:
                del paths[path]
            elif not team:
                for operation in paths[path].values():
                    operation["parameters"] = [p for p in operation.get("parameters", []) if p.get("name") not in _TEAM_PARAMETERS]
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        components.setdefault("ErrorBody", ErrorBody.model_json_schema())
        refine_parameter_schemas(schema)
        error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                if operation.get("parameters"):
                    responses.setdefault("400", {"description": "A bad parameter", **error})
                responses.setdefault("429", {"description": "Too many requests (rate limit)", **error})
        app.openapi_schema = schema
    return app.openapi_schema


def _plotly_js() -> Path:
    """plotly.js as shipped inside the ``plotly`` Python package (served locally: no CDN)."""
    import importlib.util

    spec = importlib.util.find_spec("plotly")
    assert spec is not None and spec.origin, "the plotly package is a dependency"
    return Path(spec.origin).parent / "package_data" / "plotly.min.js"


def _docs_assets() -> Path:
    """Swagger UI's files, shipped inside the ``fastapi-offline`` package (no CDN)."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


class _DocsAssets(StaticFiles):
    """Swagger UI's files, plus this package's start-up script for it."""

    async def get_response(self, path: str, scope: Any) -> Any:
        if path == "docs-init.js":
            from starlette.responses import FileResponse

            return FileResponse(_STATIC / "docs-init.js", media_type="text/javascript")
        return await super().get_response(path, scope)


def _team_health(view: Any) -> dict[str, Any]:
    """What a team server says of its database: machines, users, the latest push (no
    credentials: the database is named ``user@host:port/database`` in ``indexPath``)."""
    from claude_usage.team.users import iso_utc_sql

    machines, users, last = view.one(
        f"SELECT COUNT(*), COUNT(DISTINCT user_name), {iso_utc_sql('MAX(last_push)')} FROM machines")
    return {"machines": machines, "users": users, "lastPush": last}  # ISO-8601 UTC, as every time of the API


def create_app(
    store: DataStore,
    rate_limit: int = DEFAULT_RATE_LIMIT,
    origins: Sequence[str] = (),
    hosts: Sequence[str] | None = None,
    live: Any = None,
    metrics_public: bool = False,
) -> FastAPI:
    """The API over ``store``.

    Every 4xx answer has the body ``{"error", "message"}``. ``rate_limit`` is the number of
    requests per minute per client (0 = no limit); ``origins`` are the origins allowed by CORS
    (the server's own; none means same-origin only); ``hosts`` the accepted ``Host`` names
    (None: any); ``live`` (:class:`~claude_usage.api.live.Live`) keeps the data up to date while
    the app runs; ``metrics_public`` serves ``/metrics`` to clients of other machines too
    (loopback clients only otherwise).
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        task = asyncio.create_task(live.run()) if live is not None else None
        try:
            yield
        finally:
            if task is not None:
                live.stop()
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    app = FastAPI(
        lifespan=lifespan,
        dependencies=[Depends(known_parameters)],
        title="claude-usage",
        version=__version__,
        description="Tokens and USD cost of Claude Code use, from its JSONL transcripts.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.store = store
    app.state.live = live
    app.state.metrics_public = metrics_public

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.error, exc.message)

    @app.exception_handler(TeamError)
    async def team_error(_request: Request, exc: TeamError) -> JSONResponse:
        # The team database failed (down, restarted, rights): one line, without credentials.
        return _error(503, "team_database", str(exc))

    @app.exception_handler(Exception)
    async def server_error(_request: Request, exc: Exception) -> JSONResponse:
        # Logged by the server with its traceback; the client gets the API's error body.
        return _error(500, "internal_error", f"The server failed on this request ({type(exc).__name__}); see its log")

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(400, "bad_parameter", _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        error = _ERROR_TYPES.get(exc.status_code, "error")
        message = "No such endpoint" if exc.status_code == 404 else str(exc.detail)
        response = _error(exc.status_code, error, message)
        for name, value in (exc.headers or {}).items():  # e.g. Allow on a 405 (RFC 9110)
            response.headers[name] = value
        return response

    @app.get("/api/health", response_model=Health, tags=["server"], summary="Server and data status")
    def health() -> dict[str, Any]:
        from claude_usage.store import facts

        def read(view: Any) -> tuple:
            return facts.diagnostics(view), facts.warnings(view), facts.price_version(view)

        diagnostics, warnings, price_version = store.answer(read)
        problems = live.problems() if live is not None else live_routes.data_problems(diagnostics)
        status = live.state if live is not None and live.state != "ok" else ("degraded" if problems else "ok")
        body: dict[str, Any] = {
            "status": status,
            "problems": problems,
            "warnings": warnings[:HEALTH_WARNINGS],
            "warningCount": len(warnings),
            "watcher": live.watcher if live is not None else "off",
            "watcherNote": live.watcher_problem if live is not None else None,
            "version": __version__,
            "dataRoots": [str(root.projects_dir) for root in store.roots],
            "demo": any(root.origin == "demo" for root in store.roots),
            "files": diagnostics.files,
            "records": diagnostics.requests,
            "progress": round(live.progress, 4) if live is not None else 1.0,
            "indexPath": str(store.store.path),
            "dataVersion": store.version,
            "eventClients": len(live.hub.queues) if live is not None else 0,
            "lastRefresh": live.last_refresh if live is not None else {},
            "priceDataVersion": price_version,
            "timezone": store.default_zone,
            "diagnostics": {n: getattr(diagnostics, n) for n in diagnostics.__struct_fields__},
        }
        if store.notice:
            body["notice"] = store.notice
        if store.team:
            body["team"] = store.answer(_team_health)
        if live is not None and live.autopush is not None:
            body["push"] = live.autopush.status()
        return body

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(_DOCS_PAGE)

    # The dashboard's files: compressed once, with validators (304s); plotly.js is cached a day.
    assets = Assets()
    assets.add_folder(_WEB)
    assets.add("vendor/plotly.min.js", _plotly_js(), cache_control="max-age=86400")

    @app.get("/", include_in_schema=False)
    def dashboard(request: Request) -> Response:
        return assets.respond("index.html", request)

    @app.get("/assets/{name:path}", include_in_schema=False)
    def asset(name: str, request: Request) -> Response:
        if name not in assets:
            raise StarletteHTTPException(404)
        return assets.respond(name, request)

    app.mount("/docs-assets", _DocsAssets(directory=_docs_assets()), name="docs-assets")
    app.include_router(v2.router)
    app.include_router(cache_routes.router)
    app.include_router(details.router)
    app.include_router(tooling.router)
    app.include_router(limits.router)
    app.include_router(team_routes.router)
    app.include_router(live_routes.router)
    app.include_router(budget_routes.router)
    app.include_router(metrics.router)
    app.openapi = lambda: _openapi(app, store.team)  # type: ignore[method-assign]
    app.openapi()  # built once now, not on the first request
    # Outermost last: HEAD answered as GET without a body, headers on every answer (errors
    # included), the Host check, the limit, CORS, then the cache of whole answers.
    app.add_middleware(ResponseCache, store=store)
    app.add_middleware(cors_middleware(), allow_origins=list(origins), allow_methods=["GET", "POST"], allow_headers=["*"])
    app.add_middleware(RateLimit, per_minute=rate_limit)
    app.add_middleware(SameOriginWrites)
    app.add_middleware(TrustedHosts, hosts=None if hosts is None else list(hosts))
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HeadAsGet)
    return app
