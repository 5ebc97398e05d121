"""The report commands: daily, weekly, monthly, hourly, models and projects. Each is a query of
:mod:`claude_usage.reports` over one view of the store, printed as a table that fits the
terminal or, with ``--json``, as DESIGN section 8's rows. A selection without usage says so
instead of printing a table of zeros. (Sessions: :mod:`~claude_usage.cli.session_commands`;
summary, today and process: :mod:`~claude_usage.cli.summary_commands`.)"""

from __future__ import annotations

from typing import Annotated, Any, Callable

import typer

from claude_usage.cli.common import (
    FILTER_OPTIONS,
    REPORT_OPTIONS,
    Common,
    Order,
    Weekday,
    app,
    empty_notice,
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
    json_extra: dict[str, Any] | None = None,
    footer: Callable[[list, Any], str | None] | None = None,
) -> None:
    """Query ``groups_of(view, query)``, sort, and print a table or ``{"<name>": [row_of(paths,
    key, totals, breakdown)], "totals", "timezone", "unpricedModels", **json_extra}``
    (``paths``: the projects' real paths, when the rows show them); ``footer(groups, total)``:
    a line under the table."""
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
        print_json({**envelope(name, [row_of(known_paths, key, t, opts.breakdown) for key, t in groups], total, query),
                    **(json_extra or {})})
        warn_pricing(err, total)  # on stderr: the JSON names the models too
        return

    if not groups:
        out.print(empty_notice(query))
        return
    describe = (lambda key, t: extra(known_paths, key, t)) if extra else None
    title = f"Claude Code usage by {header.lower()} ({query.clock.name})"
    out.print(usage_table(title, header, groups, total, opts.breakdown, extra_headers, describe, width=out.width,
                          compact=opts.compact))
    line = footer(groups, total) if footer else None
    if line:
        out.print(line, highlight=False)
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


VALUE_RANK = 85  # the plan's value column: kept after the token kinds go, before total tokens


def _plan_footer(plan: Any) -> Callable[[list, Any], str | None]:
    """The line under the monthly table: the plan, its price, and the value of the months shown."""
    from claude_usage.plan_value import value_ratio
    from claude_usage.render import money

    def footer(groups: list, total: Any) -> str | None:
        if plan.price_usd is None:
            return f"Plan {plan.name}: pay per use, so the API cost is the price (no value ratio)."
        paid = plan.price_usd * len(groups)
        ratio = value_ratio(total.known_cost_usd, paid)
        return (f"Plan {plan.name} at {money(plan.price_usd)} a month. Value = API-equivalent cost / price; "
                f"{len(groups)} months: {money(total.known_cost_usd)} for {money(paid)}"
                + (f" ({ratio:.2f}x)." if ratio is not None else "."))

    return footer


@app.command()
@with_options(*REPORT_OPTIONS)
def monthly(opts: Common) -> None:
    """Usage and cost per local month; with a plan in the settings (`claude-usage config`), its
    value: the month's API-equivalent cost against the plan's price."""
    from claude_usage.cli.config_commands import load_settings
    from claude_usage.plan_value import plan_document, value_fields
    from claude_usage.rows import keyed_row
    from claude_usage.table_fit import Column

    plan = load_settings().plan
    if plan is None:
        _report(opts, "monthly", "Month", _series("month", opts.breakdown), _keyed("month"))
        return

    def row_of(_paths: Any, key: str, t: Any, breakdown: bool) -> dict:
        return {**keyed_row("month", key, t, breakdown), **value_fields(t.known_cost_usd, plan)}

    def extra(_paths: Any, _key: str, t: Any) -> list[str]:
        from claude_usage.filters import short_model

        ratio = value_fields(t.known_cost_usd, plan)["valueRatio"]
        return [", ".join(short_model(m) for m in sorted(t.models)), "-" if ratio is None else f"{ratio:.2f}x"]

    headers: tuple = ("Models",) if plan.price_usd is None else ("Models", Column("Value", "right", VALUE_RANK))
    _report(opts, "monthly", "Month", _series("month", opts.breakdown), row_of, extra_headers=headers,
            extra=(lambda paths, key, t: extra(paths, key, t)[: len(headers)]),
            json_extra={"plan": plan_document(plan)}, footer=_plan_footer(plan))


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
    if not total.requests:
        out.print(empty_notice(query))
        return
    rows = [(f"{h:02d}:00", t) for h, t in enumerate(hours)]
    title = f"Claude Code usage by hour of day ({query.clock.name})"
    out.print(usage_table(title, "Hour", rows, total, opts.breakdown, width=out.width, compact=opts.compact))
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


def diagnostics_dict(diagnostics: Any) -> dict[str, int]:
    """The diagnostics counters as a JSON object (DESIGN section 3 names)."""
    return {name: getattr(diagnostics, name) for name in diagnostics.__struct_fields__}
