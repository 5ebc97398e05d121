"""Tool analytics commands: tools (every tool called) and mcp (MCP tools and server logs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from claude_usage.cli.common import DATA_OPTIONS, Common, app, err, logs_root_for, out, print_json, report_view, with_options

MCP_LOGS_SHOWN = 20


@app.command()
@with_options("json", *DATA_OPTIONS)
def tools(opts: Common) -> None:
    """Tool use from the transcripts: calls, error results, sessions, first and last use."""
    from claude_usage import tools as tool_analytics
    from claude_usage.render import tool_table

    with report_view(opts) as (view, _source):
        ranked = tool_analytics.ranked(tool_analytics.tool_stats(view))
    if opts.json:
        print_json({
            "tools": [s.row() for s in ranked],
            "totalCalls": sum(s.calls for s in ranked),
            "uniqueTools": len(ranked),
            "totalErrors": sum(s.errors for s in ranked),
        })
        return
    out.print(tool_table("Tool use", ranked, out.width))


@app.command()
@with_options("json", *DATA_OPTIONS)
def mcp(
    opts: Common,
    logs_dir: Annotated[Optional[Path], typer.Option("--logs-dir", help="MCP logs dir (default: $MCP_LOGS_PATH or the Claude CLI cache dir).")] = None,
) -> None:
    """MCP tools (calls, errors, sessions) and MCP server log files."""
    from claude_usage import tools as tool_analytics
    from claude_usage.render import log_table, tool_table
    from claude_usage.sources.mcp_logs import LogCatalog

    with report_view(opts) as (view, source):
        ranked = tool_analytics.ranked(tool_analytics.tool_stats(view, mcp_only=True))
        sessions = tool_analytics.session_tool_use(view)
    where = logs_root_for(source.roots, logs_dir)
    logs = LogCatalog(where).summaries()
    if opts.json:
        print_json({
            "tools": [s.row() for s in ranked],
            "totalCalls": sum(s.calls for s in ranked),
            "uniqueTools": len(ranked),
            "sessions": sessions[: tool_analytics.LATEST_MCP_SESSIONS],
            "logs": [s.row() for s in logs],
        })
        return
    out.print(tool_table("MCP tools", ranked, out.width))
    if logs:
        shown = logs[:MCP_LOGS_SHOWN]
        out.print(log_table("MCP logs, newest first", shown, out.width))
        out.print(f"[dim]Log folder: {where}[/]", soft_wrap=True)
        if len(logs) > len(shown):
            err.print(f"{len(logs) - len(shown):,} older log files not shown (--json lists all)")
    else:
        err.print(f"No MCP logs in {where} (set MCP_LOGS_PATH or --logs-dir to look elsewhere)")
