"""What the Summary tells beyond totals (issue 14): this week and this month against the same
days of the previous ones, the month's cost projected to its end, and cost per day stacked by
model or by project. Every number is a SQL aggregate of :mod:`claude_usage.reports` over the
store (DESIGN section 7); days are local to the query's zone (DESIGN section 6).
"""

from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from claude_usage import reports
from claude_usage.reports import Query
from claude_usage.rows import usd
from claude_usage.store.schema import COST_UNIT
from claude_usage.timebuckets import day_text, week_start
from claude_usage.totals import Totals

SERIES_KEYS = 8  # series shown by name in a stacked chart; the rest are summed as "other"
OTHER = "other"


def _within(view: Any, query: Query, since: date, until: date) -> tuple[str, str, Totals]:
    """The totals of ``query``'s selection from ``since`` to ``until`` (local dates, clipped to
    the query's own date range)."""
    first = max(since.isoformat(), query.since or "0000-01-01")
    last = min(until.isoformat(), query.until or "9999-12-31")
    return first, last, reports.overall(view, replace(query, since=first, until=last))


def _part(since: str, until: str, t: Totals) -> dict[str, Any]:
    return {"since": since, "until": until, "costUsd": usd(t.known_cost_usd), "totalTokens": t.total_tokens,
            "requests": t.requests, "unpricedRequests": t.unpriced_requests}


def _compare(view: Any, query: Query, since: date, until: date, before: date, before_until: date) -> dict[str, Any]:
    current = _part(*_within(view, query, since, until))
    previous = _part(*_within(view, query, before, before_until))
    change = None
    if current["costUsd"] is not None and previous["costUsd"]:
        change = round(current["costUsd"] / previous["costUsd"] - 1, 6)
    return {**current, "previous": previous, "change": change}


def periods(view: Any, query: Query, today: str | None = None) -> dict[str, Any]:
    """This week and this month so far against the same days of the week and month before.

    ``{"week": period, "month": period}``, a period being ``{since, until, costUsd (USD, None
    when nothing priced), totalTokens, requests, unpricedRequests, previous: {the same},
    change}``: ``change`` is the cost's relative change (0.25 = 25 % more; None without a
    previous cost). Weeks start on ``query.first_weekday``; the previous month's days are
    clipped to its length (31 March compares with 1-28 February). ``today`` (``YYYY-MM-DD``)
    defaults to today in the query's zone."""
    day = date.fromisoformat(today or query.clock.today())
    first = week_start(day, query.first_weekday)
    week = _compare(view, query, first, day, first - timedelta(days=7), day - timedelta(days=7))
    month_first = day.replace(day=1)
    before_first = (month_first - timedelta(days=1)).replace(day=1)
    before_length = calendar.monthrange(before_first.year, before_first.month)[1]
    before_until = before_first.replace(day=min(day.day, before_length))
    return {"week": week, "month": _compare(view, query, month_first, day, before_first, before_until)}


def month_projection(view: Any, query: Query, today: str | None = None) -> dict[str, Any]:
    """The month's cost at its end if the days left cost what the days so far cost on average:
    ``{costUsd, soFarUsd, dailyAverageUsd, daysElapsed (today included), daysInMonth,
    unpricedRequests}`` (USD; None when nothing is priced)."""
    day = date.fromisoformat(today or query.clock.today())
    length = calendar.monthrange(day.year, day.month)[1]
    _first, _last, t = _within(view, query, day.replace(day=1), day)
    so_far = t.known_cost_usd
    average = None if so_far is None else so_far / day.day
    return {
        "costUsd": None if average is None else usd(average * length),
        "soFarUsd": usd(so_far),
        "dailyAverageUsd": usd(average),
        "daysElapsed": day.day,
        "daysInMonth": length,
        "unpricedRequests": t.unpriced_requests,
    }


def cost_series(view: Any, query: Query, by: str) -> dict[str, Any]:
    """Cost and tokens per local day, one series per model (``by`` = ``"model"``) or project
    (``"project"``): ``{"days": [YYYY-MM-DD, ...], "series": [{"key", "label", "costUsd": [per
    day], "totalTokens": [per day]}]}`` (``label``: a project's real path, else the key). Days
    without usage are absent; series are ordered by cost, highest first; past
    :data:`SERIES_KEYS` the rest are summed into one series ``"other"``. Costs in USD (priced
    requests only)."""
    from claude_usage.store import facts

    column = {"model": "u.model_id", "project": "u.project_id"}[by]
    selection = reports.selection(view, query, local=True)
    if selection.empty:
        return {"days": [], "series": []}
    cost, _unpriced = reports.cell_cost(query.mode)
    rows = view.rows(
        f"{selection.prefix()}SELECT ({selection.local} / 96), {column}, SUM({cost}), "
        f"SUM(u.input + u.output + u.cache_5m + u.cache_1h + u.cache_read) {selection.clause()} GROUP BY 1, 2",
        selection.params)
    names = dict(view.rows(f"SELECT id, name FROM {'models' if by == 'model' else 'projects'}"))
    days = sorted({row[0] for row in rows})
    place = {day: at for at, day in enumerate(days)}
    totals: dict[str, float] = {}
    for _day, key, units, _tokens in rows:
        totals[names[key]] = totals.get(names[key], 0.0) + (units or 0) * COST_UNIT
    ranked = sorted(totals, key=lambda name: (-totals[name], name))
    shown = set(ranked[:SERIES_KEYS]) if len(ranked) > SERIES_KEYS + 1 else set(ranked)
    series: dict[str, dict[str, list]] = {}
    for day, key, units, tokens in rows:
        name = names[key] if names[key] in shown else OTHER
        entry = series.setdefault(name, {"costUsd": [0.0] * len(days), "totalTokens": [0] * len(days)})
        entry["costUsd"][place[day]] += (units or 0) * COST_UNIT
        entry["totalTokens"][place[day]] += tokens or 0
    order = [name for name in ranked if name in series] + ([OTHER] if OTHER in series else [])
    paths = facts.project_paths(view, [name for name in order if name != OTHER]) if by == "project" else {}
    return {
        "days": [day_text(day) for day in days],
        "series": [{"key": name, "label": paths.get(name) or name, "costUsd": [usd(v) for v in series[name]["costUsd"]],
                    "totalTokens": series[name]["totalTokens"]} for name in order],
    }
