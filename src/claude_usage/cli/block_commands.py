"""5-hour block commands: blocks (every block, the active one with burn rate and limits) and
statusline (one line for Claude Code's status bar)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

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


@app.command()
@with_options(*FILTER_OPTIONS)
def blocks(
    opts: Common,
    active: Annotated[bool, typer.Option("--active", help="Only the active block, with burn rate and projection.")] = False,
    recent: Annotated[bool, typer.Option("--recent", help="Blocks of the last 3 days and the active one.")] = False,
    token_limit: Annotated[Optional[str], typer.Option(help="Your token limit per block, or 'max' (estimate: the largest past block).")] = None,
    cost_limit: Annotated[Optional[str], typer.Option(help="Your cost limit per block in USD, or 'max' (estimate: the largest past block).")] = None,
    session_length: Annotated[float, typer.Option(min=0.25, max=168, help="Block length in hours, in steps of 0.25.")] = 5.0,
) -> None:
    """5-hour blocks: cost per block, gaps, the active block's burn rate, projection and reset.

    Blocks are the windows of Claude subscription limits. Limits are yours or estimates from
    past blocks; the official percentages are shown beside them when Claude Code passed them to
    `claude-usage statusline` (recorded in the store)."""
    from claude_usage.blocks import block_length_us, blocks_document, parse_limit, query_blocks
    from claude_usage.render import key_value_table, warn_pricing
    from claude_usage import limits_report
    from claude_usage.render_blocks import active_block_items, blocks_table, official_items
    from claude_usage.rows import money_text
    from claude_usage.totals import summed

    limits = []
    for given, hint in ((token_limit, "--token-limit"), (cost_limit, "--cost-limit")):
        try:
            limits.append(parse_limit(given))
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint=hint) from None
    tokens_given, cost_given = limits
    try:
        block_length_us(session_length)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--session-length") from None
    now = now_us()
    with report_view(opts) as (view, _source):
        query = query_for(opts, view)
        built = query_blocks(view, query, session_length)
        official = limits_report.official_limits(view, now)
    total = summed([b.totals for b in built])
    document = blocks_document(built, now, session_length, active, recent, tokens_given, cost_given)
    if opts.json:
        print_json({**document, "officialLimits": official, "timezone": query.clock.name,
                    "unpricedModels": sorted(total.unpriced_models)})
        return
    zone = query.clock.zone
    rows = document["blocks"]
    if not active and rows:
        title = f"Claude Code {session_length:g}-hour blocks ({query.clock.name})"
        out.print(blocks_table(title, rows, zone, out.width, opts.compact))
    active_rows = [row for row in rows if row["isActive"]]
    for row in active_rows:
        out.print(key_value_table("Active block", active_block_items(row, zone), out.width))
    official_lines = official_items(official, limits_report.estimate(built, now, session_length), zone)
    if official_lines:
        out.print(key_value_table("Official limits", official_lines, out.width))
    if not rows:
        if active:
            out.print("No active block: the next request starts one.")
        else:
            out.print("No block in the last 3 days." if recent and built else empty_notice(query))
    elif not active_rows and (tokens_given is not None or cost_given is not None):
        err.print("Note: limits apply to the active block, and no block is active now.")
    if not active_rows:  # the limits resolved, shown nowhere else
        tokens_found, cost_found = document["tokenLimit"], document["costLimit"]
        if tokens_found is not None:
            err.print(f"Token limit: {tokens_found['limit']:,.0f} tokens ({tokens_found['source']}).")
        if cost_found is not None:
            err.print(f"Cost limit: {money_text(cost_found['limit'])} ({cost_found['source']}).")
    for given, found, name in ((tokens_given, document["tokenLimit"], "token"), (cost_given, document["costLimit"], "cost")):
        if given == "max" and found is None:
            err.print(f"Note: no completed block yet to estimate a {name} limit from ('max').")
    if rows:
        warn_pricing(err, total)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def statusline(ctx: typer.Context) -> None:
    """One line for Claude Code's status bar (its hook JSON on stdin).

    Prints the official 5-hour and weekly limit use and the context use when Claude Code
    passes them (and records them in the store), the session's cost, today's cost and the
    active block's cost, time left and burn rate. Options: --data-dir DIR (repeatable), --tz ZONE, --index PATH."""
    from claude_usage.statusline import main as statusline_main

    raise typer.Exit(statusline_main(list(ctx.args)))
