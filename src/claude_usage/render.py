"""Terminal tables for the CLI (Rich): readable numbers, a totals row, warnings on stderr."""

from __future__ import annotations

import re
from typing import Any, Sequence

from rich.console import Console
from rich.table import Table

from claude_usage.reports import Totals


def tokens(value: int) -> str:
    """A token count with thousands separators."""
    return f"{value:,}"


def money(value: float | None, partial: bool = False) -> str:
    """USD with 2 decimals; ``n/a`` when unknown; ``*`` marks a sum missing unpriced requests."""
    if value is None:
        return "n/a"
    from claude_usage.rows import money_text

    return money_text(value) + ("*" if partial else "")


def short_model(model: str) -> str:
    """A model id for narrow tables: ``claude-sonnet-4-5-20250929`` gives ``sonnet-4-5``."""
    return re.sub(r"-\d{8}$", "", model.removeprefix("claude-"))


def _usage_cells(t: Totals, columns: tuple[str, ...]) -> list[str]:
    values = {
        "Input": lambda: tokens(t.input_tokens),
        "Output": lambda: tokens(t.output_tokens),
        "Cache Create": lambda: tokens(t.cache_creation_tokens),
        "Cache Read": lambda: tokens(t.cache_read_tokens),
        "Total Tokens": lambda: tokens(t.total_tokens),
        "Searches": lambda: tokens(t.web_search_requests),
        "Cost (USD)": lambda: money(t.known_cost_usd, partial=bool(t.unpriced_requests and t.priced_requests)),
    }
    return [values[column]() for column in columns]


_ALL_COLUMNS = ("Input", "Output", "Cache Create", "Cache Read", "Total Tokens", "Searches", "Cost (USD)")
_MID_COLUMNS = ("Input", "Output", "Total Tokens", "Searches", "Cost (USD)")
_NARROW_COLUMNS = ("Total Tokens", "Cost (USD)")
_KEY_WIDTH = 40


def usage_table(
    title: str,
    key_header: str,
    rows: Sequence[tuple[str, Totals]],
    total: Totals,
    breakdown: bool = False,
    extra_headers: Sequence[str] = ("Models",),
    extra: Any = None,
    width: int = 200,
) -> Table:
    """A table with one row per ``(key, totals)``, optional per-model sub-rows and a totals row.

    ``extra(key, totals)`` gives the cells of ``extra_headers`` (default: the models used).
    An extra column of counts is right-aligned and summed in the totals row. A column of web
    searches appears only when ``total`` has any. The terminal ``width`` (columns) chooses what
    is shown: every column when it fits; else without the extra columns; else without the cache
    columns; else only total tokens and cost. Numbers are never cut: their columns keep the
    width of their longest cell, and a long key wraps instead.
    """
    dropped = () if total.web_search_requests else ("Searches",)
    all_columns = tuple(c for c in _ALL_COLUMNS if c not in dropped)
    mid_columns = tuple(c for c in _MID_COLUMNS if c not in dropped)
    describe = extra or (lambda _key, t: [", ".join(short_model(m) for m in sorted(t.models))])
    lines: list[tuple[str, list[str], Totals, str | None]] = []
    for key, t in rows:
        lines.append((str(key), describe(key, t), t, None))
        if breakdown and t.by_model:
            for model, sub in sorted(t.by_model.items()):
                lines.append((f"  └ {short_model(model)}", [""] * len(extra_headers), sub, "dim"))
    # An extra column of counts (e.g. requests per model) is a number column: right-aligned, summed.
    keyed = [described for _, described, _, style in lines if style is None]
    counts = [bool(keyed) and all(re.fullmatch(r"[\d,]+", cells[i]) for cells in keyed) for i in range(len(extra_headers))]
    sums = [f"{sum(int(cells[i].replace(',', '')) for cells in keyed):,}" if count else "" for i, count in enumerate(counts)]
    lines.append(("Total", sums, total, "bold"))
    numbers = [_usage_cells(t, all_columns) for _, _, t, _ in lines]
    # A number column cannot wrap, its header included.
    longest = {col: max(len(col), *(len(cells[i]) for cells in numbers)) for i, col in enumerate(all_columns)}
    key_need = min(max(len(key_header), *(len(key) for key, *_ in lines)), _KEY_WIDTH)

    # Extra columns are shown whole or not at all (a path or an id does not wrap well).
    extra_widths = [
        max(len(header), *(len(described[i]) for _, described, _, _ in lines))
        for i, header in enumerate(extra_headers)
    ]

    def need(columns: tuple[str, ...], extras: int) -> int:
        borders = 3 * (1 + extras + len(columns)) + 1
        return key_need + sum(extra_widths[:extras]) + sum(longest[c] for c in columns) + borders

    if need(all_columns, len(extra_headers)) <= width:
        columns, extras = all_columns, tuple(extra_headers)
    else:
        fitting = [c for c in (all_columns, mid_columns) if need(c, 0) <= width]
        columns, extras = (fitting[0] if fitting else _NARROW_COLUMNS), ()
    table = Table(title=title, header_style="bold", title_justify="left", min_width=len(title or ""))
    spare = width - need(columns, len(extras)) + key_need
    table.add_column(key_header, overflow="fold", min_width=max(8, min(key_need, spare)))
    for header, count in zip(extras, counts):
        table.add_column(header, no_wrap=True, justify="right" if count else "left")
    for header in columns:
        table.add_column(header, justify="right", no_wrap=True, min_width=longest[header])
    for (key, described, t, style), cells in zip(lines, numbers):
        if style == "bold":
            table.add_section()
        shown = [cells[all_columns.index(c)] for c in columns]
        table.add_row(key, *(described if extras else ()), *shown, style=style)
    return table


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
            f"{total.unpriced_requests:,} request(s) (marked * or n/a). Add rates with --prices FILE."
        )
    if total.fast_unpriced_requests:
        names = ", ".join(sorted(total.fast_unpriced_models))
        console.print(
            f"[yellow]Warning:[/] no fast-mode price for {names}; {total.fast_unpriced_requests:,} fast request(s) "
            "are priced at the standard rate (`claude-usage prices` lists the fast prices known)."
        )
    if total.placeholder_output_requests:
        console.print(f"Note: {total.placeholder_output_requests:,} request(s): {PLACEHOLDER_NOTE}.")


