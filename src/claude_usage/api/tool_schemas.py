"""Response shapes of the tool analytics, MCP logs, todo lists and the file viewer for the
OpenAPI schema (DESIGN section 8); the usage shapes are in :mod:`claude_usage.api.schemas`."""

from __future__ import annotations

from pydantic import BaseModel, Field

from claude_usage.api.schemas import Pagination


class ToolRow(BaseModel):
    name: str = Field(description="Tool name as called, e.g. Bash or mcp__github__get_issue")
    server: str | None = Field(description="MCP server (null for built-in tools)")
    tool: str
    plugin: str | None
    mcp: bool
    calls: int = Field(description="Distinct tool_use ids")
    count: int = Field(description="Same as calls")
    errors: int = Field(description="tool_result blocks with is_error: true")
    sessionCount: int
    firstUsed: str | None
    lastUsed: str | None


class ToolsResponse(BaseModel):
    data: list[ToolRow]
    totalCalls: int
    uniqueTools: int
    totalErrors: int


class McpSession(BaseModel):
    sessionId: str
    cwd: str | None
    startTime: str | None
    endTime: str | None
    tools: dict[str, int]


class McpToolsResponse(BaseModel):
    totalCalls: int
    uniqueTools: int
    tools: list[ToolRow]
    sessions: list[McpSession] = Field(description="The latest 50 sessions that used MCP tools")


class McpToolDetail(ToolRow):
    sessions: list[McpSession]


class McpLogRow(BaseModel):
    file: str
    path: str
    server: str
    project: str | None
    timestamp: str | None = Field(description="File modification time, ISO UTC")
    size: int
    entries: int
    errors: int
    malformed: int
    sessionId: str | None
    error: str | None = Field(None, description="Why the file could not be read whole")


class McpLogsResponse(BaseModel):
    data: list[McpLogRow]
    pagination: Pagination


class TodoRow(BaseModel):
    file: str
    path: str
    sessionId: str
    timestamp: str | None
    size: int
    tasks: int
    pending: int
    inProgress: int
    completed: int
    error: str | None = None


class TodosResponse(BaseModel):
    data: list[TodoRow]
    pagination: Pagination


class FileContentData(BaseModel):
    content: str
    size: int
    modified: str | None
    path: str


class FileContent(BaseModel):
    success: bool
    data: FileContentData
