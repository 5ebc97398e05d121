"""Totals at a glance: ``summary``, ``today`` (the default command: today's summary and the
daily table of the last week) and ``process`` (one JSON document with every aggregate)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from claude_usage.cli.common import (
    FILTER_OPTIONS,
    Common,
    app,
    empty_notice,
    err,
    now_us,
    out,
    print_json,
    query_for,
    report_view,
    with_options,
)

TODAY_DAYS = 7  # days in the daily table of `today`


def _cost(t: Any) -> str:
    """A card's cost: ``n/a`` when nothing is priced, ``*`` when unpriced requests are left out."""
    from claude_usage.render import money

    return money(t.cost_usd if t.priced_requests or not t.requests else None, bool(t.unpriced_requests and t.priced_requests))


def _period_line(period: dict[str, Any], unit: str) -> str:
    """``$12.30 vs $10.00 the same days of last week (+23%)``."""
    from claude_usage.formats import change_text
    from claude_usage.render import money

    current, previous = period, period["previous"]
    text = money(current["costUsd"], bool(current["unpricedRequests"]))
    if previous["requests"]:
        text += f" vs {money(previous['costUsd'])} the same days of last {unit} ({change_text(period['change'])})"
    else:
        text += f" (no usage the same days of last {unit})"
    return text


def _projection_line(projection: dict[str, Any]) -> str:
    from claude_usage.formats import plural
    from claude_usage.render import money

    if projection["costUsd"] is None:
        return "n/a"
    return (f"{money(projection['costUsd'])} at {money(projection['dailyAverageUsd'])} a day "
            f"({plural(projection['daysElapsed'], 'day')} of {projection['daysInMonth']} so far)")


def _budget_item(row: dict[str, Any]) -> tuple[str, str]:
    """A budget's line: ``("Month budget", "$10.26 of $20.00 (51%), projected $21.21 (106%)")``."""
    from claude_usage.formats import shorten
    from claude_usage.render import money

    label = f"{row['period'].capitalize()} budget" if row["project"] is None else \
        f"{shorten(row['project'], 18)} {row['period']}"
    text = f"{money(row['spentUsd'])} of {money(row['limitUsd'])} ({row['percent']:.0f}%)"
    if row["status"] == "over":
        return label, text + ", over"
    if row["projectedUsd"] is not None and row["status"] == "projected-over":
        return label, f"{text}, projected {money(row['projectedUsd'])} ({row['projectedPercent']:.0f}%)"
    return label, f"{text}, {money(row['remainingUsd'])} left"


def budget_rows(view: Any, query: Any) -> list[dict[str, Any]]:
    """The settings' budgets in their current periods as JSON rows (in the query's zone and
    cost mode; its other filters do not apply); exits with code 2 on a bad settings file."""
    from claude_usage import budgets
    from claude_usage.cli.config_commands import load_settings

    settings = load_settings()
    return [budgets.state_row(s) for s in budgets.state(view, settings, now_us(), query.clock.name, query.mode)]


@app.command()
@with_options(*FILTER_OPTIONS)
def summary(opts: Common) -> None:
    """Totals at a glance: cost, tokens, requests, sessions, projects, cache hit ratio, today,
    this week and month against the same days before, the month's projected cost, and the
    budgets of the settings file (`claude-usage config`) in their current periods."""
    from claude_usage import reports
    from claude_usage.documents import summary as summary_document
    from claude_usage.formats import local_time, plural
    from claude_usage.render import key_value_table, tokens, warn_pricing
    from claude_usage.rows import usage_row

    with report_view(opts) as (view, _source):
        query = query_for(opts, view)
        total, today, month = reports.today_and_month(view, query)
        document = summary_document(view, query)
        budget_state = budget_rows(view, query)
    if opts.json:
        print_json({"summary": document, "totals": usage_row(total), "budgets": budget_state,
                    "timezone": query.clock.name, "unpricedModels": document["unpricedModels"]})
        warn_pricing(err, total)
        return
    if not total.requests:
        out.print(empty_notice(query))
        return
    zone = query.clock.zone
    items = [
        ("Total cost", _cost(total)),
        ("Today", _cost(today)),
        ("This week", _period_line(document["periods"]["week"], "week")),
        ("This month", _period_line(document["periods"]["month"], "month")),
        ("Month projection", _projection_line(document["monthProjection"])),
        *[_budget_item(row) for row in budget_state],
        ("Total tokens", tokens(total.total_tokens)),
        ("Input / output", f"{tokens(total.input_tokens)} / {tokens(total.output_tokens)}"),
        ("Cache create / read", f"{tokens(total.cache_creation_tokens)} / {tokens(total.cache_read_tokens)}"),
        ("Cache hit ratio", f"{total.cache_hit_ratio:.1%}"),
        ("Requests", tokens(total.requests)),
        ("Sessions", tokens(total.sessions)),
        ("Projects", tokens(len(total.projects))),
        ("First activity", local_time(document["firstActivity"], zone)),
        ("Last activity", local_time(document["lastActivity"], zone)),
    ]
    if total.web_search_requests or total.web_fetch_requests:
        items.append(("Web searches / fetches", f"{tokens(total.web_search_requests)} / {tokens(total.web_fetch_requests)}"))
    if total.fast_unpriced_requests:
        items.append(("Fast requests at standard price", tokens(total.fast_unpriced_requests)))
    if total.placeholder_output_requests:
        items.append(("Placeholder output counts", f"{plural(total.placeholder_output_requests, 'request')}, "
                                                   "output undercounted (Claude Code < 2.1.97)"))
    out.print(key_value_table(f"Claude Code usage summary ({query.clock.name})", items, out.width))
    warn_pricing(err, total)


