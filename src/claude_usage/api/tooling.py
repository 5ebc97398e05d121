"""``/api/v2`` tools, MCP tools and logs, todo lists, and the file viewer (DESIGN sections 8-9)."""

from __future__ import annotations

import codecs
import errno
import os
from pathlib import Path
from typing import Any, BinaryIO, Iterator
from urllib.parse import unquote

import msgspec
from fastapi import APIRouter, Depends, Request, Response
from fastapi import Path as P
from fastapi import Query as Q
from fastapi.responses import StreamingResponse

from claude_usage import tools
from claude_usage.api.params import ApiError, bad_parameter, file_filters, local_only, paginate, report_filters
from claude_usage.api.schemas import ErrorBody
from claude_usage.api.tool_schemas import FileContent, McpLogsResponse, McpToolDetail, McpToolsResponse, TodosResponse, ToolsResponse
from claude_usage.api.store import DataStore
from claude_usage.api.v2 import ERRORS, json_response
from claude_usage.local_files import logs_in, project_sessions, todos_in
from claude_usage.reports import Query
from claude_usage.sources.discovery import is_within
from claude_usage.sources.safe_files import NotRegularFileError, display_path, from_display, open_regular
from claude_usage.sources.todos import todo_lists
from claude_usage.timebuckets import iso_utc

# Every route here reads this machine's files (or the tool calls only they hold): 409 on a team server.
router = APIRouter(prefix="/api/v2", tags=["tools and files"], dependencies=[Depends(local_only)],
                   responses={409: {"model": ErrorBody, "description": "A team server, which has no local files"}})
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_PATH_CHARS = 4096
READ_BYTES = 32 * 1024
_NOT_FOUND = {**ERRORS, 404: {"model": ErrorBody, "description": "No such tool or file, or no project or model matches a filter"}}
_FILE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    **_NOT_FOUND,
    403: {"model": ErrorBody, "description": "The file is outside the data roots"},
    413: {"model": ErrorBody, "description": "The file is over 10 MB"},
}


def _store(request: Request) -> DataStore:
    return request.app.state.store


@router.get("/tools", response_model=ToolsResponse, responses=ERRORS, summary="Every tool used (built-in and MCP)")
def all_tools(request: Request, q: Query = Depends(report_filters)) -> Response:
    store = _store(request)

    def compute(view):
        ranked = tools.ranked(tools.tool_stats(view, query=q))
        return {
            "data": [s.row() for s in ranked],
            "totalCalls": sum(s.calls for s in ranked),
            "uniqueTools": len(ranked),
            "totalErrors": sum(s.errors for s in ranked),
        }

    return json_response(store.cached(("tools", q), compute))


@router.get("/mcp/tools", response_model=McpToolsResponse, responses=ERRORS,
            summary="MCP tools and the sessions that used them")
def mcp_tools(request: Request, q: Query = Depends(report_filters)) -> Response:
    store = _store(request)

    def compute(view):
        ranked = tools.ranked(tools.tool_stats(view, mcp_only=True, query=q))
        return {
            "totalCalls": sum(s.calls for s in ranked),
            "uniqueTools": len(ranked),
            "tools": [s.row() for s in ranked],
            "sessions": tools.session_tool_use(view, query=q)[: tools.LATEST_MCP_SESSIONS],
        }

    return json_response(store.cached(("mcp-tools", q), compute))


@router.get("/mcp/tools/{name}", response_model=McpToolDetail, responses=_NOT_FOUND, summary="One MCP tool")
def mcp_tool(request: Request, name: str = P(description="Full tool name, e.g. mcp__github__get_issue"),
             q: Query = Depends(report_filters)) -> Response:
    store = _store(request)

    def compute(view):
        found = tools.tool_stats(view, mcp_only=True, name=name, query=q)
        if name not in found:
            return None
        return {**found[name].row(), "sessions": tools.session_tool_use(view, name, query=q)}

    document = store.cached(("mcp-tool", name, q), compute)
    if document is None:
        raise ApiError(404, "not_found", f"No MCP tool {name!r} in the transcripts (see /api/v2/mcp/tools)")
    return json_response(document)


@router.get("/mcp/logs", response_model=McpLogsResponse, responses=ERRORS, summary="MCP server log files")
def mcp_logs(
    request: Request,
    page: int = Q(1, ge=1, le=1_000_000),
    limit: int = Q(50, ge=1, le=500),
    sessionId: str | None = Q(None, description="Only logs whose first entry has this session id"),
    server: str | None = Q(None, description="Only logs of this server (the mcp-logs-<server> dir)"),
    q: Query = Depends(file_filters),
) -> Response:
    summaries = logs_in(_store(request).logs.summaries(), q)
    if sessionId is not None:
        summaries = [s for s in summaries if s.session_id == sessionId]
    if server is not None:
        summaries = [s for s in summaries if s.log.server == server]
    data, pagination = paginate([s.row() for s in summaries], page, limit)
    return json_response({"data": data, "pagination": pagination})


@router.get("/todos", response_model=TodosResponse, responses=ERRORS, summary="TodoWrite lists")
def todos(request: Request, page: int = Q(1, ge=1, le=1_000_000), limit: int = Q(50, ge=1, le=500),
          q: Query = Depends(file_filters)) -> Response:
    store = _store(request)
    sessions = None if q.project is None else store.answer(lambda view: project_sessions(view, q.project))
    rows = [t.row() for t in todos_in(todo_lists(store.roots), q, sessions)]
    data, pagination = paginate(rows, page, limit)
    return json_response({"data": data, "pagination": pagination})


