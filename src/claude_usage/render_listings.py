"""Terminal tables of the tools, the MCP server logs and the price corrections (Rich). Tables fit
the terminal (:mod:`claude_usage.table_fit`): names wrap after ``_`` and other separators, never
inside a word; empty columns are left out."""

from __future__ import annotations

from typing import Any, Sequence

from claude_usage.formats import local_time_us, percent, plural
from claude_usage.render import tokens
from claude_usage.table_fit import REQUIRED, Column, Row, fitted_table
from claude_usage.tools import HIGH_ERROR_RATE


def tool_table(title: str, stats: Sequence[Any], width: int = 200, compact: bool = False, zone: Any = None) -> Any:
    """Tool use: one row per tool (:class:`claude_usage.tools.ToolStats`), most called first:
    the tool and its MCP server (a column left out when no tool has one), calls, error
    results, the error rate (red from :data:`~claude_usage.tools.HIGH_ERROR_RATE` on),
    sessions, first and last use (local dates in ``zone``, default UTC); a totals row. On a
    narrow terminal the first use goes first, then the sessions, the last use and the
    server."""
    from datetime import timezone

    zone = zone or timezone.utc
    columns = [
        Column("Tool", rank=REQUIRED, wrap=True),
        Column("Server", rank=66, wrap=True, want=12),
        Column("Calls", "right", REQUIRED),
        Column("Errors", "right", 72),
        Column("Error rate", "right", 74),
        Column("Sessions", "right", 60),
        Column("First used", rank=20),
        Column("Last used", rank=64),
    ]
    rows = []
    for s in stats:
        row = s.row()
        high = s.calls and s.error_rate >= HIGH_ERROR_RATE
        rows.append(Row([row["tool"], row["server"] or "", tokens(row["calls"]), tokens(row["errors"]),
                         percent(s.error_rate), tokens(row["sessionCount"]), local_time_us(s.first_ts_us, zone)[:10],
                         local_time_us(s.last_ts_us, zone)[:10]], styles={4: "bold red"} if high else {}))
    calls, errors = sum(s.calls for s in stats), sum(s.errors for s in stats)
    rows.append(Row(["Total", "", tokens(calls), tokens(errors), percent(errors / calls) if calls else "",
                     "", "", ""], "bold", True))
    return fitted_table(title, columns, rows, width, compact)


def log_table(title: str, summaries: Sequence[Any], width: int = 200, compact: bool = False) -> Any:
    """MCP log files (:class:`claude_usage.sources.mcp_logs.LogSummary`), newest first: file,
    server, entries, errors, size in bytes, and a problem column when a file has one; the size
    goes first on a narrow terminal."""
    columns = [
        Column("File", rank=REQUIRED, wrap=True, want=16),
        Column("Server", rank=70, wrap=True, want=10),
        Column("Entries", "right", 80),
        Column("Errors", "right", 75),
        Column("Size", "right", 30),
        Column("Problem", rank=50, wrap=True, want=12),
    ]
    rows = [Row([s.log.path.name, s.log.server, tokens(s.entries), tokens(s.errors), tokens(s.size), s.error or ""])
            for s in summaries]
    return fitted_table(title, columns, rows, width, compact)


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


def corrections_table(title: str, entries: Sequence[dict[str, Any]], width: int = 200) -> Any:
    """The price corrections (rows of :meth:`claude_usage.pricing_corrections.Correction.describe`):
    models, condition, validity (UTC dates, ``until`` excluded), price and the public source
    (the first to go on a narrow terminal)."""
    columns = [
        Column("Models", rank=REQUIRED, wrap=True, want=16),
        Column("When", rank=80),
        Column("Valid (UTC)", rank=70, wrap=True, want=11),
        Column("Price", rank=REQUIRED, wrap=True, want=20),
        Column("Source", rank=10, wrap=True, want=20),
    ]
    rows = []
    for entry in entries:
        models = ", ".join(entry["models"])
        if entry["models"] == ["*"]:
            models = f"all {entry['provider']} models but {plural(len(entry['exceptModels']), 'older one')}"
        valid = " ".join(filter(None, (entry["from"] and f"from {entry['from']}",
                                        entry["until"] and f"before {entry['until']}"))) or "always"
        rows.append(Row([models, entry["condition"], valid, _correction_price(entry), entry["source"]]))
    return fitted_table(title, columns, rows, width)


def cost_mismatch_table(rows: Sequence[dict[str, Any]], width: int = 200) -> Any:
    """The sessions whose cost Claude Code counted differs from ours by more than 5% (rows of
    :func:`claude_usage.limits_report.cost_mismatches`): session id, both costs and the
    difference (ours minus Claude Code's, in USD to 1e-4 and in % of Claude Code's)."""
    columns = [
        Column("Session", rank=REQUIRED, wrap=True, want=12),
        Column("Claude Code", "right", REQUIRED),
        Column("Ours", "right", REQUIRED),
        Column("Difference", "right", REQUIRED),
        Column("%", "right", 50),
    ]
    table_rows = [Row([row["sessionId"], f"${row['claudeCodeCostUsd']:,.4f}", f"${row['costUsd']:,.4f}",
                       f"{'+' if row['differenceUsd'] >= 0 else '-'}${abs(row['differenceUsd']):,.4f}",
                       "-" if row["differencePercent"] is None else f"{row['differencePercent']:+.1f}%"]) for row in rows]
    return fitted_table("Sessions whose cost differs from Claude Code's by more than 5% (USD)", columns, table_rows, width)
