"""The report commands: daily, weekly, monthly, hourly, models, projects, sessions, summary and
process. Each is a query of :mod:`claude_usage.reports` over one view of the store, printed as
a table or, with ``--json``, as DESIGN section 8's rows."""

from __future__ import annotations

from typing import Annotated, Any, Callable, Optional

import typer

from claude_usage.cli.common import (
    EXIT_NO_DATA,
    FILTER_OPTIONS,
    REPORT_OPTIONS,
    Common,
    Order,
    Weekday,
    app,
    envelope,
    err,
    out,
    print_json,
    query_for,
    report_view,
    with_options,
)


def _report(
    opts: Common,
    name: str,
    header: str,
    groups_of: Callable[[Any, Any], dict],
    row_of: Callable[..., dict],
    sort_key: Callable[[tuple[str, Any]], Any] = lambda item: item[0],
    default_order: Order = Order.asc,
    extra_headers: tuple[str, ...] = ("Models",),
    extra: Callable[..., list[str]] | None = None,
    first_weekday: int = 0,
    paths: bool = False,
) -> None:
    """Query ``groups_of(view, query)``, sort, and print a table or ``{"<name>": [row_of(paths,
    key, totals, breakdown)], "totals", "timezone", "unpricedModels"}`` (``paths``: the
    projects' real paths, when the rows show them)."""
    from claude_usage import reports
    from claude_usage.store import facts

    with report_view(opts) as (view, _source):
        query = query_for(opts, view, first_weekday)
        groups = sorted(groups_of(view, query).items(), key=sort_key)
        total = reports.overall(view, query)
        known_paths = facts.project_paths(view) if paths else {}
    if (opts.order or default_order) == Order.desc:
        groups.reverse()
    from claude_usage.render import usage_table, warn_pricing

    if opts.json:
        print_json(envelope(name, [row_of(known_paths, key, t, opts.breakdown) for key, t in groups], total, query))
        warn_pricing(err, total)  # on stderr: the JSON names the models too
        return

    describe = (lambda key, t: extra(known_paths, key, t)) if extra else None
    title = f"Claude Code usage by {header.lower()} ({query.clock.name})"
    out.print(usage_table(title, header, groups, total, opts.breakdown, extra_headers, describe, width=out.width))
    warn_pricing(err, total)


def _keyed(key_name: str) -> Callable[..., dict]:
    from claude_usage.rows import keyed_row

    return lambda _paths, key, t, breakdown: keyed_row(key_name, key, t, breakdown)


def _series(grouping: str, breakdown: bool) -> Callable[[Any, Any], dict]:
    from claude_usage import reports

    chosen = {"day": reports.DAY, "week": reports.WEEK, "month": reports.MONTH}[grouping]
    return lambda view, query: reports.grouped(view, query, chosen, breakdown)


@app.command()
@with_options(*REPORT_OPTIONS)
def daily(opts: Common) -> None:
    """Usage and cost per local day."""
    _report(opts, "daily", "Date", _series("day", opts.breakdown), _keyed("date"))


@app.command()
@with_options(*REPORT_OPTIONS)
def weekly(
    opts: Common,
    start_of_week: Annotated[Weekday, typer.Option(help="First day of the week.")] = Weekday.monday,
) -> None:
    """Usage and cost per week (labelled by the week's first day, Monday by default)."""
    from claude_usage.timebuckets import WEEKDAYS

    first = WEEKDAYS.index(start_of_week.value)
    _report(opts, "weekly", "Week", _series("week", opts.breakdown), _keyed("week"), first_weekday=first)


@app.command()
@with_options(*REPORT_OPTIONS)
def monthly(opts: Common) -> None:
    """Usage and cost per local month."""
    _report(opts, "monthly", "Month", _series("month", opts.breakdown), _keyed("month"))


@app.command()
@with_options(*FILTER_OPTIONS, "breakdown")
def hourly(opts: Common) -> None:
    """Usage per local hour of day (0-23, summed over the selected days) and a day x hour heatmap."""
    from claude_usage import reports
    from claude_usage.render import usage_table, warn_pricing
    from claude_usage.rows import keyed_row, usage_row

    with report_view(opts) as (view, _source):
        query = query_for(opts, view)
        hours = reports.hourly(view, query, opts.breakdown)
        total = reports.overall(view, query)
        heatmap = reports.heatmap(view, query) if opts.json else []
    if opts.json:
        document = envelope("hourly", [keyed_row("hour", h, t, opts.breakdown) for h, t in enumerate(hours)], total, query)
        document["heatmap"] = [{"date": d, "hour": h, **usage_row(t)} for (d, h), t in heatmap]
        print_json(document)
        warn_pricing(err, total)
        return
    rows = [(f"{h:02d}:00", t) for h, t in enumerate(hours)]
    title = f"Claude Code usage by hour of day ({query.clock.name})"
    out.print(usage_table(title, "Hour", rows, total, opts.breakdown, width=out.width))
    warn_pricing(err, total)