def key_value_table(title: str, items: Sequence[tuple[str, str]]) -> Table:
    """A two-column table of labels and values."""
    table = Table(title=title, show_header=False, title_justify="left", min_width=len(title or ""))
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("", overflow="fold")
    for label, value in items:
        table.add_row(label, value)
    return table


def tool_table(title: str, stats: Sequence[Any], width: int = 200) -> Table:
    """Tool use: one row per tool (:class:`claude_usage.tools.ToolStats`), most called first;
    first and last use as UTC dates (the first only from ``width`` 90 columns on, so that tool
    and server names stay whole on an 80-column terminal)."""
    dates = (("First used", "firstUsed"), ("Last used", "lastUsed"))[0 if width >= 90 else 1:]
    table = Table(title=title, header_style="bold", title_justify="left", min_width=len(title or ""))
    table.add_column("Tool", overflow="fold", min_width=8)
    table.add_column("Server", overflow="fold", min_width=6)
    for header in ("Calls", "Errors", "Sessions"):
        table.add_column(header, justify="right", no_wrap=True)
    for header, _field in dates:
        table.add_column(header, no_wrap=True)
    for s in stats:
        row = s.row()
        table.add_row(row["tool"], row["server"] or "", tokens(row["calls"]), tokens(row["errors"]),
                      tokens(row["sessionCount"]), *((row[field] or "")[:10] for _header, field in dates))
    table.add_section()
    table.add_row("Total", "", tokens(sum(s.calls for s in stats)), tokens(sum(s.errors for s in stats)), "",
                  *("" for _ in dates), style="bold")
    return table


def log_table(title: str, summaries: Sequence[Any], width: int = 200) -> Table:
    """MCP log files (:class:`claude_usage.sources.mcp_logs.LogSummary`), newest first; the size
    column from ``width`` 90 columns on, and a problem column only when a file has one."""
    sized = width >= 90
    problems = any(s.error for s in summaries)
    table = Table(title=title, header_style="bold", title_justify="left", min_width=len(title or ""))
    table.add_column("File", overflow="fold", min_width=12)
    table.add_column("Server", no_wrap=True)
    for header in ("Entries", "Errors", *(("Size",) if sized else ())):
        table.add_column(header, justify="right", no_wrap=True)
    if problems:
        table.add_column("Problem", overflow="fold", min_width=7)
    for s in summaries:
        cells = [s.log.path.name, s.log.server, tokens(s.entries), tokens(s.errors)]
        cells += [tokens(s.size)] if sized else []
        cells += [s.error or ""] if problems else []
        table.add_row(*cells)
    return table


def _local_time(iso: str | None, zone: Any) -> str:
    """An ISO UTC time from a JSON row as local ``YYYY-MM-DD HH:MM``."""
    if not iso:
        return "-"
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zone).strftime("%Y-%m-%d %H:%M")



