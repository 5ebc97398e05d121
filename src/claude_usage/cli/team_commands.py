"""Team mode commands (DESIGN 12): ``push`` (this machine's requests to the team database),
``team init`` (create or migrate its schema, print the roles' SQL) and ``users`` (usage per
user and machine). Every failure of the team database is one line naming what to fix, exit
code 2, without the credentials."""

from __future__ import annotations

import time
from typing import Annotated, Any, Optional

import typer

from claude_usage.cli.common import (
    DATA_OPTIONS,
    EXIT_BAD_ROOT,
    FILTER_OPTIONS,
    Common,
    Order,
    app,
    err,
    load,
    open_team,
    out,
    print_json,
    query_for,
    report_view,
    team_error,
    with_options,
)

team_app = typer.Typer(help="Set up the team database (PostgreSQL) that machines push to.", no_args_is_help=True)
app.add_typer(team_app, name="team")

_TEAM_URL = Annotated[Optional[str], typer.Option(
    "--team", metavar="URL", envvar="CLAUDE_USAGE_TEAM_URL", show_envvar=True,
    help="The team database: postgresql://USER:PASSWORD@HOST:PORT/DATABASE (libpq parameters such as ?sslmode=require pass through).")]


@app.command()
@with_options("json", *DATA_OPTIONS)
def push(
    opts: Common,
    team: _TEAM_URL = None,
    machine: Annotated[Optional[str], typer.Option("--machine", help="Name of this machine in the team reports (default: the host name); each name keeps its own stable id.")] = None,
    user: Annotated[Optional[str], typer.Option("--user", help="User the pushed requests belong to (default: the OS user).")] = None,
    chunk_rows: Annotated[int, typer.Option(min=1, max=1_000_000, help="Requests per transaction (each one a point a push can stop and go on from).")] = 20_000,
) -> None:
    """Send this machine's new and changed requests to the team database.

    Reads the transcripts into the local index first, then sends what changed since the last
    push (idempotent: pushing again sends nothing; an interrupted push goes on where it
    stopped). Prints sent / new / updated / unchanged; progress on stderr for long pushes."""
    from claude_usage.team.connection import TeamError
    from claude_usage.team.identity import identity
    from claude_usage.team.push import push as push_rows

    team_store = open_team(team, "claude-usage push")
    who = identity(machine, user)
    source = load(opts)
    progress = _PushProgress()
    try:
        result = push_rows(source.store, team_store, who, progress, chunk_rows)
    except TeamError as error:
        team_error(error)
    finally:
        progress.close()
        source.store.close()
        team_store.close()
    if opts.json:
        print_json(result.document())
        return
    out.print(f"Pushed to {result.team} as {result.machine} ({result.user}): {result.sent:,} requests sent, "
              f"{result.new:,} new, {result.updated:,} updated, {result.unchanged:,} unchanged "
              f"in {result.seconds:.2f} s", soft_wrap=True)


class _PushProgress:
    """Rows sent on stderr, shown only once a push has taken over a second."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, sent: int, total: int) -> None:
        if self.bar is None:
            if time.monotonic() - self.started < 1.0 or sent >= total:
                return
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("Pushing requests"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                console=err.real(), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("push", total=total)
        self.bar.update(self.task, completed=sent, total=total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@team_app.command("init")
def team_init(
    team: _TEAM_URL = None,
    json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Create (or migrate) the team schema in the database, then print the SQL of the two roles:
    a writer for pushing machines, a reader for dashboards. Run it as a user that may create a
    schema (e.g. the database owner); running it again is harmless."""
    import psycopg

    from claude_usage.team.connection import TeamError, connect, describe, explain, parameters, team_url
    from claude_usage.team.schema import LATEST, migrate, roles_sql

    try:
        url = team_url(team)
        conn = connect(url, "claude-usage team init")
    except TeamError as error:
        team_error(error)
    try:
        applied = migrate(conn)
    except psycopg.Error as error:
        team_error(TeamError(explain(error, url)))
    finally:
        conn.close()
    database = parameters(url).get("dbname") or "DATABASE"
    if json:
        print_json({"database": describe(url), "schema": LATEST, "applied": applied, "rolesSql": roles_sql(database)})
        return
    done = f"applied migration(s) {', '.join(map(str, applied))}" if applied else "already up to date"
    err.print(f"Team schema in {describe(url)}: version {LATEST}, {done}.")
    err.print("Roles for the machines (writer) and the dashboards (reader), to run once as the database owner:")
    out.print(roles_sql(database), markup=False, highlight=False, soft_wrap=True)


@app.command()
@with_options(*FILTER_OPTIONS, "order")
def users(opts: Common) -> None:
    """Usage and cost per user and per machine of the team database (--team URL)."""
    if not opts.team:
        err.print("[red]Error:[/] `users` reads a team database: add --team URL (see `claude-usage team init`)")
        raise typer.Exit(EXIT_BAD_ROOT)
    from claude_usage import reports
    from claude_usage.render import usage_table, warn_pricing
    from claude_usage.team.users import users_document

    with report_view(opts) as (view, _source):
        query = query_for(opts, view)
        document = users_document(view, query)
        per_user = reports.grouped(view, query, reports.USER)
        per_machine = reports.grouped(view, query, reports.MACHINE)
        total = reports.overall(view, query)
    if opts.json:
        print_json(document)
        warn_pricing(err, total)
        return
    descending = (opts.order or Order.desc) == Order.desc
    machines_of = {row["user"]: ", ".join(row["machines"]) for row in document["users"]}
    user_rows = sorted(per_user.items(), key=lambda item: (item[1].cost_usd, item[0]), reverse=descending)
    out.print(usage_table(f"Claude Code usage by user ({query.clock.name})", "User", user_rows, total,
                          extra_headers=("Machines",), extra=lambda key, _t: [machines_of.get(key, "")], width=out.width))
    named = {row["machineId"]: f"{row['machine']} ({row['user']})" for row in document["machines"]}
    machine_rows = sorted(((named.get(key, key), t) for key, t in per_machine.items()),
                          key=lambda item: (item[1].cost_usd, item[0]), reverse=descending)
    pushed = {f"{row['machine']} ({row['user']})": (row["lastPush"] or "")[:16].replace("T", " ") for row in document["machines"]}
    out.print(usage_table(f"Claude Code usage by machine ({query.clock.name})", "Machine", machine_rows, total,
                          extra_headers=("Last push (UTC)",), extra=lambda key, _t: [pushed.get(key, "")], width=out.width))
    warn_pricing(err, total)
