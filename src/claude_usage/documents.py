"""Composite JSON documents of the REST API (DESIGN section 8): summary, hourly statistics and
the detail views of a day, month, project and session. All are built from one view of the store
(a read transaction) through the queries of :mod:`claude_usage.reports` and the rows of
:mod:`claude_usage.rows`.
"""

from __future__ import annotations

import calendar
from dataclasses import replace
from typing import Any

from claude_usage import insights, reports, session_info
from claude_usage.reports import Query
from claude_usage.rows import cost_string, keyed_row, model_row, project_row, session_row, usage_row, usd
from claude_usage.store import facts
from claude_usage.timebuckets import iso_utc
from claude_usage.totals import Totals

# Parts of the day, local hours [start, end).
PARTS_OF_DAY = (("nightUsage", 0, 6), ("morningUsage", 6, 12), ("afternoonUsage", 12, 18), ("eveningUsage", 18, 24))


def summary(view: Any, query: Query, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The summary over ``query``'s selection.

    Costs in USD (``totalCost`` as a string with 4 decimals, as every ``cost`` string:
    issue 14); ``todayCostUsd`` and
    ``thisMonthCostUsd`` use today's date in the query's zone (their ``...UnpricedRequests`` tell
    that requests without a price are left out); the counts of DESIGN section 5
    (``webSearchRequests``, ``webFetchRequests``, ``placeholderOutputRequests``,
    ``fastUnpricedRequests``) are those of the usage row; ``totalSize`` is the bytes of
    transcript files read (the API adds todo lists and MCP logs); times are ISO UTC. ``extra``
    adds fields known outside the request set (``totalMcpSessions``, ``totalTodoFiles``).
    ``periods`` compares this week and month with the same days before
    (:func:`claude_usage.insights.periods`); ``monthProjection`` projects the month's cost to
    its end (:func:`claude_usage.insights.month_projection`).
    """
    total, today, month = reports.today_and_month(view, query)
    return {
        "totalCost": cost_string(total.cost_usd),
        "totalCostUsd": usd(total.known_cost_usd),
        "totalTokens": total.total_tokens,
        "totalMessages": total.requests,
        "totalRequests": total.requests,
        "totalConversations": total.sessions,
        "totalProjects": len(total.projects),
        "totalSize": facts.data_bytes(view),
        "firstActivity": iso_utc(total.first_ts_us),
        "lastActivity": iso_utc(total.last_ts_us),
        "cacheHitRatio": round(total.cache_hit_ratio, 6),
        "todayCostUsd": usd(today.cost_usd),
        "thisMonthCostUsd": usd(month.cost_usd),
        "todayUnpricedRequests": today.unpriced_requests,
        "thisMonthUnpricedRequests": month.unpriced_requests,
        "webSearchRequests": total.web_search_requests,
        "webFetchRequests": total.web_fetch_requests,
        "placeholderOutputRequests": total.placeholder_output_requests,
        "fastUnpricedRequests": total.fast_unpriced_requests,
        "periods": insights.periods(view, query),
        "monthProjection": insights.month_projection(view, query),
        **(extra or {}),
        "timezone": query.clock.name,
        "unpricedModels": sorted(total.unpriced_models),
    }


def _share(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def _hour_row(hour: int, t: Totals) -> dict[str, Any]:
    row = keyed_row("hour", hour, t)
    row["avgCostPerRequest"] = usd(t.cost_usd / t.priced_requests) if t.priced_requests else 0.0
    row["avgTokensPerRequest"] = round(t.total_tokens / t.requests, 2) if t.requests else 0.0
    return row


def hourly(view: Any, query: Query) -> dict[str, Any]:
    """``{hourlyData, heatmapData, statistics, timezone, unpricedModels}``.

    ``hourlyData``: 24 rows (local hours 0-23, zero-filled) summed over the selected days, with
    ``avgCostPerRequest`` (USD) and ``avgTokensPerRequest``; ``heatmapData``: one row per
    (local date, hour) with usage; ``statistics``: totals, averages per hour of day (total / 24),
    the peak hours by cost, tokens and requests with their share in percent, and usage per part
    of day (night 0-6, morning 6-12, afternoon 12-18, evening 18-24) with its share of the cost;
    null when nothing is selected.
    """
    hours = reports.hourly(view, query)
    total = reports.overall(view, query)
    statistics = None
    if total.requests:
        def peak(value):
            return max(range(24), key=lambda h: (value(hours[h]), -h))

        cost_hour = peak(lambda t: t.cost_usd)
        token_hour = peak(lambda t: t.total_tokens)
        request_hour = peak(lambda t: t.requests)
        statistics = {
            "totalCost": usd(total.cost_usd),
            "totalTokens": total.total_tokens,
            "totalRequests": total.requests,
            "avgCostPerHour": usd(total.cost_usd / 24),
            "avgTokensPerHour": round(total.total_tokens / 24, 2),
            "avgRequestsPerHour": round(total.requests / 24, 2),
            "peakCostHour": {"hour": cost_hour, "cost": usd(hours[cost_hour].cost_usd),
                             "percentage": _share(hours[cost_hour].cost_usd, total.cost_usd)},
            "peakTokenHour": {"hour": token_hour, "tokens": hours[token_hour].total_tokens,
                              "percentage": _share(hours[token_hour].total_tokens, total.total_tokens)},
            "peakRequestHour": {"hour": request_hour, "requests": hours[request_hour].requests,
                                "percentage": _share(hours[request_hour].requests, total.requests)},
        }
        for name, start, end in PARTS_OF_DAY:
            cost = sum(t.cost_usd for t in hours[start:end])
            statistics[name] = {
                "hours": f"{start}-{end}", "cost": usd(cost), "tokens": sum(t.total_tokens for t in hours[start:end]),
                "requests": sum(t.requests for t in hours[start:end]), "percentage": _share(cost, total.cost_usd),
            }
    return {
        "hourlyData": [_hour_row(h, t) for h, t in enumerate(hours)],
        "heatmapData": [{"date": d, "hour": h, **usage_row(t)} for (d, h), t in reports.heatmap(view, query)],
        "statistics": statistics,
        "timezone": query.clock.name,
        "unpricedModels": sorted(total.unpriced_models),
    }


def _models(view: Any, query: Query) -> list[dict[str, Any]]:
    groups = reports.by_models(view, query)
    return [model_row(m, t) for m, t in sorted(groups.items(), key=lambda kv: (-kv[1].cost_usd, kv[0]))]


def _projects(view: Any, query: Query) -> list[dict[str, Any]]:
    groups = reports.by_projects(view, query)
    paths = facts.project_paths(view, list(groups))
    return [project_row(paths, n, t) for n, t in sorted(groups.items(), key=lambda kv: (-kv[1].cost_usd, kv[0]))]


def _sessions(view: Any, query: Query) -> list[dict[str, Any]]:
    groups = reports.by_sessions(view, query, by_model=True)
    ordered = sorted(groups.items(), key=lambda kv: (kv[1].last_ts_us or 0, kv[0]), reverse=True)
    paths = facts.project_paths(view, sorted({p for _, t in ordered for p in t.projects}))
    named = session_info.titles(view, [s for s, _ in ordered])
    return [session_row(paths, s, t, breakdown=True, titles=named) for s, t in ordered]


def _days(view: Any, query: Query) -> list[dict[str, Any]]:
    return [keyed_row("date", d, t) for d, t in reports.daily(view, query)]


def _footer(query: Query, total: Totals) -> dict[str, Any]:
    return {"timezone": query.clock.name, "unpricedModels": sorted(total.unpriced_models)}


def day_detail(view: Any, query: Query, day: str) -> dict[str, Any] | None:
    """One local day (``YYYY-MM-DD``): its row plus ``hourly`` (24 rows), ``models``,
    ``projects`` and ``sessionList``; None when the day has no usage."""
    q = replace(query, since=day, until=day)
    total = reports.overall(view, q)
    if not total.requests:
        return None
    return {
        **keyed_row("date", day, total),
        "hourly": [_hour_row(h, t) for h, t in enumerate(reports.hourly(view, q))],
        "models": _models(view, q),
        "projects": _projects(view, q),
        "sessionList": _sessions(view, q),
        **_footer(q, total),
    }


def month_detail(view: Any, query: Query, month: str) -> dict[str, Any] | None:
    """One local month (``YYYY-MM``): its row plus ``days`` and ``models``; None without usage."""
    year, number = int(month[:4]), int(month[5:7])
    if not 1970 <= year <= 9998:  # no request can lie there (times are checked when read)
        return None
    last = calendar.monthrange(year, number)[1]
    q = replace(query, since=f"{month}-01", until=f"{month}-{last:02d}")
    total = reports.overall(view, q)
    if not total.requests:
        return None
    return {**keyed_row("month", month, total), "days": _days(view, q), "models": _models(view, q), **_footer(q, total)}


def project_detail(view: Any, query: Query, name: str) -> dict[str, Any] | None:
    """One project (its key): its row plus ``daily``, ``models`` and ``sessionList``; None when
    it has no usage in the selection."""
    q = replace(query, project=name)
    total = reports.overall(view, q)
    if not total.requests:
        return None
    return {
        **project_row(facts.project_paths(view, [name]), name, total),
        "daily": _days(view, q),
        "models": _models(view, q),
        "sessionList": _sessions(view, q),
        **_footer(q, total),
    }


def session_list(view: Any, query: Query) -> list[dict[str, Any]]:
    """Every session's row (with per-model rows in ``models``), latest activity first."""
    return _sessions(view, query)


def session_detail(view: Any, query: Query, session_id: str) -> dict[str, Any] | None:
    """One session: its row plus ``models`` and ``subagents`` (one row per subagent transcript:
    ``agentId``, ``file``, ``agentType`` and ``description`` from its ``.meta.json`` (None
    without one), ``task`` (its first prompt, None when it has none), the first and last
    activity and usage); None when unknown."""
    q = replace(query, session=session_id)
    total = reports.overall(view, q, by_model=True)
    if not total.requests:
        return None
    agents = {path: meta for path, meta in facts.agents(view, session_id).values()}
    per_file = reports.grouped(view, q, reports.FILE, source=reports.ROWS) if agents else {}
    tasks = session_info.agent_tasks(view, list(agents))
    subagents = []
    for path, t in sorted(((p, t) for p, t in per_file.items() if p in agents), key=lambda kv: (kv[1].first_ts_us or 0, kv[0])):
        meta = agents[path]
        subagents.append({
            "agentId": session_info.agent_id(path),
            "file": path,
            "agentType": meta.get("agentType"),
            "description": meta.get("description"),
            "task": tasks.get(path),
            "firstActivity": iso_utc(t.first_ts_us),
            "lastActivity": iso_utc(t.last_ts_us),
            **usage_row(t),
        })
    paths = facts.project_paths(view, sorted(total.projects))
    named = session_info.titles(view, [session_id])
    from claude_usage.limits_report import session_costs

    theirs = session_costs(view, [session_id])
    return {**session_row(paths, session_id, total, breakdown=True, titles=named, claude_code_costs=theirs),
            "subagents": subagents, **_footer(q, total)}