@app.command()
@with_options(*FILTER_OPTIONS)
def today(opts: Common) -> None:
    """Today at a glance, the default command: today's cost, this week and month against the
    same days before, the month's projection, the active 5-hour block, and the daily table of
    the last 7 days."""
    from claude_usage import insights, reports
    from claude_usage.blocks import blocks_document, query_blocks
    from claude_usage.formats import duration_text, plural
    from claude_usage.render import key_value_table, money, tokens, usage_table, warn_pricing
    from claude_usage.rows import keyed_row, usage_row

    with report_view(opts) as (view, _source):
        query = query_for(opts, view)
        day = query.clock.today()
        first = (date.fromisoformat(day) - timedelta(days=TODAY_DAYS - 1)).isoformat()
        week = replace(query, since=max(first, query.since or first), until=min(day, query.until or day))
        days = reports.daily(view, week)
        shown = reports.overall(view, week)
        now = reports.overall(view, replace(query, since=day, until=day))
        periods = insights.periods(view, query)
        projection = insights.month_projection(view, query)
        yesterday = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
        recent = query_blocks(view, replace(query, since=yesterday, until=None))
    active = [row for row in blocks_document(recent, now_us(), active_only=True)["blocks"] if row["isActive"]]
    if opts.json:
        print_json({"date": day, "today": usage_row(now), "periods": periods, "monthProjection": projection,
                    "activeBlock": active[0] if active else None,
                    "daily": [keyed_row("date", d, t) for d, t in days], "totals": usage_row(shown),
                    "timezone": query.clock.name, "unpricedModels": sorted(shown.unpriced_models)})
        return
    items = [("Today", f"{_cost(now)} ({plural(now.requests, 'request')}, {tokens(now.total_tokens)} tokens)"),
             ("This week", _period_line(periods["week"], "week")),
             ("This month", _period_line(periods["month"], "month")),
             ("Month projection", _projection_line(projection))]
    if active:
        block = active[0]
        items.append(("Active block", f"{money(block['costUsd'])}, resets in {duration_text(block['timeToResetMinutes'])}"))
    out.print(key_value_table(f"Claude Code today, {day} ({query.clock.name})", items, out.width))
    if days:
        out.print(usage_table(f"Last {TODAY_DAYS} days (`claude-usage daily` for every day)", "Date", days, shown,
                              width=out.width, compact=opts.compact))
    else:
        out.print(empty_notice(week))
    warn_pricing(err, shown)


@app.command()
@with_options("json", "tz", "mode", "data_dir", "projects_path", "demo", "prices", "index", "no_index", "forget_deleted")
def process(opts: Common) -> None:
    """Print one JSON document with every aggregate: days, weeks, months, hours of the day,
    models, projects, sessions, 5-hour blocks, totals and diagnostics."""
    from claude_usage import reports, session_info
    from claude_usage.blocks import blocks_document, query_blocks
    from claude_usage.cli.usage_commands import diagnostics_dict
    from claude_usage.rows import keyed_row, model_row, project_row, session_row, usage_row
    from claude_usage.store import facts

    with report_view(opts) as (view, _source):
        query = query_for(opts, view)
        total = reports.overall(view, query)
        paths = facts.project_paths(view)
        sessions = sorted(reports.by_sessions(view, query).items())
        named = session_info.titles(view, [name for name, _ in sessions])
        blocks = blocks_document(query_blocks(view, query), now_us())
        document = {
            "dailyUsage": [keyed_row("date", d, t) for d, t in reports.daily(view, query)],
            "weeklyUsage": [keyed_row("week", w, t) for w, t in reports.weekly(view, query)],
            "monthlyUsage": [keyed_row("month", m, t) for m, t in reports.monthly(view, query)],
            "hourlyUsage": [keyed_row("hour", h, t) for h, t in enumerate(reports.hourly(view, query))],
            "modelUsage": [model_row(m, t) for m, t in sorted(reports.by_models(view, query).items())],
            "projects": [project_row(paths, n, t) for n, t in sorted(reports.by_projects(view, query).items())],
            "sessionUsage": [session_row(paths, s, t, titles=named) for s, t in sessions],
            "blocks": blocks["blocks"],
            "totalSessions": total.sessions,
            "totals": usage_row(total),
            "diagnostics": diagnostics_dict(facts.diagnostics(view)),
            "timezone": query.clock.name,
            "unpricedModels": sorted(total.unpriced_models),
            "priceDataVersion": facts.price_version(view),
        }
    print_json(document)
