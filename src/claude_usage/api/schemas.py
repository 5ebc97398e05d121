"""Response shapes of the REST API for the OpenAPI schema (DESIGN section 8).

Handlers build plain dicts (see :mod:`claude_usage.rows`) and encode them with msgspec; these
pydantic models document the same shapes at ``/openapi.json`` and ``/docs``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ErrorBody(BaseModel):
    """Every 4xx answer: a short error type and what to fix."""

    error: str = Field(examples=["bad_parameter"])
    message: str = Field(examples=["Invalid query parameter 'limit': must be at most 1000"])


class UsageRow(BaseModel):
    """Tokens (counts) and cost (USD) of a group of deduplicated requests."""

    model_config = ConfigDict(extra="allow")

    inputTokens: int = Field(description="Uncached input tokens")
    outputTokens: int
    cacheCreationTokens: int = Field(description="Cache-write tokens, 5m + 1h")
    cacheCreation1hTokens: int = Field(description="1-hour cache-write tokens")
    cacheReadTokens: int
    cachedTokens: int = Field(description="cacheCreationTokens + cacheReadTokens")
    totalTokens: int = Field(description="Input + output + cache creation + cache read")
    newInputTokens: int = Field(description="Kept for compatibility; equals inputTokens")
    requests: int = Field(description="Deduplicated API responses")
    messages: int = Field(description="Kept for compatibility; equals requests")
    sessions: int = Field(description="Distinct session ids")
    cost: str = Field(description="USD, 4 decimals, priced requests only")
    costUsd: float | None = Field(description="USD; null when no request of the row has a price")
    unpricedRequests: int = Field(description="Requests of models without a price")
    modelsUsed: list[str] = Field(description="Model ids in the row")


class DayRow(UsageRow):
    date: str = Field(description="Local date YYYY-MM-DD")


class WeekRow(UsageRow):
    week: str = Field(description="Local date YYYY-MM-DD of the week's first day (Monday)")


class MonthRow(UsageRow):
    month: str = Field(description="Local month YYYY-MM")


class ModelRow(UsageRow):
    model: str
    unpriced: bool = Field(description="True when some request of this model has no price")


class ProjectRow(UsageRow):
    name: str = Field(description="Project key: the directory under projects/")
    path: str | None = Field(description="Real path, from the transcripts' cwd")
    totalCost: str = Field(description="USD, 4 decimals")
    messageCount: int
    lastActivity: str | None = Field(description="ISO-8601 UTC")
    firstActivity: str | None = Field(description="ISO-8601 UTC")


class Pagination(BaseModel):
    currentPage: int
    totalPages: int
    totalItems: int
    itemsPerPage: int
    hasNext: bool
    hasPrev: bool


class _Listing(BaseModel):
    pagination: Pagination
    timezone: str = Field(description="IANA zone of the local buckets")
    unpricedModels: list[str]


class DailyResponse(_Listing):
    data: list[DayRow]


class WeeklyResponse(_Listing):
    data: list[WeekRow]


class MonthlyResponse(_Listing):
    data: list[MonthRow]


class ModelStats(BaseModel):
    totalModels: int
    totalTokens: int
    totalCost: str = Field(description="USD, 2 decimals")
    totalMessages: int
    totalSessions: int
    mostUsedModel: str | None


class ModelsResponse(BaseModel):
    data: list[ModelRow]
    stats: ModelStats
    timezone: str
    unpricedModels: list[str]


class ProjectStats(BaseModel):
    totalProjects: int
    totalCost: str = Field(description="USD, 2 decimals")
    totalTokens: int
    totalMessages: int
    activeProjects: int = Field(description="Projects with activity in the last 30 days")


class ProjectsResponse(_Listing):
    data: list[ProjectRow]
    stats: ProjectStats


class Health(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: str = Field(description="ok, or indexing while the first scan runs")
    version: str
    dataRoots: list[str]
    files: int
    records: int
    progress: float = Field(description="0-1")
    indexPath: str | None
    priceDataVersion: str
