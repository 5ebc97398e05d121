"""The state of the user's budgets (issue 15): spent, percent, remaining, projection, status.

A budget (:class:`claude_usage.config.Budget`) is a USD limit per local day, week or month, over
all usage or one project. Its current period is the one holding ``now`` in the zone asked for
(the ``--tz`` / ``$TZ`` / machine zone of the caller); weeks start on the settings' ``week_start``
(Monday, as the weekly report). ``spent`` is the known cost (priced requests, cost mode
``auto``) of the period's local days, a SQL aggregate of :func:`claude_usage.reports.overall`
over the rollups; requests without a price are counted in ``unpriced_requests``, never as $0.

Projection rule (linear): ``projected = spent / elapsed``, where ``elapsed`` is the fraction of
the period's real time (DST-correct) that has passed at ``now``. It is given only once
:data:`MIN_ELAPSED` of the period has passed: before that a few minutes of use would project
to many times the budget. Status, most severe first: ``over`` (spent >= limit),
``projected-over`` (the projection reaches the limit), ``warning`` (spent >= the first alert
threshold, 50 % by default), else ``ok``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from claude_usage.config import Budget, Config
from claude_usage.rows import usd
from claude_usage.timebuckets import iso_utc, local_day_bounds_us, week_start

MIN_ELAPSED = 0.25  # fraction of a period after which its projection is given
STATUSES = ("ok", "warning", "projected-over", "over")  # in order of severity
SHOWN_SEGMENTS = 2  # budgets shown in the status line at most


@dataclass(frozen=True)
class BudgetState:
    """One budget in its current period: the local dates ``since``-``until`` (inclusive) and
    their UTC instants ``start_us``-``end_us`` (end excluded); ``spent_usd`` (known cost),
    ``unpriced_requests``, ``elapsed`` (0-1), ``projected_usd`` (None before
    :data:`MIN_ELAPSED`), ``status``, ``thresholds_passed`` (the alert thresholds, percent,
    that the spent amount reached) and, for a project budget, the project keys its name
    matched (empty when it names no project yet)."""

    budget: Budget
    since: str
    until: str
    start_us: int
    end_us: int
    spent_usd: float
    unpriced_requests: int
    elapsed: float
    projected_usd: float | None
    status: str
    thresholds_passed: tuple[float, ...]
    projects: tuple[str, ...] | None = None

    @property
    def limit_usd(self) -> float:
        return self.budget.limit_usd

    @property
    def percent(self) -> float:
        """Spent, in percent of the limit."""
        return 100.0 * self.spent_usd / self.limit_usd

    @property
    def projected_percent(self) -> float | None:
        return None if self.projected_usd is None else 100.0 * self.projected_usd / self.limit_usd

    @property
    def remaining_usd(self) -> float:
        """What is left of the limit (0 when it is spent)."""
        return max(0.0, self.limit_usd - self.spent_usd)

    @property
    def period_key(self) -> str:
        """The period's id in the alerts' key: ``day:2025-07-16``, ``week:2025-07-14``."""
        return f"{self.budget.period}:{self.since}"


def period_dates(period: str, today: date, first_weekday: int = 0) -> tuple[date, date]:
    """The first and last local date of the ``period`` (day, week, month) holding ``today``."""
    if period == "day":
        return today, today
    if period == "week":
        first = week_start(today, first_weekday)
        return first, first + timedelta(days=6)
    return today.replace(day=1), today.replace(day=calendar.monthrange(today.year, today.month)[1])


def _status(spent: float, limit: float, projected: float | None, first_threshold: float) -> str:
    if spent >= limit:
        return "over"
    if projected is not None and projected >= limit:
        return "projected-over"
    if 100.0 * spent / limit >= first_threshold:
        return "warning"
    return "ok"


def state(view: Any, config: Config, now_us: int, zone: str | None = None, mode: str = "auto") -> list[BudgetState]:
    """The state of every budget of ``config`` at ``now_us`` (UTC microseconds) in ``zone``
    (None: ``$TZ`` or the machine's), over one view of the store, in the settings' order. The
    public entry point for every reader (CLI, status line, API, metrics). Raises
    :class:`claude_usage.timebuckets.ZoneError` for an unknown zone."""
    from dataclasses import replace

    from claude_usage import reports
    from claude_usage.filters import NoMatch, resolve_projects

    if not config.budgets:
        return []
    clock = reports.clock_for(zone)
    today = date.fromisoformat(clock.parts(now_us)[0])
    base = reports.Query(zone=clock.name, mode=mode)
    thresholds = config.alerts.thresholds
    resolved: dict[str, tuple[str, ...]] = {}
    states = []
    for budget in config.budgets:
        query = base
        keys = None
        if budget.project is not None:
            if budget.project not in resolved:
                try:
                    resolved[budget.project] = resolve_projects(view, budget.project)
                except NoMatch:
                    resolved[budget.project] = ()
            keys = resolved[budget.project]
            query = replace(query, project=keys)
        first, last = period_dates(budget.period, today, config.week_start)
        since, until = first.isoformat(), last.isoformat()
        totals = reports.overall(view, replace(query, since=since, until=until))
        start_us, end_us = local_day_bounds_us(clock.zone, since, until)
        elapsed = min(1.0, max(0.0, (now_us - start_us) / (end_us - start_us)))  # type: ignore[operator]
        spent = totals.known_cost_usd or 0.0
        projected = spent / elapsed if elapsed >= MIN_ELAPSED else None
        states.append(BudgetState(
            budget, since, until, start_us, end_us, spent, totals.unpriced_requests,  # type: ignore[arg-type]
            elapsed, projected, _status(spent, budget.limit_usd, projected, thresholds[0]),
            tuple(t for t in thresholds if 100.0 * spent / budget.limit_usd >= t), keys))
    return states


def state_row(s: BudgetState) -> dict[str, Any]:
    """A budget state as JSON (camelCase; USD amounts, percentages 0-100+)."""
    return {
        "budget": s.budget.key,
        "label": s.budget.label,
        "scope": "overall" if s.budget.project is None else "project",
        "project": s.budget.project,
        "projects": None if s.projects is None else list(s.projects),
        "period": s.budget.period,
        "since": s.since,
        "until": s.until,
        "periodStart": iso_utc(s.start_us),
        "periodEnd": iso_utc(s.end_us),
        "limitUsd": usd(s.limit_usd),
        "spentUsd": usd(s.spent_usd),
        "remainingUsd": usd(s.remaining_usd),
        "percent": round(s.percent, 4),
        "projectedUsd": usd(s.projected_usd),
        "projectedPercent": None if s.projected_percent is None else round(s.projected_percent, 4),
        "elapsed": round(s.elapsed, 6),
        "status": s.status,
        "thresholdsPassed": list(s.thresholds_passed),
        "unpricedRequests": s.unpriced_requests,
    }


def segment(s: BudgetState) -> str:
    """A budget's state in a few words: ``day budget 82%``, ``month budget 104% (over)``,
    ``app week budget 40%, projected 130%``."""
    text = f"{s.budget.label} budget {s.percent:.0f}%"
    if s.status == "over":
        return text + " (over)"
    if s.status == "projected-over" and s.projected_percent is not None:
        return f"{text}, projected {s.projected_percent:.0f}%"
    return text


def status_segments(states: list[BudgetState], alerted: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """The status line's budget segments: the budgets not ``ok``, most severe first (then by
    percent), at most :data:`SHOWN_SEGMENTS`; a ``⚠`` before those whose key is in
    ``alerted`` (an alert raised lately)."""
    shown = sorted((s for s in states if s.status != "ok"), key=lambda s: (-STATUSES.index(s.status), -s.percent))
    return [("⚠ " if s.budget.key in alerted else "") + segment(s) for s in shown[:SHOWN_SEGMENTS]]
