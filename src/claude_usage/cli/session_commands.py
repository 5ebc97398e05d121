"""``claude-usage sessions``: sessions a person can recognise (issue 14), most expensive first,
and one session in detail (``--id``, which takes the 8 characters the table shows)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Optional

import typer

from claude_usage.cli.common import (
    REPORT_OPTIONS,
    Common,
    Order,
    app,
    empty_notice,
    envelope,
    err,
    fail,
    out,
    print_json,
    query_for,
    report_view,
    with_options,
)

SHOWN = 20  # sessions in the table without --limit


class SessionSort(str, Enum):
    cost = "cost"
    last = "last"
    tokens = "tokens"


_SQL_SORT = {SessionSort.cost: "cost", SessionSort.last: "lastActivity", SessionSort.tokens: "totalTokens"}


def _sort_key(sort: SessionSort) -> Any:
    return {
        SessionSort.cost: lambda item: (item[1].cost_usd, item[0]),
        SessionSort.last: lambda item: (item[1].last_ts_us or 0, item[0]),
        SessionSort.tokens: lambda item: (item[1].total_tokens, item[0]),
    }[sort]


@app.command()
@with_options(*REPORT_OPTIONS)
def sessions(
    opts: Common,
    session_id: Annotated[Optional[str], typer.Option("--id", help="One session in detail (its id, or the start of it as the table shows): models and subagents.")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", "-n", min=0, help=f"Sessions shown at most (default: {SHOWN} in the table, all in --json; 0: all).")] = None,
    sort: Annotated[SessionSort, typer.Option(help="Order by cost, last activity or tokens (highest or latest first; --order asc flips it).")] = SessionSort.cost,
) -> None:
    """Sessions by cost, highest first: title (the one Claude Code wrote, or the first prompt),
    project, start, duration, models, requests, tokens and cost. Subagent requests count in
    their parent session."""
    from claude_usage import limits_report, reports, session_info
    from claude_usage.render import session_table, warn_pricing
    from claude_usage.rows import session_row
    from claude_usage.store import facts

    if session_id is not None:
        _session_detail(opts, session_id)
        return
    descending = (opts.order or Order.desc) == Order.desc
    wanted = limit if limit else (None if opts.json or limit == 0 else SHOWN)
    with report_view(opts) as (view, _source):
        query = query_for(opts, view)
        total = reports.overall(view, query)
        if wanted is None:
            groups = sorted(reports.by_sessions(view, query, opts.breakdown).items(), key=_sort_key(sort), reverse=descending)
            count = len(groups)
        else:
            count, groups = reports.session_page(view, query, _SQL_SORT[sort], descending, 0, wanted)
        paths = facts.project_paths(view, sorted({p for _, t in groups for p in t.projects}))
        named = session_info.titles(view, [name for name, _ in groups])
        theirs = limits_report.session_costs(view, [name for name, _ in groups])
    rows = [session_row(paths, name, t, opts.breakdown, named, theirs) for name, t in groups]
    if opts.json:
        print_json(envelope("sessions", rows, total, query))
        warn_pricing(err, total)
        return
    if not rows:
        out.print(empty_notice(query))
        return
    order = {SessionSort.cost: "cost", SessionSort.last: "last activity", SessionSort.tokens: "tokens"}[sort]
    shown = f", {len(rows)} of {count:,}" if len(rows) < count else ""
    title = f"Claude Code sessions by {order} ({query.clock.name}{shown})"
    out.print(session_table(title, rows, query.clock.zone, total, out.width, opts.compact, count))
    if len(rows) < count:
        err.print(f"{count - len(rows):,} more sessions not shown (--limit N, or --limit 0 for all)")
    warn_pricing(err, total)


def _resolve_session(view: Any, given: str) -> str:
    """The session id that ``given`` names: the id itself, or the start of exactly one id."""
    if view.one("SELECT 1 FROM sessions WHERE name = ?", (given,)):
        return given
    found = [name for (name,) in view.rows(
        "SELECT name FROM sessions WHERE substr(name, 1, ?) = ? ORDER BY name LIMIT 4", (len(given), given))]
    if len(found) == 1:
        return found[0]
    if found:
        fail(f"--id {given!r} is the start of several sessions ({', '.join(found[:3])}{', ...' if len(found) > 3 else ''}); give more of it")
    fail(f"no session {given!r} (`claude-usage sessions` lists them)", 1)


def _session_detail(opts: Common, given: str) -> None:
    from dataclasses import replace

    from claude_usage import reports
    from claude_usage.documents import session_detail
    from claude_usage.formats import duration_text, local_time, plural, shorten
    from claude_usage.render import key_value_table, money, tokens, usage_table, warn_pricing
    from claude_usage.table_fit import REQUIRED, Column, Row, fitted_table

    with report_view(opts) as (view, _source):
        query = query_for(opts, view)
        session_id = _resolve_session(view, given)
        document = session_detail(view, query, session_id)
        q = replace(query, session=session_id)
        total = reports.overall(view, q)
        models = sorted(reports.by_models(view, q).items(), key=lambda kv: -kv[1].cost_usd)
    if document is None:
        fail(f"no usage for session {session_id!r} with the filters given (`claude-usage sessions` lists them)", 1)
    if opts.json:
        print_json({"session": document, "timezone": query.clock.name, "unpricedModels": document["unpricedModels"]})
        return
    zone = query.clock.zone
    partial = bool(document["unpricedRequests"] and total.priced_requests)
    out.print(key_value_table(f"Session {session_id}", [
        ("Title", document["title"] or "-"),
        ("Project", document["path"] or document["project"] or "-"),
        ("Started", local_time(document["firstActivity"], zone) + f" ({query.clock.name})"),
        ("Duration", duration_text(document["durationMinutes"])),
        ("Requests", tokens(document["requests"])),
        ("Total tokens", tokens(document["totalTokens"])),
        ("Cost", money(document["costUsd"], partial)),
        ("Subagents", f"{plural(len(document['subagents']), 'transcript')}, {money(document['subagentCostUsd'])}"),
    ], out.width))
    out.print(usage_table("By model", "Model", models, total, extra_headers=("Requests",),
                          extra=lambda _m, t: [f"{t.requests:,}"], width=out.width, compact=opts.compact))
    if document["subagents"]:
        columns = [Column("Agent", rank=REQUIRED, wrap=True, want=12), Column("Type", rank=70, wrap=True, want=10),
                   Column("Description", rank=60, wrap=True, want=20), Column("Requests", "right", 50),
                   Column("Cost (USD)", "right", REQUIRED)]
        rows = []
        for agent in document["subagents"]:
            described = agent["description"] or (f"{shorten(agent['task'], 100)} (first prompt)" if agent["task"] else "")
            rows.append(Row([agent["agentId"], agent["agentType"] or "-", described, tokens(agent["requests"]),
                             money(agent["costUsd"], bool(agent["unpricedRequests"] and agent["costUsd"] is not None))]))
        out.print(fitted_table("Subagents", columns, rows, out.width, opts.compact))
    warn_pricing(err, total)
