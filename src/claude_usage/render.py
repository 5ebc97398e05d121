"""Terminal tables for the CLI's usage reports (Rich): readable numbers, a totals row, warnings
on stderr. Every table fits the terminal (:mod:`claude_usage.table_fit`): the row key and the
cost are the last columns to go, numbers are never cut. Blocks are in
:mod:`claude_usage.render_blocks`, tools, MCP logs and price corrections in
:mod:`claude_usage.render_listings`."""

from __future__ import annotations

import re
from typing import Any, Sequence

from rich.console import Console
from rich.table import Table

from claude_usage.filters import short_model
from claude_usage.formats import duration_text, local_time, plural, shorten
from claude_usage.reports import Totals
from claude_usage.table_fit import REQUIRED, Column, Row, fitted_table

__all__ = ["short_model", "tokens", "money", "usage_table", "session_table", "key_value_table", "warn_pricing"]


def tokens(value: int) -> str:
    """A token count with thousands separators."""
    return f"{value:,}"


def money(value: float | None, partial: bool = False) -> str:
    """USD with 2 decimals; ``n/a`` when unknown; ``*`` marks a sum missing unpriced requests."""
    if value is None:
        return "n/a"
    from claude_usage.rows import money_text

    return money_text(value) + ("*" if partial else "")


def cost_cell(t: Totals) -> str:
    """The cost of ``t`` for a table: ``n/a`` when none of its requests is priced, ``*`` when
    some are not."""
    return money(t.known_cost_usd, partial=bool(t.unpriced_requests and t.priced_requests))


# The usage columns: (header, rank, group, cell). Ranks: the cost and the key are never dropped;
# then total tokens, searches, input and output, the cache columns, descriptive columns last.
_USAGE = (
    ("Input", 61, "io", lambda t: tokens(t.input_tokens)),
    ("Output", 61, "io", lambda t: tokens(t.output_tokens)),
    ("Cache Create", 40, "cache", lambda t: tokens(t.cache_creation_tokens)),
    ("Cache Read", 40, "cache", lambda t: tokens(t.cache_read_tokens)),
    ("Total Tokens", 90, None, lambda t: tokens(t.total_tokens)),
    ("Searches", 65, None, lambda t: tokens(t.web_search_requests)),
    ("Cost (USD)", REQUIRED, None, cost_cell),
)
DESCRIPTIVE_RANK = 10
COUNT_RANK = 80
TITLE_CHARS = 60  # of a session's title in a table


def usage_table(
    title: str,
    key_header: str,
    rows: Sequence[tuple[str, Totals]],
    total: Totals,
    breakdown: bool = False,
    extra_headers: Sequence[str | Column] = ("Models",),
    extra: Any = None,
    width: int = 200,
    compact: bool = False,
) -> Any:
    """A table with one row per ``(key, totals)``, optional per-model sub-rows and a totals row.

    ``extra(key, totals)`` gives the cells of ``extra_headers`` (default: the models used; a
    :class:`~claude_usage.table_fit.Column` is used as given, empty in the totals row). An
    extra column of counts is right-aligned, summed in the totals row and kept longer than
    descriptive ones. A column of web searches appears only when ``total`` has any. A row
    without requests (an hour of the day without usage) shows ``-``. The terminal ``width``
    (columns) chooses what is shown (:mod:`claude_usage.table_fit`): descriptive columns go
    first, then the cache columns, then input and output, leaving total tokens and cost;
    ``compact`` shows only those."""
    describe = extra or (lambda _key, t: [", ".join(short_model(m) for m in sorted(t.models))])
    usage = [u for u in _USAGE if u[0] != "Searches" or total.web_search_requests]
    lines: list[tuple[str, list[str], Totals, str | None]] = []
    for key, t in rows:
        lines.append((str(key), describe(key, t), t, None))
        if breakdown and t.by_model:
            for model, sub in sorted(t.by_model.items()):
                lines.append((f"  └ {short_model(model)}", [""] * len(extra_headers), sub, "dim"))
    keyed = [described for _, described, _, style in lines if style is None]
    counts = [bool(keyed) and not isinstance(extra_headers[i], Column) and all(re.fullmatch(r"[\d,]+", cells[i]) for cells in keyed)
              for i in range(len(extra_headers))]
    sums = [f"{sum(int(cells[i].replace(',', '')) for cells in keyed):,}" if count else "" for i, count in enumerate(counts)]
    lines.append(("Total", sums, total, "bold"))
    columns = [Column(key_header, rank=REQUIRED, wrap=True)]
    columns += [header if isinstance(header, Column) else
                Column(header, "right" if count else "left", COUNT_RANK if count else DESCRIPTIVE_RANK)
                for header, count in zip(extra_headers, counts)]
    columns += [Column(header, "right", rank, group=group) for header, rank, group, _cell in usage]
    table_rows = []
    for key, described, t, style in lines:
        numbers = [cell(t) if t.requests or style == "bold" else "-" for _h, _r, _g, cell in usage]
        table_rows.append(Row([key, *described, *numbers], style, style == "bold"))
    return fitted_table(title, columns, table_rows, width, compact)


