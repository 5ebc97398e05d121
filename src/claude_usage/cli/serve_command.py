"""``claude-usage serve``: the REST API and the dashboard, following the transcripts live."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from claude_usage.cli.common import DATA_OPTIONS, Common, app, err, logs_root_for, open_source, query_for, with_options


@app.command()
@with_options("tz", *DATA_OPTIONS, "team")
def serve(
    opts: Common,
    host: Annotated[str, typer.Option(envvar="HOST", help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT", min=0, max=65535, help="Port to listen on (0: any free port).")] = 8080,
    rate_limit: Annotated[int, typer.Option(min=0, help="Requests per minute per client; 0 turns the limit off.")] = 600,
    sse_heartbeat: Annotated[float, typer.Option(min=0.1, help="Seconds between heartbeats on /api/v2/events.")] = 15.0,
    allowed_host: Annotated[Optional[list[str]], typer.Option("--allowed-host", help="Another Host name to answer to (a DNS name of this machine, a proxy's); repeatable; '*' for any.")] = None,
    max_connections: Annotated[int, typer.Option(min=1, help="Open connections at most; more are closed at once.")] = 1000,
    metrics_public: Annotated[bool, typer.Option("--metrics-public", help="Serve /metrics (Prometheus) to other machines too; by default only clients on this machine get it.")] = False,
    push_to: Annotated[Optional[str], typer.Option("--push-to", metavar="URL", rich_help_panel="Team (PostgreSQL)", help="Also push this machine's requests to the team database after every change (see `claude-usage push`).")] = None,
    push_every: Annotated[float, typer.Option(min=1.0, rich_help_panel="Team (PostgreSQL)", help="With --push-to: seconds between pushes at most.")] = 60.0,
    push_machine: Annotated[Optional[str], typer.Option("--push-machine", rich_help_panel="Team (PostgreSQL)", help="With --push-to: this machine's name (default: the host name).")] = None,
    push_user: Annotated[Optional[str], typer.Option("--push-user", rich_help_panel="Team (PostgreSQL)", help="With --push-to: the user (default: the OS user).")] = None,
) -> None:
    """Serve the REST API (/api/v2/..., docs at /docs), following the transcripts live.

    What is in the store is served at once; the store is brought up to date in the background
    (``/api/health`` says ``indexing`` meanwhile), then follows every change, whichever process
    made it. With ``--team URL``: the team database instead (the same API and dashboard, with
    user and machine filters and the Team view)."""
    from claude_usage.server import run_server

    if opts.team and push_to:
        err.print("[red]Error:[/] --team serves the team database; --push-to pushes this machine's data to it: choose one")
        raise typer.Exit(2)
    source = open_source(opts, demo_fallback=not opts.team)
    autopush = None
    if push_to:
        from claude_usage.cli.common import open_team
        from claude_usage.team.autopush import AutoPush
        from claude_usage.team.identity import identity

        open_team(push_to, "claude-usage serve --push-to").close()  # fails now, with its one-line error
        autopush = AutoPush(source.store, push_to, identity(push_machine, push_user), push_every)
    if source.notice:
        err.print(f"[yellow]Notice:[/] {source.notice}")
    with source.store.reading() as view:
        query = query_for(opts, view)
    raise typer.Exit(run_server(
        source.store, query.clock.name, host, port, source.notice, err, rate_limit, logs_root_for(source.roots),
        pricer_factory=source.pricer, heartbeat=sse_heartbeat, allowed_hosts=allowed_host or (),
        max_connections=max_connections, autopush=autopush, metrics_public=metrics_public,
    ))
