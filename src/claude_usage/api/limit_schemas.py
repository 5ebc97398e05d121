"""Response shapes of ``GET /api/v2/limits`` and of the official limits in other answers
(:mod:`claude_usage.limits_report`), for the OpenAPI schema."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LimitWindow(BaseModel):
    """One official rate-limit window as Claude Code last reported it."""

    usedPercentage: float = Field(description="Share of the window's limit used, as Claude Code reported it (100 = the limit)")
    resetsAt: str | None = Field(description="ISO-8601 UTC: when the window resets")
    resetsInSeconds: int | None = Field(description="Seconds from now to resetsAt (0 once past)")
    hasReset: bool = Field(description="resetsAt has passed: the percentage is that of the window that ended")


class ContextUse(BaseModel):
    usedPercentage: float = Field(description="Share of the context window in use")
    windowSize: int | None = Field(description="Context window size in tokens")


class OfficialLimits(BaseModel):
    """The latest official rate-limit state Claude Code passed to `claude-usage statusline`."""

    observedAt: str = Field(description="ISO-8601 UTC of the observation")
    sessionId: str | None
    model: str | None = Field(description="Model id of the session at that time")
    fiveHour: LimitWindow | None = Field(description="The five-hour window; null when not reported")
    sevenDay: LimitWindow | None = Field(description="The seven-day window; null when not reported")
    context: ContextUse | None
    claudeCodeCostUsd: float | None = Field(description="The session's cost as Claude Code counts it (cost.total_cost_usd)")


class LimitEstimate(BaseModel):
    """Our own estimate for the active 5-hour block, from the transcripts."""

    start: str
    end: str = Field(description="ISO-8601 UTC: the block's end (its reset by the block rule)")
    resetsInSeconds: int
    costUsd: float | None
    totalTokens: int
    limitTokens: int | None = Field(description="The largest completed block's tokens (the 'max' estimate); null without one")
    limitSource: str | None
    percentUsed: float | None = Field(description="totalTokens as a share of limitTokens")


class LimitPoint(BaseModel):
    at: str = Field(description="ISO-8601 UTC start of the bucket")
    fiveHourPercent: float | None = Field(description="Highest five-hour percentage observed in the bucket")
    sevenDayPercent: float | None = Field(description="Highest seven-day percentage observed in the bucket")
    observations: int


class LimitHistory(BaseModel):
    bucketSeconds: int = Field(description="Width of a point (whole minutes; wider for long spans, 720 points at most)")
    points: list[LimitPoint]


class LimitHit(BaseModel):
    at: str = Field(description="ISO-8601 UTC")
    source: str = Field(description="'transcript' (a usage-limit message) or 'statusLine' (an observation at 100% or more)")
    window: str | None = Field(description="'fiveHour' or 'sevenDay'; null for a transcript message")
    resetsAt: str | None
    usedPercentage: float | None


class LimitsResponse(BaseModel):
    official: OfficialLimits | None = Field(description="Null when Claude Code never passed rate limits to the status line")
    estimate: LimitEstimate | None = Field(description="Null when no 5-hour block is active")
    history: LimitHistory
    hits: list[LimitHit]
    since: str = Field(description="ISO-8601 UTC start of the span of history and hits")
    until: str = Field(description="ISO-8601 UTC end of that span (excluded)")
    timezone: str