def session_table(title: str, rows: Sequence[dict[str, Any]], zone: Any, total: Totals, width: int = 200,
                  compact: bool = False, count: int | None = None) -> Any:
    """Sessions (rows of :func:`claude_usage.rows.session_row`) as people recognise them: the
    session id's first 8 characters, its title (or first prompt, at most 60 characters),
    project (the last part of its path), local start time, duration, models, requests, tokens
    and cost; a totals row over all ``count`` sessions selected (``total``), not only those
    shown. On a narrow terminal the models go first, then the requests, tokens, project and
    duration; the id, title, start and cost stay longest."""
    from claude_usage.filters import last_part

    columns = [
        Column("Session", rank=REQUIRED),
        Column("Title", rank=85, wrap=True, want=28),
        Column("Project", rank=60, wrap=True, want=16),
        Column("Started", rank=70),
        Column("Duration", "right", 65),
        Column("Models", rank=30, wrap=True, want=12),
        Column("Requests", "right", 40),
        Column("Total Tokens", "right", 55),
        Column("Cost (USD)", "right", REQUIRED),
    ]
    table_rows = []
    for row in rows:
        partial = bool(row["unpricedRequests"] and row["costUsd"] is not None)
        project = last_part(row["path"]) if row["path"] else (row["project"] or "")
        table_rows.append(Row([
            row["sessionId"][:8], shorten(row.get("title"), TITLE_CHARS), project, local_time(row["firstActivity"], zone),
            duration_text(row["durationMinutes"]), ", ".join(short_model(m) for m in row["modelsUsed"]),
            tokens(row["requests"]), tokens(row["totalTokens"]), money(row["costUsd"], partial),
        ]))
    table_rows.append(Row(["Total", f"all {plural(count or len(rows), 'session')}", "", "", "", "", tokens(total.requests),
                           tokens(total.total_tokens), cost_cell(total)], "bold", True))
    return fitted_table(title, columns, table_rows, width, compact)


PLACEHOLDER_NOTE = ("their output count is a streaming placeholder that Claude Code before 2.1.97 wrote "
                    "(the true count is lost; output and cost are undercounted; fixed in 2.1.97)")


def warn_pricing(console: Console, total: Totals) -> None:
    """What the costs of ``total`` leave out or get wrong, on stderr (DESIGN section 5): models
    without a price (their cost is excluded, never shown as $0), fast-mode requests priced at
    the standard rate for want of a fast price (naming the models), and requests whose output
    count is a placeholder."""
    if total.unpriced_models:
        names = ", ".join(sorted(total.unpriced_models))
        console.print(
            f"[yellow]Warning:[/] no price for {names}; costs exclude their "
            f"{plural(total.unpriced_requests, 'request')} (marked * or n/a). Add rates with --prices FILE."
        )
    if total.fast_unpriced_requests:
        names = ", ".join(sorted(total.fast_unpriced_models))
        count = total.fast_unpriced_requests
        verb = "is" if count == 1 else "are"
        console.print(
            f"[yellow]Warning:[/] no fast-mode price for {names}; {plural(count, 'fast request')} {verb} "
            "priced at the standard rate (`claude-usage prices` lists the fast prices known)."
        )
    if total.placeholder_output_requests:
        console.print(f"Note: {plural(total.placeholder_output_requests, 'request')}: {PLACEHOLDER_NOTE}.")


def key_value_table(title: str, items: Sequence[tuple[str, str]], width: int | None = None) -> Table:
    """A two-column table of labels and values; values wrap at spaces within ``width``."""
    table = Table(title=title, show_header=False, title_justify="left",
                  min_width=min(len(title or ""), width or 10_000))
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("", overflow="fold")
    for label, value in items:
        table.add_row(label, value)
    return table
