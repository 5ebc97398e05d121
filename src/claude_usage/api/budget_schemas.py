"""Response shapes of the budgets endpoint and of the plan's value (issue 15), for OpenAPI."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PlanInfo(BaseModel):
    name: str = Field(description="pro, max5, max20, api, or custom (a price_usd of the settings)")
    priceUsd: float | None = Field(description="USD a month; null on the api plan (pay per use)")


class BudgetStateRow(BaseModel):
    budget: str = Field(description="The budget's id: day, week, month, or project:<name>:<period>")
    label: str = Field(description="What people read: 'day', 'my-project month'")
    scope: str = Field(description="overall or project")
    project: str | None = Field(description="The project as the settings name it")
    projects: list[str] | None = Field(description="The project keys that name matches (empty: none yet)")
    period: str = Field(description="day, week or month")
    since: str = Field(description="First local date of the current period")
    until: str = Field(description="Last local date of the current period")
    periodStart: str = Field(description="ISO-8601 UTC instant the period starts")
    periodEnd: str = Field(description="ISO-8601 UTC instant the period ends (excluded)")
    limitUsd: float
    spentUsd: float = Field(description="USD, priced requests of the period so far")
    remainingUsd: float = Field(description="USD left (0 when spent)")
    percent: float = Field(description="Spent in percent of the limit")
    projectedUsd: float | None = Field(
        description="USD at the period's end: spent / elapsed fraction; null before a quarter of the period")
    projectedPercent: float | None
    elapsed: float = Field(description="Fraction of the period passed, 0-1")
    status: str = Field(description="ok, warning (first threshold reached), projected-over, over")
    thresholdsPassed: list[float] = Field(description="Alert thresholds (percent) the spent amount reached")
    unpricedRequests: int = Field(description="Requests of the period without a price (left out)")


class RaisedAlert(BaseModel):
    budget: str
    period: str = Field(description="The period's id, e.g. day:2025-07-16")
    threshold: str = Field(description="A percentage (e.g. '80') or 'projected'")
    time: str = Field(description="ISO-8601 UTC instant it was raised")
    spentUsd: float
    limitUsd: float
    projectedUsd: float | None


class BudgetsResponse(BaseModel):
    budgets: list[BudgetStateRow] = Field(description="In the order of the settings file")
    alerts: list[RaisedAlert] = Field(description="Alerts raised in the budgets' current periods, latest first")
    thresholds: list[float] = Field(description="The alert thresholds, percent")
    plan: PlanInfo | None
    configPath: str = Field(description="The settings file (claude-usage config)")
    configured: bool = Field(description="Whether the settings file exists")
    now: str = Field(description="ISO-8601 UTC instant of the state")
    timezone: str