def _by_cost(item: tuple[str, Any]) -> tuple:
    return (item[1].cost_usd, item[0])


@app.command()
@with_options(*FILTER_OPTIONS, "order")
def models(opts: Common) -> None:
    """Usage and cost per model (by cost, highest first)."""
    from claude_usage import reports
    from claude_usage.rows import model_row

    _report(
        opts, "models", "Model", reports.by_models, lambda _paths, model, t, _b: model_row(model, t),
        sort_key=_by_cost, default_order=Order.desc,
        extra_headers=("Requests",), extra=lambda _paths, _model, t: [f"{t.requests:,}"],
    )


@app.command()
@with_options(*REPORT_OPTIONS)
def projects(opts: Common) -> None:
    """Usage and cost per project (by cost, highest first); the path comes from the transcripts."""
    from claude_usage import reports
    from claude_usage.rows import project_row

    _report(
        opts, "projects", "Project", lambda view, query: reports.by_projects(view, query, opts.breakdown), project_row,
        sort_key=_by_cost, default_order=Order.desc,
        extra_headers=("Path",), extra=lambda paths, name, _t: [paths.get(name) or ""], paths=True,
    )


@app.command()
@with_options(*REPORT_OPTIONS)
def sessions(
    opts: Common,
    session_id: Annotated[Optional[str], typer.Option("--id", help="Show one session in detail: models and subagents.")] = None,
) -> None:
    """Usage and cost per session (by last activity; subagent requests count in their parent)."""
    from claude_usage import reports
    from claude_usage.rows import session_row
    from claude_usage.timebuckets import iso_utc

    if session_id is not None:
        _session_detail(opts, session_id)
        return
    _report(
        opts, "sessions", "Session", lambda view, query: reports.by_sessions(view, query, opts.breakdown), session_row,
        sort_key=lambda item: (item[1].last_ts_us or 0, item[0]),
        extra_headers=("Project", "Last activity (UTC)"),
        extra=lambda _paths, _s, t: [", ".join(sorted(t.projects)), (iso_utc(t.last_ts_us) or "")[:16].replace("T", " ")],
        paths=True,
    )


def _session_detail(opts: Common, session_id: str) -> None:
    from dataclasses import replace

    from claude_usage import reports
    from claude_usage.documents import session_detail
    from claude_usage.render import key_value_table, money, tokens, usage_table, warn_pricing
    from claude_usage.totals import summed

    with report_view(opts) as (view, _source):
        query = query_for(opts, view)
        document = session_detail(view, query, session_id)
        q = replace(query, session=session_id)
        total = reports.overall(view, q)
        models = sorted(reports.by_models(view, q).items(), key=lambda kv: -kv[1].cost_usd)
        per_file = reports.grouped(view, q, reports.FILE, source=reports.ROWS) if document and document["subagents"] else {}
    if document is None:
        err.print(f"[red]Error:[/] no usage for session {session_id!r} (`claude-usage sessions` lists them)")
        raise typer.Exit(EXIT_NO_DATA)
    if opts.json:
        print_json({"session": document, "timezone": query.clock.name, "unpricedModels": document["unpricedModels"]})
        return
    out.print(key_value_table(f"Session {session_id}", [
        ("Project", document["project"] or "-"),
        ("Path", document["path"] or "-"),
        ("First / last activity (UTC)", f"{document['firstActivity']} / {document['lastActivity']}"),
        ("Requests", tokens(document["requests"])),
        ("Total tokens", tokens(document["totalTokens"])),
        ("Cost", money(document["costUsd"], bool(document["unpricedRequests"] and total.priced_requests))),
        ("Subagent cost", money(document["subagentCostUsd"])),
    ]))
    out.print(usage_table("By model", "Model", models, total, extra_headers=("Requests",),
                          extra=lambda _m, t: [f"{t.requests:,}"], width=out.width))
    if document["subagents"]:
        agents = {row["file"]: row for row in document["subagents"]}
        groups = {path: t for path, t in per_file.items() if path in agents}
        agent_total = summed(list(groups.values()))
        rows = [(agents[f]["agentId"], t) for f, t in groups.items()]
        by_id = {row["agentId"]: row for row in agents.values()}
        out.print(usage_table("Subagents", "Agent", rows, agent_total, extra_headers=("Type", "Description"),
                              extra=lambda a, _t: [by_id[a]["agentType"] or "", by_id[a]["description"] or ""],
                              width=out.width))
    warn_pricing(err, total)


