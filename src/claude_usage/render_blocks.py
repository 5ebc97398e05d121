"""Terminal tables of the 5-hour blocks (Rich): every block with its gaps, and the active block's
burn rate, projection and limits. Tables fit the terminal (:mod:`claude_usage.table_fit`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from claude_usage.filters import short_model
from claude_usage.formats import duration_text, local_time
from claude_usage.render import money, tokens
from claude_usage.table_fit import REQUIRED, Column, Row, fitted_table


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def blocks_table(title: str, rows: Sequence[dict[str, Any]], zone: Any, width: int = 200, compact: bool = False) -> Any:
    """5-hour blocks (rows of :func:`claude_usage.blocks.block_row`) with local start times; a
    gap row shows the idle time (in days past 48 hours); a gap of no length (the next block's
    hour begins before the last activity + 5 h) is told on that block's row instead: ``after
    5h 11m idle``. The active block is marked, so is one where a usage limit was hit. The
    models go first when the terminal is narrow, then the request count; the start and the
    cost stay."""
    columns = [
        Column("Block start", rank=REQUIRED),
        Column("Status", rank=85, wrap=True, want=10),
        Column("Models", rank=10, wrap=True, want=12),
        Column("Requests", "right", 60),
        Column("Tokens", "right", 80),
        Column("Cost (USD)", "right", REQUIRED),
    ]
    table_rows: list[Row] = []
    idle_before = ""  # a pause of no length of its own, told on the block after it
    for at, row in enumerate(rows):
        start = local_time(row["start"], zone)
        if row["isGap"]:
            # The time without requests, from the last request before to the first one after.
            before, after = rows[at - 1] if at else None, rows[at + 1] if at + 1 < len(rows) else None
            idle = ""
            if before and after and not before["isGap"] and not after["isGap"]:
                minutes = (_instant(after["firstActivity"]) - _instant(before["actualEnd"])).total_seconds() / 60
                idle = duration_text(minutes)
            if idle and row["start"] == row["end"]:
                idle_before = f"after {idle} idle"
                continue
            table_rows.append(Row([start, f"gap, idle {idle}" if idle else "gap", "", "", "", ""], "dim"))
            continue
        # A finished block says "done", or when it follows such a pause, the pause instead.
        status = ", ".join(filter(None, ("ACTIVE" if row["isActive"] else "", idle_before))) or "done"
        idle_before = ""
        if row["limited"]:
            status += ", limit hit"
        partial = bool(row["unpricedRequests"] and row["costUsd"] is not None)
        table_rows.append(Row(
            [start, status, ", ".join(short_model(m) for m in row["modelsUsed"]), tokens(row["requests"]),
             tokens(row["totalTokens"]), money(row["costUsd"], partial)],
            "bold green" if row["isActive"] else None))
    return fitted_table(title, columns, table_rows, width, compact)


def active_block_items(row: dict[str, Any], zone: Any) -> list[tuple[str, str]]:
    """Label/value lines for the active block: time left, burn rate, projection and the use of
    each limit given (with its source: the user's, or an estimate)."""
    items = [
        ("Block", f"{local_time(row['start'], zone)} - {local_time(row['end'], zone, with_date=False)}"),
        ("Time to reset", duration_text(row["timeToResetMinutes"])
         + (f" (usage limit hit; resets {local_time(row['limitResetTime'], zone)})" if row["limited"] and row["limitResetTime"] else "")),
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


def official_items(official: dict[str, Any] | None, estimate: dict[str, Any] | None, zone: Any) -> list[tuple[str, str]]:
    """Label/value lines for the official limits Claude Code passed to the status line
    (:func:`claude_usage.limits_report.official_json`) beside our estimate of the active block
    (:func:`claude_usage.limits_report.estimate`): each window's percentage and time to its
    reset, when and where it was observed. Empty when nothing was observed."""
    if official is None:
        return []
    items = [("Observed", f"{local_time(official['observedAt'], zone)} (Claude Code status line)")]
    for label, window in (("Official 5-hour", official["fiveHour"]), ("Official weekly", official["sevenDay"])):
        if window is None:
            continue
        if window["hasReset"]:
            when = f"reset at {local_time(window['resetsAt'], zone)} since then"
        elif window["resetsInSeconds"] is not None:
            when = f"resets in {duration_text(window['resetsInSeconds'] / 60)} ({local_time(window['resetsAt'], zone)})"
        else:
            when = "reset time not given"
        items.append((label, f"{window['usedPercentage']:g}% used, {when}"))
    if estimate is not None and estimate["percentUsed"] is not None:
        items.append(("Our 5-hour estimate", f"{estimate['percentUsed']:.1f}% of {tokens(estimate['limitTokens'])} tokens "
                                             f"({estimate['limitSource']})"))
    return items
