"""Tool analytics commands: tools (every tool called) and mcp (MCP tools and server logs).

Both take the report filters (issue 14): ``--since``/``--until`` (local dates), ``--tz``,
``--project`` and ``--model`` select the tool calls (by the first copy of each); the MCP logs
take the dates and the project (they name no model, see :mod:`claude_usage.local_files`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from claude_usage.cli.common import (
    DATA_OPTIONS,
    Common,
    app,
    empty_notice,
    err,
    logs_root_for,
    out,
    print_json,
    query_for,
    report_view,
    with_options,
)

MCP_LOGS_SHOWN = 20
TOOL_OPTIONS = ("json", "since", "until", "tz", "project", "model", "compact", *DATA_OPTIONS)


@app.command()
@with_options(*TOOL_OPTIONS)
def tools(opts: Common) -> None:
    """Tool use from the transcripts: calls, error results and rate, sessions, first and last
    use; within the dates, project and model given."""
    from claude_usage import tools as tool_analytics
    from claude_usage.render_listings import tool_table

    with report_view(opts) as (view, _source):
        query = query_for(opts, view)
        ranked = tool_analytics.ranked(tool_analytics.tool_stats(view, query=query))
    if opts.json:
        print_json({
            "tools": [s.row() for s in ranked],
            "totalCalls": sum(s.calls for s in ranked),
            "uniqueTools": len(ranked),
            "totalErrors": sum(s.errors for s in ranked),
            "timezone": query.clock.name,
        })
        return
    if not ranked:
        out.print(empty_notice(query).replace("No usage", "No tool calls", 1))
        return
    out.print(tool_table(f"Tool use ({query.clock.name})", ranked, out.width, opts.compact, query.clock.zone))


@app.command()
@with_options(*TOOL_OPTIONS)
def mcp(
    opts: Common,
    logs_dir: Annotated[Optional[Path], typer.Option("--logs-dir", help="MCP logs dir (default: $MCP_LOGS_PATH or the Claude CLI cache dir).")] = None,
) -> None:
    """MCP tools (calls, errors, sessions) and MCP server log files; within the dates and
    project given (the model selects tool calls only: logs name none)."""
    from rich.text import Text

    from claude_usage import tools as tool_analytics
    from claude_usage.local_files import logs_in
    from claude_usage.render_listings import log_table, tool_table
    from claude_usage.sources.mcp_logs import LogCatalog
    from claude_usage.table_fit import wrap

    with report_view(opts) as (view, source):
        query = query_for(opts, view)
        ranked = tool_analytics.ranked(tool_analytics.tool_stats(view, mcp_only=True, query=query))
        sessions = tool_analytics.session_tool_use(view, query=query)
    where = logs_root_for(source.roots, logs_dir)
    logs = logs_in(LogCatalog(where).summaries(), query)
    if opts.json:
        print_json({
            "tools": [s.row() for s in ranked],
            "totalCalls": sum(s.calls for s in ranked),
            "uniqueTools": len(ranked),
            "sessions": sessions[: tool_analytics.LATEST_MCP_SESSIONS],
            "logs": [s.row() for s in logs],
            "timezone": query.clock.name,
        })
        return
    if ranked:
        out.print(tool_table(f"MCP tools ({query.clock.name})", ranked, out.width, opts.compact, query.clock.zone))
    else:
        out.print(empty_notice(query).replace("No usage", "No MCP tool calls", 1))
    if logs:
        shown = logs[:MCP_LOGS_SHOWN]
        out.print(log_table("MCP logs, newest first", shown, out.width, opts.compact))
        out.print(Text(wrap(f"Log folder: {where}", out.width), style="dim"))  # wrapped after separators
        if len(logs) > len(shown):
            err.print(f"{len(logs) - len(shown):,} older log files not shown (--json lists all)")
    else:
        err.print(f"No MCP logs in {where} for the dates and project given (set MCP_LOGS_PATH or --logs-dir to look elsewhere)"
                  if query.since or query.until or query.project else
                  f"No MCP logs in {where} (set MCP_LOGS_PATH or --logs-dir to look elsewhere)")