@app.command()
@with_options(*FILTER_OPTIONS)
def summary(opts: Common) -> None:
    """Totals at a glance: cost, tokens, requests, sessions, projects, cache hit ratio, today, this month."""
    from claude_usage import reports
    from claude_usage.documents import summary as summary_document
    from claude_usage.render import key_value_table, money, tokens, warn_pricing
    from claude_usage.rows import usage_row

    with report_view(opts) as (view, _source):
        query = query_for(opts, view)
        total, today, month = reports.today_and_month(view, query)
        document = summary_document(view, query)
    if opts.json:
        print_json({"summary": document, "totals": usage_row(total), "timezone": query.clock.name, "unpricedModels": document["unpricedModels"]})
        warn_pricing(err, total)
        return

    def cost(t: reports.Totals) -> str:
        return money(t.cost_usd if t.priced_requests or not t.requests else None, bool(t.unpriced_requests and t.priced_requests))

    items = [
        ("Total cost", cost(total)),
        ("Today", cost(today)),
        ("This month", cost(month)),
        ("Total tokens", tokens(total.total_tokens)),
        ("Input / output", f"{tokens(total.input_tokens)} / {tokens(total.output_tokens)}"),
        ("Cache create / read", f"{tokens(total.cache_creation_tokens)} / {tokens(total.cache_read_tokens)}"),
        ("Cache hit ratio", f"{total.cache_hit_ratio:.1%}"),
        ("Requests", tokens(total.requests)),
        ("Sessions", tokens(total.sessions)),
        ("Projects", tokens(len(total.projects))),
        ("First activity (UTC)", document["firstActivity"] or "-"),
        ("Last activity (UTC)", document["lastActivity"] or "-"),
    ]
    if total.web_search_requests or total.web_fetch_requests:
        items.append(("Web searches / fetches", f"{tokens(total.web_search_requests)} / {tokens(total.web_fetch_requests)}"))
    if total.fast_unpriced_requests:
        items.append(("Fast requests at standard price", tokens(total.fast_unpriced_requests)))
    if total.placeholder_output_requests:
        items.append(("Placeholder output counts", f"{tokens(total.placeholder_output_requests)} request(s), "
                                                   "output undercounted (Claude Code < 2.1.97)"))
    out.print(key_value_table(f"Claude Code usage summary ({query.clock.name})", items))
    warn_pricing(err, total)


@app.command()
@with_options("json", "tz", "mode", "data_dir", "projects_path", "demo", "prices", "index", "no_index", "forget_deleted")
def process(opts: Common) -> None:
    """Print one JSON document with every aggregate (the old data-processor's output)."""
    from claude_usage import reports
    from claude_usage.rows import keyed_row, model_row, project_row, usage_row
    from claude_usage.store import facts

    with report_view(opts) as (view, _source):
        query = query_for(opts, view)
        total = reports.overall(view, query)
        paths = facts.project_paths(view)
        document = {
            "dailyUsage": [keyed_row("date", d, t) for d, t in reports.daily(view, query)],
            "monthlyUsage": [keyed_row("month", m, t) for m, t in reports.monthly(view, query)],
            "modelUsage": [model_row(m, t) for m, t in sorted(reports.by_models(view, query).items())],
            "projects": [project_row(paths, n, t) for n, t in sorted(reports.by_projects(view, query).items())],
            "totalSessions": total.sessions,
            "totals": usage_row(total),
            "diagnostics": diagnostics_dict(facts.diagnostics(view)),
            "timezone": query.clock.name,
            "unpricedModels": sorted(total.unpriced_models),
            "priceDataVersion": facts.price_version(view),
        }
    print_json(document)


def diagnostics_dict(diagnostics: Any) -> dict[str, int]:
    """The diagnostics counters as a JSON object (DESIGN section 3 names)."""
    return {name: getattr(diagnostics, name) for name in diagnostics.__struct_fields__}
