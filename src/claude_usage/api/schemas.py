"""Response shapes of the REST API for the OpenAPI schema (DESIGN section 8).

Handlers build plain dicts (see :mod:`claude_usage.rows`) and encode them with msgspec; these
pydantic models document the same shapes at ``/openapi.json`` and ``/docs``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from claude_usage.api.budget_schemas import PlanInfo
from claude_usage.api.limit_schemas import OfficialLimits


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
    webSearchRequests: int = Field(description="Web searches (server tool), billed per search in the cost")
    webFetchRequests: int = Field(description="Web fetches (server tool), free beyond their tokens")
    placeholderOutputRequests: int = Field(
        description="Requests whose output count is a streaming placeholder (Claude Code before 2.1.97): undercounted")
    fastUnpricedRequests: int = Field(description="Fast-mode requests priced at the standard rate (no known fast price)")
    modelsUsed: list[str] = Field(description="Model ids in the row")


class DayRow(UsageRow):
    date: str = Field(description="Local date YYYY-MM-DD")


class WeekRow(UsageRow):
    week: str = Field(description="Local date YYYY-MM-DD of the week's first day (Monday)")


class MonthRow(UsageRow):
    month: str = Field(description="Local month YYYY-MM")
    planPriceUsd: float | None = Field(None, description="The plan's monthly price (settings file); null without a "
                                       "plan or on the api plan")
    valueRatio: float | None = Field(None, description="API-equivalent cost (costUsd) / planPriceUsd; null without a price")


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
    plan: PlanInfo | None = Field(None, description="The settings' plan; null without one")


class ModelStats(BaseModel):
    totalModels: int
    totalTokens: int
    totalCost: str = Field(description="USD, 4 decimals (as every cost string)")
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
    totalCost: str = Field(description="USD, 4 decimals (as every cost string)")
    totalTokens: int
    totalMessages: int
    activeProjects: int = Field(description="Projects with activity in the last 30 days")


class ProjectsResponse(_Listing):
    data: list[ProjectRow]
    stats: ProjectStats


class Health(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: str = Field(description="indexing while the first scan runs; degraded when some data could not be read "
                        "or live updates stopped (see problems); else ok")
    problems: list[str] = Field(description="Why the status is degraded (empty when it is not)")
    warnings: list[str] = Field(description="File problems: skipped or unreadable files, damaged lines (first 100)")
    warningCount: int = Field(description="Number of file problems in all")
    watcher: str = Field(description="How changes are followed: events, polling (the OS watch limit was reached), "
                         "stopped, off (no index), or starting")
    watcherNote: str | None = Field(description="Why the watcher polls or stopped")
    version: str
    dataRoots: list[str]
    demo: bool = Field(False, description="The data are the bundled demo data")
    files: int
    records: int
    progress: float = Field(description="0-1")
    indexPath: str | None
    priceDataVersion: str = Field(description="genai-prices version + digest of the price corrections (+ of --prices overrides)")
    diagnostics: dict[str, int] = Field(
        description="Counters of what was read and dropped, and placeholderOutputRequests / fastUnpricedRequests")
    eventClients: int = Field(0, description="Connected /api/v2/events clients")


class SessionRow(UsageRow):
    sessionId: str
    title: str | None = Field(description="The title Claude Code wrote (or the user gave), else the first prompt typed")
    project: str | None = Field(description="Project key (the first, if the session spans several)")
    projects: list[str]
    path: str | None = Field(description="Real path of the project, from cwd")
    firstActivity: str | None
    lastActivity: str | None
    durationMinutes: float | None = Field(description="From the first to the last request")
    subagentCostUsd: float | None = Field(description="USD cost of the session's sidechain (subagent) requests")
    claudeCodeCostUsd: float | None = Field(
        None, description="The session's cost as Claude Code counts it, last passed to the status line; null when never")
    models: list[ModelRow] | None = Field(None, description="One usage row per model")


class SessionsResponse(_Listing):
    data: list[SessionRow]


class SubagentRow(UsageRow):
    agentId: str = Field(description="From the transcript's name, agent-<id>.jsonl")
    file: str
    agentType: str | None = Field(description="From agent-<id>.meta.json; null without one")
    description: str | None = Field(description="From agent-<id>.meta.json; null without one")
    task: str | None = Field(description="The first prompt of the subagent's transcript (the task it was given)")
    firstActivity: str | None
    lastActivity: str | None


class SessionDetail(SessionRow):
    subagents: list[SubagentRow]
    timezone: str
    unpricedModels: list[str]


class TimelineRequest(BaseModel):
    time: str = Field(description="ISO-8601 UTC")
    model: str
    inputTokens: int
    outputTokens: int
    cacheCreationTokens: int
    cacheReadTokens: int
    totalTokens: int
    costUsd: float | None = Field(description="USD; null when the model has no price")
    sidechain: bool = Field(description="A subagent's request")
    agentId: str | None = Field(description="The subagent transcript it was read from, if any")


class SessionRequests(BaseModel):
    sessionId: str
    data: list[TimelineRequest] = Field(description="The session's requests in time order")
    totalRequests: int
    shown: int = Field(description="Requests in data (at most limit)")
    timezone: str


class HourRow(UsageRow):
    hour: int = Field(ge=0, le=23, description="Local hour of day")
    avgCostPerRequest: float | None
    avgTokensPerRequest: float


class HeatmapCell(UsageRow):
    date: str
    hour: int = Field(ge=0, le=23)


class PeakCost(BaseModel):
    hour: int
    cost: float | None
    percentage: float


class PeakTokens(BaseModel):
    hour: int
    tokens: int
    percentage: float


class PeakRequests(BaseModel):
    hour: int
    requests: int
    percentage: float


class PartOfDay(BaseModel):
    hours: str = Field(description="Local hours [start-end)")
    cost: float | None
    tokens: int
    requests: int
    percentage: float = Field(description="Share of the cost, percent")


class HourlyStatistics(BaseModel):
    totalCost: float | None
    totalTokens: int
    totalRequests: int
    avgCostPerHour: float | None
    avgTokensPerHour: float
    avgRequestsPerHour: float
    peakCostHour: PeakCost
    peakTokenHour: PeakTokens
    peakRequestHour: PeakRequests
    nightUsage: PartOfDay
    morningUsage: PartOfDay
    afternoonUsage: PartOfDay
    eveningUsage: PartOfDay


class HourlyResponse(BaseModel):
    hourlyData: list[HourRow]
    heatmapData: list[HeatmapCell]
    statistics: HourlyStatistics | None
    timezone: str
    unpricedModels: list[str]


class PeriodPart(BaseModel):
    since: str = Field(description="First local date")
    until: str = Field(description="Last local date")
    costUsd: float | None = Field(description="USD, priced requests only; null when none is priced")
    totalTokens: int
    requests: int
    unpricedRequests: int


class Period(PeriodPart):
    previous: PeriodPart = Field(description="The same days of the period before")
    change: float | None = Field(description="Relative change of the cost (0.25: 25% more); null without a previous cost")


class Periods(BaseModel):
    week: Period
    month: Period


class MonthProjection(BaseModel):
    costUsd: float | None = Field(description="USD at the month's end if the days left cost the average day so far")
    soFarUsd: float | None
    dailyAverageUsd: float | None
    daysElapsed: int = Field(description="Days of the month so far, today included")
    daysInMonth: int
    unpricedRequests: int = Field(description="This month's requests without a price (left out)")


class SeriesRow(BaseModel):
    key: str = Field(description="Model id or project key; 'other' sums the rest")
    label: str = Field(description="The project's real path (from cwd), else the key")
    costUsd: list[float | None] = Field(description="USD per day of days")
    totalTokens: list[int] = Field(description="Tokens per day of days")


class CostSeriesResponse(BaseModel):
    by: str = Field(description="model or project")
    days: list[str] = Field(description="Local dates with usage")
    series: list[SeriesRow] = Field(description="Highest cost first")
    timezone: str
    unpricedModels: list[str]


class SummaryResponse(BaseModel):
    totalCost: str = Field(description="USD, 4 decimals (as every cost string)")
    totalCostUsd: float | None
    totalTokens: int
    totalMessages: int
    totalRequests: int
    totalConversations: int = Field(description="Sessions")
    totalProjects: int
    totalMcpSessions: int | None = Field(description="Sessions that called an MCP tool (null on a team server)")
    totalTodoFiles: int | None = Field(description="TodoWrite list files (null on a team server)")
    totalSize: int = Field(description="Bytes of transcript files")
    firstActivity: str | None
    lastActivity: str | None
    cacheHitRatio: float = Field(description="cache read / (input + cache creation + cache read)")
    todayCostUsd: float | None
    thisMonthCostUsd: float | None
    todayUnpricedRequests: int = Field(description="Today's requests without a price (left out of todayCostUsd)")
    thisMonthUnpricedRequests: int = Field(description="This month's requests without a price (left out of thisMonthCostUsd)")
    webSearchRequests: int = Field(description="Web searches, billed per search in the cost")
    webFetchRequests: int = Field(description="Web fetches, free beyond their tokens")
    placeholderOutputRequests: int = Field(
        description="Requests whose output count is a streaming placeholder (Claude Code before 2.1.97): undercounted")
    fastUnpricedRequests: int = Field(description="Fast-mode requests priced at the standard rate (no known fast price)")
    periods: Periods = Field(description="This week and this month so far against the same days before")
    monthProjection: MonthProjection
    officialLimits: OfficialLimits | None = Field(
        None, description="The latest official rate limits Claude Code passed to the status line; null when never")
    timezone: str
    unpricedModels: list[str]


class BurnRate(BaseModel):
    tokensPerMinute: float = Field(description="Tokens per minute between the block's first and last request")
    costPerHour: float | None = Field(description="USD per hour at the same rate; null when no request of the block has a price")


class Projection(BaseModel):
    totalTokens: int = Field(description="Tokens at the block's end if the burn rate holds")
    costUsd: float | None = Field(description="USD at the block's end if the burn rate holds; null without prices")
    minutesLeft: float


class LimitUse(BaseModel):
    limit: float = Field(description="Tokens, or USD for the cost limit")
    source: str = Field(description="'user' (given) or 'estimate: largest past block'; never Anthropic's quota")
    percentUsed: float
    projectedPercent: float | None
    warning: bool = Field(description="Used at least 80%, or projected to reach 100%")


class BlockRow(BaseModel):
    """A 5-hour block, or a gap (isGap: only start, end, isGap, isActive)."""

    model_config = ConfigDict(extra="allow")

    start: str = Field(description="ISO-8601 UTC: the UTC hour floor of the first request (gap: last activity + block length)")
    end: str = Field(description="ISO-8601 UTC, exclusive: start + block length (gap: the next block's start)")
    isGap: bool
    isActive: bool = Field(description="Now is before the end and the last request is under a block length old")
    firstActivity: str | None = None
    actualEnd: str | None = Field(None, description="ISO-8601 UTC of the last request")
    limited: bool | None = Field(None, description="A usage-limit message fell in this block")
    limitResetTime: str | None = Field(None, description="ISO-8601 UTC reset time that message gave")
    timeToResetMinutes: float | None = Field(None, description="Active block only")
    burnRate: BurnRate | None = None
    projection: Projection | None = None
    limits: dict[str, LimitUse] | None = Field(None, description="Active block only: 'tokens' and 'cost'")


class GivenLimit(BaseModel):
    limit: float
    source: str


class BlocksResponse(BaseModel):
    blocks: list[BlockRow] = Field(description="Oldest first; gap rows between blocks")
    sessionLengthHours: float
    tokenLimit: GivenLimit | None
    costLimit: GivenLimit | None
    now: str = Field(description="ISO-8601 UTC instant the active flags refer to")
    officialLimits: OfficialLimits | None = Field(
        None, description="The latest official rate limits Claude Code passed to the status line; null when never")
    timezone: str
    unpricedModels: list[str]


class DayDetail(DayRow):
    hourly: list[HourRow]
    models: list[ModelRow]
    projects: list[ProjectRow]
    sessionList: list[SessionRow]
    timezone: str
    unpricedModels: list[str]


class MonthDetail(MonthRow):
    days: list[DayRow]
    models: list[ModelRow]
    timezone: str
    unpricedModels: list[str]


class ProjectDetail(ProjectRow):
    daily: list[DayRow]
    models: list[ModelRow]
    sessionList: list[SessionRow]
    timezone: str
    unpricedModels: list[str]


class CacheStatsRow(BaseModel):
    """The prompt-cache sums of a group of requests (issue 15; see :mod:`claude_usage.cache_report`)."""

    inputTokens: int = Field(description="Uncached input tokens")
    cacheCreation5mTokens: int = Field(description="5-minute cache-write tokens")
    cacheCreation1hTokens: int = Field(description="1-hour cache-write tokens")
    cacheCreationTokens: int = Field(description="Cache-write tokens, 5m + 1h")
    cacheReadTokens: int
    hitRatio: float = Field(description="cache read / (input + cache creation + cache read), 0-1; 0 without input")
    oneHourShare: float = Field(description="1h cache-write tokens / all cache-write tokens, 0-1; 0 without writes")
    savedUsd: float | None = Field(description="USD: the cache reads at the input rate minus at the cache-read rate "
                                   "(priced requests only; null when none is priced)")
    oneHourExtraUsd: float | None = Field(description="USD: the 1h writes at the 1h write rate minus the same tokens at "
                                          "the 5m write rate (priced requests only; null when none is priced)")
    requests: int = Field(description="Deduplicated API responses")
    unpricedRequests: int = Field(description="Requests of models without a price (no savings known)")
    modelsUsed: list[str]


class CacheRow(CacheStatsRow):
    date: str | None = Field(None, description="With by=day: the local date YYYY-MM-DD")
    model: str | None = Field(None, description="With by=model: the model id")
    project: str | None = Field(None, description="With by=project: the project key (directory under projects/)")
    path: str | None = Field(None, description="With by=project: the project's real path (from cwd), null when unknown")


class CacheResponse(BaseModel):
    by: str = Field(description="day, model or project")
    data: list[CacheRow] = Field(description="Days in date order; models and projects by savings, highest first")
    totals: CacheStatsRow
    timezone: str
    unpricedModels: list[str]
    longContextModels: list[str] = Field(
        description="Models with a long-context price tier in the selection: their requests above it (over 200k "
                    "tokens of context) are counted at the base rates, so their savings are a lower bound")