def blocks_table(title: str, rows: Sequence[dict[str, Any]], zone: Any, width: int = 200) -> Table:
    """5-hour blocks (rows of :func:`claude_usage.blocks.block_row`) with local start times; a
    gap row shows the idle time (a gap of no length, when the next block's hour begins before the
    last activity + 5 h, is told on that block's row instead: ``after 5h 11m idle``); the
    active block is marked, so is one where a usage limit was hit.
    Under 100 columns of ``width`` the models are left out."""
    from datetime import datetime

    from claude_usage.blocks import duration_text

    table = Table(title=title, header_style="bold", title_justify="left", min_width=len(title or ""))
    table.add_column("Block start", no_wrap=True, min_width=16)
    table.add_column("Status", overflow="fold", min_width=10)
    with_models = width >= 100
    if with_models:
        table.add_column("Models", overflow="fold", min_width=12, ratio=1)
    for header in ("Requests", "Tokens", "Cost (USD)"):
        table.add_column(header, justify="right", no_wrap=True)
    def instant(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    idle_before = ""  # a pause of no length of its own, told on the block after it
    for at, row in enumerate(rows):
        start = _local_time(row["start"], zone)
        if row["isGap"]:
            # The time without requests, from the last request before to the first one after.
            before, after = rows[at - 1] if at else None, rows[at + 1] if at + 1 < len(rows) else None
            idle = ""
            if before and after and not before["isGap"] and not after["isGap"]:
                minutes = (instant(after["firstActivity"]) - instant(before["actualEnd"])).total_seconds() / 60
                idle = duration_text(minutes)
            if idle and row["start"] == row["end"]:
                idle_before = f"after {idle} idle"
                continue
            table.add_row(start, f"gap, idle {idle}" if idle else "gap", *[""] * (4 if with_models else 3), style="dim")
            continue
        # A finished block says "done", or when it follows such a pause, the pause instead.
        status = ", ".join(filter(None, ("ACTIVE" if row["isActive"] else "", idle_before))) or "done"
        idle_before = ""
        if row["limited"]:
            status += ", limit hit"
        partial = bool(row["unpricedRequests"] and row["costUsd"] is not None)
        models = [", ".join(short_model(m) for m in row["modelsUsed"])] if with_models else []
        table.add_row(start, status, *models, tokens(row["requests"]),
                      tokens(row["totalTokens"]), money(row["costUsd"], partial),
                      style="bold green" if row["isActive"] else None)
    return table


def active_block_items(row: dict[str, Any], zone: Any) -> list[tuple[str, str]]:
    """Label/value lines for the active block: time left, burn rate, projection and the use of
    each limit given (with its source: the user's, or an estimate)."""
    from claude_usage.blocks import duration_text

    items = [
        ("Block", f"{_local_time(row['start'], zone)} - {_local_time(row['end'], zone)[11:]}"),
        ("Time to reset", duration_text(row["timeToResetMinutes"])
         + (f" (usage limit hit; resets {_local_time(row['limitResetTime'], zone)})" if row["limited"] and row["limitResetTime"] else "")),
        ("Used", f"{tokens(row['totalTokens'])} tokens, {money(row['costUsd'])}"),
    ]
    rate, projection = row.get("burnRate"), row.get("projection")
    if rate is None:
        items.append(("Burn rate", "n/a (under a minute of activity)"))
    else:
        items.append(("Burn rate", f"{rate['tokensPerMinute']:,.0f} tokens/min, {money(rate['costPerHour'])}/h"))
        items.append(("Projected at block end", f"{tokens(projection['totalTokens'])} tokens, {money(projection['costUsd'])}"))
    for name, used in row.get("limits", {}).items():
        label = "Token limit" if name == "tokens" else "Cost limit"
        limit = tokens(int(used["limit"])) if name == "tokens" else money(used["limit"])
        projected = "" if used["projectedPercent"] is None else f", projected {used['projectedPercent']:.0f}%"
        warning = " [bold red]WARNING[/]" if used["warning"] else ""
        items.append((label, f"{used['percentUsed']:.1f}% of {limit} ({used['source']}){projected}{warning}"))
    return items


def _correction_price(entry: dict[str, Any]) -> str:
    """A correction's price for people: ``$30 / $150 per MTok in / out (above 200,000: $60 / $225)``
    or ``x6 on the standard rates``."""
    rates = entry["rates"]
    if rates is None:
        return f"x{entry['multiplier']:g} on the standard rates"
    text = f"${rates['input']:g} / ${rates['output']:g} per MTok in / out"
    if "tier" in rates:
        text += f" (above {rates['tierThreshold']:,}: ${rates['tier']['input']:g} / ${rates['tier']['output']:g})"
    return text


def corrections_table(title: str, entries: Sequence[dict[str, Any]], width: int = 200) -> Table:
    """The price corrections (rows of :meth:`claude_usage.pricing_corrections.Correction.describe`):
    models, condition, validity (UTC dates, ``until`` excluded), price, and from 100 columns of
    ``width`` on, the public source."""
    with_source = width >= 100
    table = Table(title=title, header_style="bold", title_justify="left", min_width=min(len(title), width))
    table.add_column("Models", overflow="fold", min_width=12)
    table.add_column("When", no_wrap=True)
    table.add_column("Valid (UTC)", no_wrap=True)
    table.add_column("Price", overflow="fold", min_width=16)
    if with_source:
        table.add_column("Source", overflow="fold", min_width=12)
    for entry in entries:
        models = ", ".join(entry["models"])
        if entry["models"] == ["*"]:
            models = f"all {entry['provider']} models but {len(entry['exceptModels'])} older ones"
        valid = " ".join(filter(None, (entry["from"] and f"from {entry['from']}",
                                        entry["until"] and f"before {entry['until']}"))) or "always"
        table.add_row(models, entry["condition"], valid, _correction_price(entry), *([entry["source"]] if with_source else []))
    return table
