"""What every ``claude-usage`` command shares (Typer + Rich): the app, the consoles, the common
options, and opening the store for a command (roots, price overrides, refresh, warnings).

Report commands print a Rich table, or with ``--json`` a document
``{"<report>": [rows], "totals": {...}, "timezone": ..., "unpricedModels": [...]}`` whose rows are
DESIGN section 8's usage rows. Progress and warnings go to stderr, never into ``--json`` output.
"""

import functools
import inspect
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Callable, Iterator, NoReturn, Optional

import msgspec
import typer

from claude_usage import __version__
from claude_usage.cli.group import CommandGroup
from claude_usage.cli.progress import LazyProgress

app = typer.Typer(
    name="claude-usage",
    cls=CommandGroup,
    help="Tokens and USD cost of your Claude Code use, from its local transcripts. "
         "Without a command: today's summary and the daily table (`claude-usage today`).",
    add_completion=False,
    rich_markup_mode="rich",
)


class _LazyConsole:
    """A Rich console made on first use: ``--json`` runs never import Rich's console."""

    def __init__(self, **options: Any):
        self._options = options
        self._console: Any = None

    def real(self) -> Any:
        """The Rich console itself (made now if needed)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)


out: Any = _LazyConsole()
err: Any = _LazyConsole(stderr=True, soft_wrap=True, highlight=False)

EXIT_NO_DATA = 1
EXIT_BAD_ROOT = 2


class Mode(str, Enum):
    auto = "auto"
    calculate = "calculate"
    display = "display"


class Order(str, Enum):
    asc = "asc"
    desc = "desc"


class Weekday(str, Enum):
    monday = "monday"
    tuesday = "tuesday"
    wednesday = "wednesday"
    thursday = "thursday"
    friday = "friday"
    saturday = "saturday"
    sunday = "sunday"


@dataclass
class Common:
    """Options shared by the report commands."""

    json: bool = False
    since: str | None = None
    until: str | None = None
    tz: str | None = None
    project: str | None = None
    model: str | None = None
    mode: Mode = Mode.auto
    order: Order | None = None
    breakdown: bool = False
    compact: bool = False
    data_dir: list[Path] | None = None
    projects_path: Path | None = None
    demo: bool = False
    prices: Path | None = None
    index: Path | None = None
    no_index: bool = False
    forget_deleted: bool = False
    team: str | None = None
    user: str | None = None
    machine: str | None = None


def _day_option(value: str | None) -> str | None:
    if value is None:
        return None
    from claude_usage.timebuckets import parse_day

    try:
        return parse_day(value).isoformat()
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


_DATA = "Data"
_FILTERS = "Filters"
_OUTPUT = "Output"
_COMMON_OPTIONS: dict[str, Any] = {
    "json": Annotated[bool, typer.Option("--json", "-j", help="Print JSON (exact values) instead of a table.", rich_help_panel=_OUTPUT)],
    "since": Annotated[Optional[str], typer.Option("--since", "-s", help="First local date, inclusive (YYYY-MM-DD or YYYYMMDD).", callback=_day_option, rich_help_panel=_FILTERS)],
    "until": Annotated[Optional[str], typer.Option("--until", "-u", help="Last local date, inclusive (YYYY-MM-DD or YYYYMMDD).", callback=_day_option, rich_help_panel=_FILTERS)],
    "tz": Annotated[Optional[str], typer.Option("--tz", "-z", help="IANA time zone for days and hours (default: $TZ or the machine's).", rich_help_panel=_FILTERS)],
    "project": Annotated[Optional[str], typer.Option(help="Only this project: its key (the directory under projects/), its path, or the last part of its path.", rich_help_panel=_FILTERS)],
    "model": Annotated[Optional[str], typer.Option(help="Only this model: its id or a short name as the tables show it (opus-4-1, sonnet).", rich_help_panel=_FILTERS)],
    "mode": Annotated[Mode, typer.Option(help="Cost mode: auto (costUSD when the line has it), calculate, display.", rich_help_panel=_FILTERS)],
    "order": Annotated[Optional[Order], typer.Option(help="Sort order (default: dates and sessions ascending, models and projects by cost descending).", rich_help_panel=_OUTPUT)],
    "breakdown": Annotated[bool, typer.Option("--breakdown", "-b", help="Add per-model rows.", rich_help_panel=_OUTPUT)],
    "compact": Annotated[bool, typer.Option("--compact", help="Narrow tables: the key, total tokens and cost only.", rich_help_panel=_OUTPUT)],
    "data_dir": Annotated[Optional[list[Path]], typer.Option("--data-dir", help="Claude config dir (holding projects/) or a projects dir; repeatable.", rich_help_panel=_DATA)],
    "projects_path": Annotated[Optional[Path], typer.Option("--projects-path", help="One projects dir.", rich_help_panel=_DATA)],
    "demo": Annotated[bool, typer.Option("--demo", help="Use the bundled demo data.", rich_help_panel=_DATA)],
    "prices": Annotated[Optional[Path], typer.Option("--prices", help="JSON/TOML file of rates (USD per million tokens) for models without a price.", rich_help_panel=_DATA)],
}
_COMMON_OPTIONS.update({
    "index": Annotated[Optional[Path], typer.Option("--index", envvar="CLAUDE_USAGE_INDEX", help="Index file to use (default: one per set of data dirs in the user cache dir).", rich_help_panel=_DATA)],
    "no_index": Annotated[bool, typer.Option("--no-index", help="Read every transcript now; store nothing.", rich_help_panel=_DATA)],
    "forget_deleted": Annotated[bool, typer.Option("--forget-deleted", help="Drop indexed history of transcripts that no longer exist.", rich_help_panel=_DATA)],
})
_TEAM = "Team (PostgreSQL)"
_COMMON_OPTIONS.update({
    "team": Annotated[Optional[str], typer.Option("--team", metavar="URL", help="Read the team database (postgresql://USER:PASSWORD@HOST:PORT/DATABASE) instead of this machine's transcripts.", rich_help_panel=_TEAM)],
    "user": Annotated[Optional[str], typer.Option("--user", help="With --team: only this user's sessions.", rich_help_panel=_TEAM)],
    "machine": Annotated[Optional[str], typer.Option("--machine", help="With --team: only this machine's sessions (its name or id).", rich_help_panel=_TEAM)],
})
TEAM_OPTIONS = ("team", "user", "machine")
DATA_OPTIONS = ("data_dir", "projects_path", "demo", "prices", "index", "no_index", "forget_deleted")


def with_options(*names: str) -> Callable:
    """Add the named common options to a command; the command receives them as ``opts``."""

    def decorate(command: Callable) -> Callable:
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.name != "opts"]
        added = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=Common.__dataclass_fields__[name].default, annotation=_COMMON_OPTIONS[name])
            for name in names
        ]

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            opts = Common(**{name: kwargs.pop(name) for name in names})
            return command(opts=opts, **kwargs)

        parameters = own + added
        wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
        return wrapper

    return decorate


REPORT_OPTIONS = tuple(_COMMON_OPTIONS)
FILTER_OPTIONS = ("json", "since", "until", "tz", "project", "model", "mode", "compact", *DATA_OPTIONS, *TEAM_OPTIONS)


def _roots(opts: Common, demo_fallback: bool = False) -> tuple[list, str | None]:
    """The data roots for ``opts`` and a notice (demo fallback); exits on a root error."""
    from claude_usage.demo import demo_root
    from claude_usage.sources.discovery import NoDataError, RootError, has_transcripts, resolve_roots

    if opts.demo:
        return [demo_root()], None
    try:
        found = resolve_roots(opts.data_dir, opts.projects_path)
    except RootError as error:
        err.print(f"[red]Error:[/] {error}")
        raise typer.Exit(EXIT_BAD_ROOT) from None
    except NoDataError as error:
        if opts.index is not None and not opts.no_index:
            # A named index holds history of its own (imports, deleted transcripts): it is read
            # without transcripts, as on a machine that never ran Claude Code.
            err.print(f"Note: no Claude Code transcripts found (looked in {', '.join(map(str, error.tried))}); "
                      f"reading the index {opts.index} only.")
            return [], None
        if demo_fallback:
            notice = f"No Claude Code transcripts found (looked in {', '.join(map(str, error.tried))}); serving the demo data."
            return [demo_root()], notice
        err.print(f"[red]Error:[/] {error} (an index of imported history: name it with --index PATH)")
        raise typer.Exit(EXIT_NO_DATA) from None
    for path in found.missing:
        if found.explicit:
            err.print(f"[yellow]Warning:[/] data dir not found, skipped: {path}")
    for root in found.roots:
        if found.explicit and not has_transcripts(root):
            err.print(f"[yellow]Warning:[/] no transcripts (*.jsonl) below {root.projects_dir}")
    return found.roots, None


@dataclass
class Source:
    """Where a command's data come from: the roots, a notice (demo fallback), the price
    overrides and the store (a temporary one with ``--no-index``)."""

    roots: list
    notice: str | None
    overrides: dict | None
    store: Any

    def pricer(self) -> Any:
        """A fresh :class:`~claude_usage.pricing.Pricer` with the overrides."""
        from claude_usage.pricing import Pricer

        return Pricer(self.overrides)


def open_team(url: str | None, purpose: str = "claude-usage") -> Any:
    """The team store at ``url`` (else ``$CLAUDE_USAGE_TEAM_URL``); exits with code 2 and a
    one-line error (never the credentials) when it cannot be used."""
    try:
        from claude_usage.team.connection import TeamError, team_url
        from claude_usage.team.store import TeamStore
    except ImportError:
        err.print("[red]Error:[/] team mode needs the PostgreSQL driver: pip install 'claude-usage-ledger[team]'")
        raise typer.Exit(EXIT_BAD_ROOT) from None
    try:
        return TeamStore(team_url(url), purpose)
    except TeamError as error:
        team_error(error)


def team_error(error: BaseException) -> None:
    """Print a team database error (one line, without credentials) and exit with code 2."""
    from rich.markup import escape

    err.print(f"[red]Error:[/] {escape(str(error))}")
    raise typer.Exit(EXIT_BAD_ROOT)


def open_source(opts: Common, demo_fallback: bool = False) -> Source:
    """Resolve roots, read ``--prices`` and open the store (the team store with ``--team``);
    exits with a clear message on a missing root, no data, a bad ``--prices`` file or a store
    that cannot be used."""
    from claude_usage.pricing import PriceOverrideError, load_price_overrides

    if opts.team:
        if opts.prices:
            err.print("[yellow]Warning:[/] --prices is ignored with --team (each machine prices what it pushes)")
        return Source([], None, None, open_team(opts.team))
    if opts.user is not None or opts.machine is not None:
        err.print("[red]Error:[/] --user and --machine filter a team database: add --team URL")
        raise typer.Exit(EXIT_BAD_ROOT)
    roots, notice = _roots(opts, demo_fallback)
    try:
        overrides = load_price_overrides(opts.prices) if opts.prices else None
    except PriceOverrideError as error:
        err.print(f"[red]Error:[/] {error}")
        raise typer.Exit(EXIT_BAD_ROOT) from None
    import sqlite3

    from claude_usage.store import default_index_path, open_store, temporary_store

    if opts.no_index:
        return Source(roots, notice, overrides, temporary_store(roots))
    path = opts.index or default_index_path(roots)
    try:
        store = open_store(roots, path, notice=lambda message: err.print(f"[yellow]Notice:[/] {message}"))
    except (OSError, sqlite3.Error) as error:
        err.print(f"[red]Error:[/] cannot use the index {path}: {error} (choose another with --index, or --no-index)")
        raise typer.Exit(EXIT_BAD_ROOT) from None
    return Source(roots, notice, overrides, store)


def load(opts: Common, demo_fallback: bool = False) -> Source:
    """Open the store for ``opts`` and bring it up to date (a progress bar for long scans);
    print the file problems and the history note on stderr."""
    from claude_usage.formats import plural
    from claude_usage.store import facts

    source = open_source(opts, demo_fallback)
    if getattr(source.store, "team", False):
        return source  # the team store is brought up to date by the machines' pushes
    progress = LazyProgress(err)
    try:
        source.store.refresh(source.pricer, progress, forget_deleted=opts.forget_deleted)
    finally:
        progress.close()
    with source.store.reading() as view:
        warnings = facts.warnings(view)
        missing = view.one("SELECT COUNT(*) FROM files WHERE missing = 1")[0]
    print_warnings(warnings)
    if missing:  # on stderr, so --json output stays clean
        err.print(
            f"Note: includes history from {plural(missing, 'transcript')} that no longer exist "
            "(Claude Code deletes them after 30 days); --forget-deleted drops it."
        )
    return source


@contextmanager
def report_view(opts: Common, demo_fallback: bool = False) -> Iterator[tuple[Any, Source]]:
    """Load (see :func:`load`), then one consistent view of the store for the command's
    queries; the store is closed afterwards."""
    source = load(opts, demo_fallback)
    try:
        with source.store.reading() as view:
            yield view, source
    finally:
        source.store.close()


def print_warnings(warnings: list[str], shown: int = 20) -> None:
    """The file problems of a load on stderr (one line each, at most ``shown``; the count of
    the rest), so that a skipped file or a damaged line is never silent."""
    from rich.markup import escape

    for warning in warnings[:shown]:
        err.print(f"[yellow]Warning:[/] {escape(warning)}")
    if len(warnings) > shown:
        err.print(f"[yellow]Warning:[/] {len(warnings) - shown:,} more files with problems (`claude-usage doctor --json` lists them)")


def logs_root_for(roots: list, given: Path | None = None) -> Path:
    """Where MCP logs are read: ``given``, else the demo's own logs for demo data, else
    ``$MCP_LOGS_PATH`` or the Claude CLI cache dir."""
    from claude_usage.demo import demo_logs_dir
    from claude_usage.sources.mcp_logs import mcp_logs_root

    if given is not None:
        return given
    demo = [root for root in roots if root.origin == "demo"]
    return demo_logs_dir(demo[0]) if demo else mcp_logs_root()


def fail(message: str, code: int = EXIT_BAD_ROOT) -> NoReturn:
    """Print ``Error: message`` on stderr (the one error style of every command) and exit with
    ``code`` (2: a bad option or value, 1: nothing to show)."""
    from rich.markup import escape

    err.print(f"[red]Error:[/] {escape(message)}")
    raise typer.Exit(code)


def query_for(opts: Common, view: Any, first_weekday: int = 0) -> Any:
    """The report query of ``opts``, with ``--project`` and ``--model`` resolved to the keys
    and ids they name in the store (``view``; see :mod:`claude_usage.filters`); exits with
    code 2 on an unknown zone, a range that ends before it starts, or a project or model that
    names nothing (with the closest names)."""
    from claude_usage.filters import NoMatch, resolve
    from claude_usage.reports import Query, clock_for
    from claude_usage.timebuckets import ZoneError

    try:
        clock_for(opts.tz)
    except ZoneError as error:
        fail(f"--tz: {error}")
    try:
        projects, models = resolve(view, opts.project, opts.model)
    except NoMatch as error:
        said = str(error)
        fail(f"--{error.what}: {said}{' ' if said.endswith('?') else '; '}`claude-usage {error.what}s` lists them")
    if opts.team:
        for flag, wanted, column in (("--user", opts.user, "user_name"), ("--machine", opts.machine, "name")):
            if wanted is not None and view.one(f"SELECT 1 FROM machines WHERE {column} = ?", (wanted,)) is None:
                fail(f"{flag} {wanted!r} matches no machine that pushed; `claude-usage users` lists them")
    if opts.since and opts.until and opts.since > opts.until:
        fail(f"--until {opts.until} is before --since {opts.since}")
    return Query(
        zone=opts.tz,
        since=opts.since,
        until=opts.until,
        project=projects,
        model=models,
        mode=opts.mode.value,
        first_weekday=first_weekday,
        user=opts.user,
        machine=opts.machine,
    )


def empty_notice(query: Any) -> str:
    """What to print instead of a table of nothing (issue 14): which range and filters found
    no usage, e.g. ``No usage from 2025-01-01 to 2025-01-31 for project app (UTC).``"""
    if query.since and query.until:
        span = f" from {query.since} to {query.until}" if query.since != query.until else f" on {query.since}"
    elif query.since or query.until:
        span = f" since {query.since}" if query.since else f" until {query.until}"
    else:
        span = ""
    names = []
    for what, value in (("project", query.project), ("model", query.model)):
        if value is not None:
            values = [value] if isinstance(value, str) else list(value)
            names.append(f"{what}{'s' if len(values) > 1 else ''} {', '.join(values)}")
    where = f" for {' and '.join(names)}" if names else ""
    if not span and not where:
        return "No usage in the transcripts yet."
    return f"No usage{span}{where} ({query.clock.name})."


def print_json(document: Any) -> None:
    """Write ``document`` to stdout as indented JSON."""
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(document), indent=2).decode() + "\n")


def envelope(name: str, rows: list, total: Any, query: Any) -> dict[str, Any]:
    """The JSON document of a report command: its rows, the totals, the zone, unpriced models."""
    from claude_usage.rows import usage_row

    return {name: rows, "totals": usage_row(total), "timezone": query.clock.name, "unpricedModels": sorted(total.unpriced_models)}


def now_us() -> int:
    """Now, in UTC microseconds."""
    return time.time_ns() // 1000