def resolve_inside(requested: str, roots: list[Path]) -> Path:
    """The real path of ``requested`` if it lies inside one of ``roots``.

    Raises :class:`ApiError` 403 when it does not (after resolving ``..``, symlinks and
    URL-encoded separators; a relative path is taken relative to the first root), 400 for a
    path over :data:`MAX_PATH_CHARS` characters, and 404 when it does not exist, names an
    unknown user's home (``~name``) or cannot be resolved. Nothing is opened here: see
    :func:`open_inside` for what is served.
    """
    if "\x00" in requested:
        raise ApiError(403, "forbidden", "NUL characters are not accepted in a path")
    if len(requested) > MAX_PATH_CHARS:
        raise bad_parameter("file", f"a path of at most {MAX_PATH_CHARS:,} characters")
    decoded = requested
    for _ in range(3):  # a name that still decodes after the server's own decoding is suspect
        once = unquote(decoded)
        if once == decoded:
            break
        decoded = once
    if "\x00" in decoded or any(decoded.count(part) > requested.count(part) for part in ("/", "\\", "..")):
        raise ApiError(403, "forbidden", "Encoded path separators are not accepted; give the plain path")
    try:
        candidate = Path(requested).expanduser()
    except RuntimeError:  # ~name of a user that does not exist
        raise ApiError(404, "not_found", f"No such file: {requested}") from None
    if "\\x" in requested and not os.path.lexists(candidate):
        candidate = Path(from_display(str(candidate)))  # a name that is not UTF-8, as the API showed it
    if not candidate.is_absolute():
        if not roots:
            raise ApiError(403, "forbidden", "No data roots to serve files from")
        candidate = roots[0] / candidate
    try:
        inside = any(is_within(candidate, root) for root in roots)
        real = Path(os.path.realpath(candidate))
    except (OSError, ValueError):  # a name too long, a symlink loop, a path changing meanwhile
        raise ApiError(404, "not_found", f"No such file: {requested}") from None
    if not inside:
        raise ApiError(403, "forbidden", "The file is outside the data roots (transcripts, todos, MCP logs)")
    return real


def _descriptor_path(fd: int) -> str | None:
    """The real path of an open file descriptor (what was opened, whatever its name now is),
    or None where the platform cannot tell."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        pass
    try:
        import fcntl

        return fcntl.fcntl(fd, fcntl.F_GETPATH, bytes(1024)).rstrip(b"\x00").decode(errors="surrogateescape")  # type: ignore[attr-defined]
    except (ImportError, AttributeError, OSError):
        return None


def open_inside(requested: str, roots: list[Path]) -> tuple[BinaryIO, str, os.stat_result]:
    """Open ``requested`` for serving: ``(open file, real path, its stat)``.

    The path is resolved and checked (:func:`resolve_inside`), then opened without following
    a symlink in its last part and without blocking (a FIFO or device is refused), and the
    opened descriptor itself is checked again: its real path must lie inside ``roots``. So a
    name swapped for a link to another file between the check and the open is never served:
    what is read is exactly what was checked. Raises :class:`ApiError` (403, 404) otherwise.
    """
    real = resolve_inside(requested, roots)
    try:
        handle = open_regular(real, follow_symlinks=False)
    except NotRegularFileError as error:
        raise ApiError(404, "not_found", f"Not a regular file but {str(error).split(',')[0]}: {requested}") from None
    except IsADirectoryError:
        raise ApiError(404, "not_found", f"Not a file but a directory: {requested}") from None
    except OSError as error:
        if error.errno == errno.ELOOP:  # the checked name became a symlink meanwhile
            raise ApiError(403, "forbidden", "The file changed while it was opened; not served") from None
        raise ApiError(404, "not_found", f"No such file: {requested}") from None
    try:
        opened = _descriptor_path(handle.fileno())
        if opened is not None and not any(is_within(opened, root) for root in roots):
            raise ApiError(403, "forbidden", "The file is outside the data roots (transcripts, todos, MCP logs)")
        return handle, opened or str(real), os.fstat(handle.fileno())
    except BaseException:
        handle.close()
        raise


def _json_content(handle: BinaryIO, size: int, tail: bytes) -> Iterator[bytes]:
    """The JSON answer of the file viewer, streamed: ``{"success": true, "data": {"content": "``,
    the file's text (UTF-8, invalid bytes as U+FFFD) escaped in pieces of :data:`READ_BYTES`,
    then ``tail`` (the closing quote and the other fields). Memory stays at one piece per
    request whatever the file holds (control bytes grow six-fold when escaped)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    try:
        yield b'{"success":true,"data":{"content":"'
        left = size
        while left > 0:
            piece = handle.read(min(READ_BYTES, left))
            if not piece:
                break
            left -= len(piece)
            text = decoder.decode(piece)
            if text:
                yield msgspec.json.encode(text)[1:-1]
        text = decoder.decode(b"", final=True)
        if text:
            yield msgspec.json.encode(text)[1:-1]
        yield tail
    finally:
        handle.close()


@router.get("/logs/content", response_model=FileContent, responses=_FILE_ERRORS, summary="A data file's content")
def file_content(
    request: Request,
    file: str = Q(..., min_length=1, description="Absolute path of a file inside the data roots (transcripts, todos, "
                  "MCP logs); a relative path is taken relative to the first projects dir"),
) -> Response:
    handle, real, info = open_inside(file, _store(request).file_roots())
    if info.st_size > MAX_FILE_BYTES:
        handle.close()
        raise ApiError(413, "too_large", f"The file is {info.st_size:,} bytes; at most {MAX_FILE_BYTES:,} are served")
    modified = iso_utc(int(info.st_mtime * 1_000_000))
    tail = b'",' + msgspec.json.encode({"size": info.st_size, "modified": modified, "path": display_path(real)})[1:] + b"}"
    return StreamingResponse(_json_content(handle, info.st_size, tail), media_type="application/json")
