"""``/api/v2`` tools, MCP tools and logs, todo lists, and the file viewer (DESIGN sections 8-9)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request, Response
from fastapi import Path as P
from fastapi import Query as Q

from claude_usage import tools
from claude_usage.api.params import ApiError, bad_parameter, paginate
from claude_usage.api.schemas import ErrorBody, FileContent, McpLogsResponse, McpToolDetail, McpToolsResponse, TodosResponse, ToolsResponse
from claude_usage.api.store import DataStore
from claude_usage.api.v2 import ERRORS, json_response
from claude_usage.sources.discovery import is_within
from claude_usage.sources.todos import todo_lists
from claude_usage.timebuckets import iso_utc

router = APIRouter(prefix="/api/v2", tags=["tools and files"])
MAX_FILE_BYTES = 10 * 1024 * 1024
_NOT_FOUND = {404: {"model": ErrorBody, "description": "No such tool or file"}}
_FILE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    **_NOT_FOUND,
    403: {"model": ErrorBody, "description": "The file is outside the data roots"},
    413: {"model": ErrorBody, "description": "The file is over 10 MB"},
}


def _store(request: Request) -> DataStore:
    return request.app.state.store


@router.get("/tools", response_model=ToolsResponse, summary="Every tool used (built-in and MCP)")
def all_tools(request: Request) -> Response:
    store = _store(request)

    def compute():
        ranked = tools.ranked(tools.tool_stats(store.dataset))
        return {
            "data": [s.row() for s in ranked],
            "totalCalls": sum(s.calls for s in ranked),
            "uniqueTools": len(ranked),
            "totalErrors": sum(s.errors for s in ranked),
        }

    return json_response(store.cached(("tools",), compute))


@router.get("/mcp/tools", response_model=McpToolsResponse, summary="MCP tools and the sessions that used them")
def mcp_tools(request: Request) -> Response:
    store = _store(request)

    def compute():
        calls = tools.mcp_calls(store.dataset)
        ranked = tools.ranked(tools.tool_stats(store.dataset, calls))
        return {
            "totalCalls": len(calls),
            "uniqueTools": len(ranked),
            "tools": [s.row() for s in ranked],
            "sessions": tools.session_tool_use(calls)[: tools.LATEST_MCP_SESSIONS],
        }

    return json_response(store.cached(("mcp-tools",), compute))


@router.get("/mcp/tools/{name}", response_model=McpToolDetail, responses=_NOT_FOUND, summary="One MCP tool")
def mcp_tool(request: Request, name: str = P(description="Full tool name, e.g. mcp__github__get_issue")) -> Response:
    store = _store(request)

    def compute():
        calls = [c for c in tools.mcp_calls(store.dataset) if c.name == name]
        if not calls:
            return None
        stats = tools.tool_stats(store.dataset, calls)[name]
        return {**stats.row(), "sessions": tools.session_tool_use(calls)}

    document = store.cached(("mcp-tool", name), compute)
    if document is None:
        raise ApiError(404, "not_found", f"No MCP tool {name!r} in the transcripts (see /api/v2/mcp/tools)")
    return json_response(document)


@router.get("/mcp/logs", response_model=McpLogsResponse, responses=ERRORS, summary="MCP server log files")
def mcp_logs(
    request: Request,
    page: int = Q(1, ge=1),
    limit: int = Q(50, ge=1, le=500),
    sessionId: str | None = Q(None, description="Only logs whose first entry has this session id"),
    server: str | None = Q(None, description="Only logs of this server (the mcp-logs-<server> dir)"),
) -> Response:
    summaries = _store(request).logs.summaries()
    if sessionId is not None:
        summaries = [s for s in summaries if s.session_id == sessionId]
    if server is not None:
        summaries = [s for s in summaries if s.log.server == server]
    data, pagination = paginate([s.row() for s in summaries], page, limit)
    return json_response({"data": data, "pagination": pagination})


@router.get("/todos", response_model=TodosResponse, responses=ERRORS, summary="TodoWrite lists")
def todos(request: Request, page: int = Q(1, ge=1), limit: int = Q(50, ge=1, le=500)) -> Response:
    rows = [t.row() for t in todo_lists(_store(request).dataset.roots)]
    data, pagination = paginate(rows, page, limit)
    return json_response({"data": data, "pagination": pagination})


def resolve_inside(requested: str, roots: list[Path]) -> Path:
    """The real path of ``requested`` if it lies inside one of ``roots``.

    Raises :class:`ApiError` 403 when it does not (after resolving ``..``, symlinks and
    URL-encoded separators; a relative path is taken relative to the first root) and 404 when
    it does not exist. Only regular files are served.
    """
    if "\x00" in requested:
        raise ApiError(403, "forbidden", "NUL characters are not accepted in a path")
    decoded = requested
    for _ in range(3):  # a name that still decodes after the server's own decoding is suspect
        once = unquote(decoded)
        if once == decoded:
            break
        decoded = once
    if "\x00" in decoded or any(decoded.count(part) > requested.count(part) for part in ("/", "\\", "..")):
        raise ApiError(403, "forbidden", "Encoded path separators are not accepted; give the plain path")
    candidate = Path(requested).expanduser()
    if not candidate.is_absolute():
        if not roots:
            raise ApiError(403, "forbidden", "No data roots to serve files from")
        candidate = roots[0] / candidate
    if not any(is_within(candidate, root) for root in roots):
        raise ApiError(403, "forbidden", "The file is outside the data roots (transcripts, todos, MCP logs)")
    real = Path(os.path.realpath(candidate))
    if real.is_dir():
        raise ApiError(404, "not_found", f"Not a file but a directory: {requested}")
    if not real.is_file():
        raise ApiError(404, "not_found", f"No such file: {requested}")
    return real


@router.get("/logs/content", response_model=FileContent, responses=_FILE_ERRORS, summary="A data file's content")
def file_content(
    request: Request,
    file: str | None = Q(None, description="Absolute path of a file inside the data roots (transcripts, todos, "
                         "MCP logs); a relative path is taken relative to the first projects dir"),
) -> Response:
    if not file:
        raise bad_parameter("file", "required: the path of a transcript, todo list or MCP log")
    path = resolve_inside(file, _store(request).file_roots())
    stat = path.stat()
    if stat.st_size > MAX_FILE_BYTES:
        raise ApiError(413, "too_large", f"The file is {stat.st_size:,} bytes; at most {MAX_FILE_BYTES:,} are served")
    with open(path, "rb") as handle:
        content = handle.read(MAX_FILE_BYTES + 1).decode("utf-8", errors="replace")
    modified = iso_utc(int(stat.st_mtime * 1_000_000))
    return json_response({"success": True, "data": {"content": content, "size": stat.st_size, "modified": modified, "path": str(path)}})
