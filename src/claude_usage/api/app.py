"""The FastAPI application: routes, error bodies and the health endpoint (DESIGN sections 8-9)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from claude_usage import __version__
from claude_usage.api import v2
from claude_usage.api.params import ApiError
from claude_usage.api.schemas import Health
from claude_usage.api.store import DataStore

_ERROR_TYPES = {400: "bad_parameter", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def _error(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status_code=status)


def _validation_message(exc: RequestValidationError) -> str:
    problems = []
    for item in exc.errors():
        location = [str(part) for part in item.get("loc", ()) if part not in ("query", "path", "body")]
        name = ".".join(location) or "request"
        problems.append(f"Invalid query parameter '{name}': {item.get('msg', 'invalid value')}")
    return "; ".join(problems) or "Invalid request"


def _openapi_without_422(app: FastAPI) -> dict[str, Any]:
    """The schema, minus FastAPI's default 422 answers: validation errors are 400 here."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(store: DataStore) -> FastAPI:
    """The API over ``store``; every 4xx answer has the body ``{"error", "message"}``."""
    # FastAPIOffline serves the Swagger UI and ReDoc assets from the package: no CDN (DESIGN 9).
    app = FastAPIOffline(
        title="claude-usage",
        version=__version__,
        description="Tokens and USD cost of Claude Code use, from its JSONL transcripts.",
    )
    app.state.store = store

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.error, exc.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(400, "bad_parameter", _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        error = _ERROR_TYPES.get(exc.status_code, "error")
        message = "No such endpoint" if exc.status_code == 404 else str(exc.detail)
        return _error(exc.status_code, error, message)

    @app.get("/api/health", response_model=Health, tags=["server"], summary="Server and data status")
    def health() -> dict[str, Any]:
        dataset = store.dataset
        body: dict[str, Any] = {
            "status": "ok",
            "version": __version__,
            "dataRoots": [str(root.projects_dir) for root in dataset.roots],
            "files": dataset.diagnostics.files,
            "records": len(dataset.records),
            "progress": 1.0,
            "indexPath": None,
            "priceDataVersion": dataset.price_version,
            "timezone": store.default_zone,
            "diagnostics": {n: getattr(dataset.diagnostics, n) for n in dataset.diagnostics.__struct_fields__},
        }
        if store.notice:
            body["notice"] = store.notice
        return body

    app.include_router(v2.router)
    app.openapi = lambda: _openapi_without_422(app)  # type: ignore[method-assign]
    return app
