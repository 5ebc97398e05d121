"""The ``claude-usage`` command line (Typer + Rich).

Report commands print a Rich table, or with ``--json`` a document
``{"<report>": [rows], "totals": {...}, "timezone": ..., "unpricedModels": [...]}`` whose rows are
DESIGN section 8's usage rows. Progress and warnings go to stderr, never into ``--json`` output.
"""

import functools
import inspect
import sys
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import msgspec
import typer

from claude_usage import __version__

app = typer.Typer(
    name="claude-usage",
    help="Tokens and USD cost of your Claude Code use, from its local transcripts.",
    no_args_is_help=True,
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
MCP_LOGS_SHOWN = 20


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
    data_dir: list[Path] | None = None
    projects_path: Path | None = None
    demo: bool = False
    prices: Path | None = None
    index: Path | None = None
    no_index: bool = False
    forget_deleted: bool = False


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
    "json": Annotated[bool, typer.Option("--json", help="Print JSON (exact values) instead of a table.", rich_help_panel=_OUTPUT)],
    "since": Annotated[Optional[str], typer.Option(help="First local date, inclusive (YYYY-MM-DD or YYYYMMDD).", callback=_day_option, rich_help_panel=_FILTERS)],
    "until": Annotated[Optional[str], typer.Option(help="Last local date, inclusive (YYYY-MM-DD or YYYYMMDD).", callback=_day_option, rich_help_panel=_FILTERS)],
    "tz": Annotated[Optional[str], typer.Option(help="IANA time zone for days and hours (default: $TZ or the machine's).", rich_help_panel=_FILTERS)],
    "project": Annotated[Optional[str], typer.Option(help="Only this project (its key: the directory under projects/).", rich_help_panel=_FILTERS)],
    "model": Annotated[Optional[str], typer.Option(help="Only this model id.", rich_help_panel=_FILTERS)],
    "mode": Annotated[Mode, typer.Option(help="Cost mode: auto (costUSD when the line has it), calculate, display.", rich_help_panel=_FILTERS)],
    "order": Annotated[Optional[Order], typer.Option(help="Sort order (default: dates and sessions ascending, models and projects by cost descending).", rich_help_panel=_OUTPUT)],
    "breakdown": Annotated[bool, typer.Option("--breakdown", help="Add per-model rows.", rich_help_panel=_OUTPUT)],
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
_DATA_OPTIONS = ("data_dir", "projects_path", "demo", "prices", "index", "no_index", "forget_deleted")


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
FILTER_OPTIONS = ("json", "since", "until", "tz", "project", "model", "mode", *_DATA_OPTIONS)


class _LazyProgress:
    """A progress bar (files and MB) on stderr, shown only once a scan has taken over a second."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, files_done: int, files_total: int, bytes_done: int, bytes_total: int) -> None:
        if self.bar is None:
            if time.monotonic() - self.started < 1.0 or files_done >= files_total:
                return
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("Reading transcripts"),
                BarColumn(),
                TextColumn("{task.fields[files]}"),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=err.real(),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("scan", total=bytes_total or 1, files="")
        self.bar.update(self.task, completed=bytes_done, files=f"{files_done:,}/{files_total:,} files")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


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
        if demo_fallback:
            notice = f"No Claude Code transcripts found (looked in {', '.join(map(str, error.tried))}); serving the demo data."
            return [demo_root()], notice
        err.print(f"[red]Error:[/] {error}")
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
    overrides and the index (None with ``--no-index``)."""

    roots: list
    notice: str | None
    overrides: dict | None
    index: Any

    def pricer(self) -> Any:
        """A fresh :class:`~claude_usage.pricing.Pricer` with the overrides."""
        from claude_usage.pricing import Pricer

        return Pricer(self.overrides)


def open_source(opts: Common, demo_fallback: bool = False) -> Source:
    """Resolve roots, read ``--prices`` and open the index; exits with a clear message on a
    missing root, no data, or a bad ``--prices`` file."""
    from claude_usage.pricing import PriceOverrideError, load_price_overrides

    roots, notice = _roots(opts, demo_fallback)
    try:
        overrides = load_price_overrides(opts.prices) if opts.prices else None
    except PriceOverrideError as error:
        err.print(f"[red]Error:[/] {error}")
        raise typer.Exit(EXIT_BAD_ROOT) from None
    index = None
    if not opts.no_index:
        import sqlite3

        from claude_usage.index import UsageIndex, default_index_path

        path = opts.index or default_index_path(roots)
        try:
            index = UsageIndex(path, roots, notice=lambda message: err.print(f"[yellow]Notice:[/] {message}"))
        except (OSError, sqlite3.Error) as error:
            err.print(f"[red]Error:[/] cannot use the index {path}: {error} (choose another with --index, or --no-index)")
            raise typer.Exit(EXIT_BAD_ROOT) from None
    return Source(roots, notice, overrides, index)


def load(opts: Common, demo_fallback: bool = False) -> tuple[Any, str | None]:
    """Load the dataset for ``opts``: bring the index up to date (a progress bar for long
    scans) and read it, or scan everything with ``--no-index``."""
    from claude_usage.loader import load_dataset

    source = open_source(opts, demo_fallback)
    progress = _LazyProgress()
    try:
        if source.index is None:
            dataset = load_dataset(source.roots, source.pricer(), progress)
        else:
            source.index.refresh(source.pricer, progress, forget_deleted=opts.forget_deleted)
            dataset = source.index.dataset()
    finally:
        progress.close()
    print_warnings(dataset.warnings)
    if dataset.diagnostics.missingFiles:  # on stderr, so --json output stays clean
        err.print(
            f"Note: includes history from {dataset.diagnostics.missingFiles:,} transcript(s) that no longer exist "
            "(Claude Code deletes them after 30 days); --forget-deleted drops it."
        )
    return dataset, source.notice


def print_warnings(warnings: list[str], shown: int = 20) -> None:
    """The file problems of a load on stderr (one line each, at most ``shown``; the count of
    the rest), so that a skipped file or a damaged line is never silent."""
    from rich.markup import escape

    for warning in warnings[:shown]:
        err.print(f"[yellow]Warning:[/] {escape(warning)}")
    if len(warnings) > shown:
        err.print(f"[yellow]Warning:[/] {len(warnings) - shown:,} more files with problems (`claude-usage doctor --json` lists them)")


def logs_root_for(dataset: Any, given: Path | None = None) -> Path:
    """Where MCP logs are read: ``given``, else the demo's own logs for demo data, else
    ``$MCP_LOGS_PATH`` or the Claude CLI cache dir."""
    from claude_usage.demo import demo_logs_dir
    from claude_usage.sources.mcp_logs import mcp_logs_root

    if given is not None:
        return given
    demo = [root for root in dataset.roots if root.origin == "demo"]
    return demo_logs_dir(demo[0]) if demo else mcp_logs_root()


def query_for(opts: Common, dataset: Any, first_weekday: int = 0) -> Any:
    """The report query of ``opts``; exits with code 2 on an unknown zone, and warns when
    ``--project`` or ``--model`` names nothing in ``dataset``."""
    from claude_usage.reports import Query, clock_for
    from claude_usage.timebuckets import ZoneError

    try:
        clock_for(opts.tz)
    except ZoneError as error:
        err.print(f"[red]Error:[/] --tz: {error}")
        raise typer.Exit(EXIT_BAD_ROOT) from None
    for flag, wanted, known, lister in (
        ("--project", opts.project, {r.project for r in dataset.records}, "projects"),
        ("--model", opts.model, {r.model for r in dataset.records}, "models"),
    ):
        if wanted is not None and wanted not in known:
            err.print(f"[yellow]Warning:[/] {flag} {wanted!r} matches no request; `claude-usage {lister}` lists them")
    if opts.since and opts.until and opts.since > opts.until:
        err.print(f"[red]Error:[/] --until {opts.until} is before --since {opts.since}")
        raise typer.Exit(EXIT_BAD_ROOT)
    return Query(
        zone=opts.tz,
        since=opts.since,
        until=opts.until,
        project=opts.project,
        model=opts.model,
        mode=opts.mode.value,
        first_weekday=first_weekday,
    )


def print_json(document: Any) -> None:
    """Write ``document`` to stdout as indented JSON."""
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(document), indent=2).decode() + "\n")


def _envelope(name: str, rows: list, total: Any, query: Any) -> dict[str, Any]:
    from claude_usage.rows import usage_row

    return {name: rows, "totals": usage_row(total), "timezone": query.clock.name, "unpricedModels": sorted(total.unpriced_models)}


def _report(
    opts: Common,
    name: str,
    header: str,
    key_of: Callable[[Any, str, int], Any],
    row_of: Callable[..., dict],
    sort_key: Callable[[tuple[str, Any]], Any] = lambda item: item[0],
    default_order: Order = Order.asc,
    extra_headers: tuple[str, ...] = ("Models",),
    extra: Callable[..., list[str]] | None = None,
    first_weekday: int = 0,
) -> None:
    """Load, group by ``key_of(record, local date, local hour)``, sort, and print a table or
    ``{"<name>": [row_of(dataset, key, totals, breakdown)], "totals", "timezone", "unpricedModels"}``."""
    from claude_usage import reports

    dataset, _ = load(opts)
    query = query_for(opts, dataset, first_weekday)
    groups = sorted(reports.group(dataset, query, key_of, opts.breakdown).items(), key=sort_key)
    if (opts.order or default_order) == Order.desc:
        groups.reverse()
    total = reports.combined(t for _, t in groups)
    if opts.json:
        print_json(_envelope(name, [row_of(dataset, key, t, opts.breakdown) for key, t in groups], total, query))
        return
    from claude_usage.render import usage_table, warn_pricing

    describe = (lambda key, t: extra(dataset, key, t)) if extra else None
    title = f"Claude Code usage by {header.lower()} ({query.clock.name})"
    out.print(usage_table(title, header, groups, total, opts.breakdown, extra_headers, describe, width=out.width))
    warn_pricing(err, total)


def _keyed(key_name: str) -> Callable[..., dict]:
    from claude_usage.rows import keyed_row

    return lambda _dataset, key, t, breakdown: keyed_row(key_name, key, t, breakdown)


@app.command()
@with_options(*REPORT_OPTIONS)
def daily(opts: Common) -> None:
    """Usage and cost per local day."""
    _report(opts, "daily", "Date", lambda r, day, h: day, _keyed("date"))


@app.command()
@with_options(*REPORT_OPTIONS)
def weekly(
    opts: Common,
    start_of_week: Annotated[Weekday, typer.Option(help="First day of the week.")] = Weekday.monday,
) -> None:
    """Usage and cost per week (labelled by the week's first day, Monday by default)."""
    from claude_usage.reports import week_key
    from claude_usage.timebuckets import WEEKDAYS

    first = WEEKDAYS.index(start_of_week.value)
    _report(opts, "weekly", "Week", week_key(first), _keyed("week"), first_weekday=first)


@app.command()
@with_options(*REPORT_OPTIONS)
def monthly(opts: Common) -> None:
    """Usage and cost per local month."""
    _report(opts, "monthly", "Month", lambda r, day, h: day[:7], _keyed("month"))


@app.command()
@with_options(*FILTER_OPTIONS, "breakdown")
def hourly(opts: Common) -> None:
    """Usage per local hour of day (0-23, summed over the selected days) and a day x hour heatmap."""
    from claude_usage import reports
    from claude_usage.render import usage_table, warn_pricing
    from claude_usage.rows import keyed_row, usage_row

    dataset, _ = load(opts)
    query = query_for(opts, dataset)
    hours = reports.hourly(dataset, query, opts.breakdown)
    total = reports.overall(dataset, query)
    if opts.json:
        document = _envelope("hourly", [keyed_row("hour", h, t, opts.breakdown) for h, t in enumerate(hours)], total, query)
        document["heatmap"] = [{"date": d, "hour": h, **usage_row(t)} for (d, h), t in reports.heatmap(dataset, query)]
        print_json(document)
        return
    rows = [(f"{h:02d}:00", t) for h, t in enumerate(hours)]
    title = f"Claude Code usage by hour of day ({query.clock.name})"
    out.print(usage_table(title, "Hour", rows, total, opts.breakdown, width=out.width))
    warn_pricing(err, total)


def _by_cost(item: tuple[str, Any]) -> tuple:
    return (item[1].cost_usd, item[0])


@app.command()
@with_options(*FILTER_OPTIONS, "order")
def models(opts: Common) -> None:
    """Usage and cost per model (by cost, highest first)."""
    from claude_usage.rows import model_row

    _report(
        opts, "models", "Model", lambda r, d, h: r.model, lambda _dataset, model, t, _b: model_row(model, t),
        sort_key=_by_cost, default_order=Order.desc,
        extra_headers=("Requests",), extra=lambda _dataset, _model, t: [f"{t.requests:,}"],
    )


@app.command()
@with_options(*REPORT_OPTIONS)
def projects(opts: Common) -> None:
    """Usage and cost per project (by cost, highest first); the path comes from the transcripts."""
    from claude_usage.rows import project_row

    _report(
        opts, "projects", "Project", lambda r, d, h: r.project, project_row,
        sort_key=_by_cost, default_order=Order.desc,
        extra_headers=("Path",), extra=lambda dataset, name, _t: [dataset.project_path(name) or ""],
    )


@app.command()
@with_options(*REPORT_OPTIONS)
def sessions(
    opts: Common,
    session_id: Annotated[Optional[str], typer.Option("--id", help="Show one session in detail: models and subagents.")] = None,
) -> None:
    """Usage and cost per session (by last activity; subagent requests count in their parent)."""
    from claude_usage.rows import session_row
    from claude_usage.timebuckets import iso_utc

    if session_id is not None:
        _session_detail(opts, session_id)
        return
    _report(
        opts, "sessions", "Session", lambda r, d, h: r.session_id, session_row,
        sort_key=lambda item: (item[1].last_ts_us or 0, item[0]),
        extra_headers=("Project", "Last activity (UTC)"),
        extra=lambda _dataset, _s, t: [", ".join(sorted(t.projects)), (iso_utc(t.last_ts_us) or "")[:16].replace("T", " ")],
    )


def _session_detail(opts: Common, session_id: str) -> None:
    from claude_usage import reports
    from claude_usage.documents import session_detail
    from claude_usage.render import key_value_table, money, tokens, usage_table, warn_pricing

    dataset, _ = load(opts)
    query = query_for(opts, dataset)
    document = session_detail(dataset, query, session_id)
    if document is None:
        err.print(f"[red]Error:[/] no usage for session {session_id!r} (`claude-usage sessions` lists them)")
        raise typer.Exit(EXIT_NO_DATA)
    if opts.json:
        print_json({"session": document, "timezone": query.clock.name, "unpricedModels": document["unpricedModels"]})
        return
    from dataclasses import replace

    q = replace(query, session=session_id)
    total = reports.overall(dataset, q)
    out.print(key_value_table(f"Session {session_id}", [
        ("Project", document["project"] or "-"),
        ("Path", document["path"] or "-"),
        ("First / last activity (UTC)", f"{document['firstActivity']} / {document['lastActivity']}"),
        ("Requests", tokens(document["requests"])),
        ("Total tokens", tokens(document["totalTokens"])),
        ("Cost", money(document["costUsd"], bool(document["unpricedRequests"] and total.priced_requests))),
        ("Subagent cost", money(document["subagentCostUsd"])),
    ]))
    models = sorted(reports.by_models(dataset, q).items(), key=lambda kv: -kv[1].cost_usd)
    out.print(usage_table("By model", "Model", models, total, extra_headers=("Requests",),
                          extra=lambda _m, t: [f"{t.requests:,}"], width=out.width))
    if document["subagents"]:
        agents = {row["file"]: row for row in document["subagents"]}
        groups: dict[str, reports.Totals] = {}
        for record, cost, _d, _h in reports.select(dataset, q):
            if record.file in agents:
                groups.setdefault(record.file, reports.Totals()).add(record, cost)
        agent_total = reports.Totals()
        for t in groups.values():
            agent_total.merge(t)
        rows = [(agents[f]["agentId"], t) for f, t in groups.items()]
        by_id = {row["agentId"]: row for row in agents.values()}
        out.print(usage_table("Subagents", "Agent", rows, agent_total, extra_headers=("Type", "Description"),
                              extra=lambda a, _t: [by_id[a]["agentType"] or "", by_id[a]["description"] or ""],
                              width=out.width))
    warn_pricing(err, total)


@app.command()
@with_options("json", *_DATA_OPTIONS)
def tools(opts: Common) -> None:
    """Tool use from the transcripts: calls, error results, sessions, first and last use."""
    from claude_usage import tools as tool_analytics
    from claude_usage.render import tool_table

    dataset, _ = load(opts)
    ranked = tool_analytics.ranked(tool_analytics.tool_stats(dataset))
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
@with_options("json", *_DATA_OPTIONS)
def mcp(
    opts: Common,
    logs_dir: Annotated[Optional[Path], typer.Option("--logs-dir", help="MCP logs dir (default: $MCP_LOGS_PATH or the Claude CLI cache dir).")] = None,
) -> None:
    """MCP tools (calls, errors, sessions) and MCP server log files."""
    from claude_usage import tools as tool_analytics
    from claude_usage.render import log_table, tool_table
    from claude_usage.sources.mcp_logs import LogCatalog

    dataset, _ = load(opts)
    calls = tool_analytics.mcp_calls(dataset)
    ranked = tool_analytics.ranked(tool_analytics.tool_stats(dataset, calls))
    where = logs_root_for(dataset, logs_dir)
    logs = LogCatalog(where).summaries()
    if opts.json:
        print_json({
            "tools": [s.row() for s in ranked],
            "totalCalls": len(calls),
            "uniqueTools": len(ranked),
            "sessions": tool_analytics.session_tool_use(calls)[: tool_analytics.LATEST_MCP_SESSIONS],
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


@app.command()
@with_options(*FILTER_OPTIONS)
def summary(opts: Common) -> None:
    """Totals at a glance: cost, tokens, requests, sessions, projects, cache hit ratio, today, this month."""
    from claude_usage import reports
    from claude_usage.render import key_value_table, money, tokens, warn_pricing
    from claude_usage.documents import summary as summary_document
    from claude_usage.rows import usage_row

    dataset, _ = load(opts)
    query = query_for(opts, dataset)
    total, today, month = reports.today_and_month(dataset, query)
    document = summary_document(dataset, query)
    if opts.json:
        print_json({"summary": document, "totals": usage_row(total), "timezone": query.clock.name, "unpricedModels": document["unpricedModels"]})
        return

    def cost(t: reports.Totals) -> str:
        return money(t.cost_usd if t.priced_requests or not t.requests else None, bool(t.unpriced_requests and t.priced_requests))

    items = [
        ("Total cost", cost(total)),
        ("Today", cost(today)),
        ("This month", cost(month)),
        ("Total tokens", tokens(total.total_tokens)),
        ("Input / output", f"{tokens(total.input_tokens)} / {tokens(total.output_tokens)}"),
        ("Cache create / read", f"{tokens(total.cache_creation_tokens)} / {tokens(total.cache_read_tokens)}"),
        ("Cache hit ratio", f"{total.cache_hit_ratio:.1%}"),
        ("Requests", tokens(total.requests)),
        ("Sessions", tokens(len(total.session_ids))),
        ("Projects", tokens(len(total.projects))),
        ("First activity (UTC)", document["firstActivity"] or "-"),
        ("Last activity (UTC)", document["lastActivity"] or "-"),
    ]
    if total.web_search_requests or total.web_fetch_requests:
        items.append(("Web searches / fetches", f"{tokens(total.web_search_requests)} / {tokens(total.web_fetch_requests)}"))
    if total.fast_unpriced_requests:
        items.append(("Fast requests at standard price", tokens(total.fast_unpriced_requests)))
    if total.placeholder_output_requests:
        items.append(("Placeholder output counts", f"{tokens(total.placeholder_output_requests)} request(s), "
                                                   "output undercounted (Claude Code < 2.1.97)"))
    out.print(key_value_table(f"Claude Code usage summary ({query.clock.name})", items))
    warn_pricing(err, total)


def _diagnostics(dataset: Any) -> dict[str, int]:
    return {name: getattr(dataset.diagnostics, name) for name in dataset.diagnostics.__struct_fields__}


@app.command()
@with_options("json", "tz", "mode", *_DATA_OPTIONS)
def process(opts: Common) -> None:
    """Print one JSON document with every aggregate (the old data-processor's output)."""
    from claude_usage import reports
    from claude_usage.rows import keyed_row, model_row, project_row, usage_row

    dataset, _ = load(opts)
    query = query_for(opts, dataset)
    total = reports.overall(dataset, query)
    print_json({
        "dailyUsage": [keyed_row("date", d, t) for d, t in reports.daily(dataset, query)],
        "monthlyUsage": [keyed_row("month", m, t) for m, t in reports.monthly(dataset, query)],
        "modelUsage": [model_row(m, t) for m, t in sorted(reports.by_models(dataset, query).items())],
        "projects": [project_row(dataset, n, t) for n, t in sorted(reports.by_projects(dataset, query).items())],
        "totalSessions": len(total.session_ids),
        "totals": usage_row(total),
        "diagnostics": _diagnostics(dataset),
        "timezone": query.clock.name,
        "unpricedModels": sorted(total.unpriced_models),
        "priceDataVersion": dataset.price_version,
    })


@app.command()
@with_options("json", *_DATA_OPTIONS)
def doctor(opts: Common) -> None:
    """Show where data was looked for and found, and what was read, merged and skipped."""
    from claude_usage import reports
    from claude_usage.render import key_value_table
    from claude_usage.reports import Query
    from claude_usage.sources.discovery import NoDataError, RootError, resolve_roots

    tried: list[str] = []
    if not opts.demo:
        try:
            tried = [str(p) for p in resolve_roots(opts.data_dir, opts.projects_path).tried]
        except (RootError, NoDataError):
            pass  # load() below reports it with the right exit code
    dataset, _ = load(opts)
    total = reports.overall(dataset, Query(zone="UTC", mode="calculate"))
    roots = [str(root.projects_dir) for root in dataset.roots]
    diagnostics = _diagnostics(dataset)
    if opts.json:
        print_json({
            **diagnostics,
            "roots": roots,
            "rootsTried": tried or roots,
            "unpricedModels": sorted(total.unpriced_models),
            "fastUnpricedModels": sorted(total.fast_unpriced_models),
            "warnings": dataset.warnings,
            "priceDataVersion": dataset.price_version,
            "version": __version__,
        })
        return
    items = [("Roots tried", "\n".join(tried or roots)), ("Roots found", "\n".join(roots))]
    labels = {
        "files": "Transcript files", "bytes": "Bytes read", "lines": "Lines", "usageLines": "Usage lines",
        "requests": "Requests (deduplicated)", "duplicateLines": "Duplicate lines merged",
        "syntheticLines": "Synthetic lines skipped", "malformedLines": "Malformed lines skipped",
        "nonObjectLines": "Non-object lines skipped", "blankLines": "Blank lines",
        "partialTailLines": "Half-written last lines", "unreadableFiles": "Unreadable files",
        "placeholderOutputRequests": "Placeholder output counts", "fastUnpricedRequests": "Fast requests at standard price",
        "skippedFiles": "Not regular files (skipped)", "deepLines": "Lines nested too deeply (read in part)",
        "oversizedLines": "Lines over 64 MiB (skipped)", "invalidUsageLines": "Impossible usage lines (skipped)",
    }
    items += [(label, f"{diagnostics[name]:,}") for name, label in labels.items()]
    items.append(("Unpriced models", ", ".join(sorted(total.unpriced_models)) or "none"))
    items.append(("Price data", dataset.price_version))
    out.print(key_value_table(f"claude-usage {__version__} doctor", items))
    from claude_usage.render import warn_pricing

    warn_pricing(err, total)


@app.command()
@with_options("json", "prices")
def prices(opts: Common) -> None:
    """The price data in use: the genai-prices version, the price corrections shipped with
    claude-usage (fast mode, US-only inference) and the models of your --prices file."""
    from claude_usage.pricing import PriceOverrideError, Pricer, load_price_overrides
    from claude_usage.pricing_corrections import PriceCorrectionError, prices_document
    from claude_usage.render import corrections_table

    try:
        document = prices_document(Pricer(load_price_overrides(opts.prices) if opts.prices else None))
    except (PriceOverrideError, PriceCorrectionError) as error:
        err.print(f"[red]Error:[/] {error}")
        raise typer.Exit(EXIT_BAD_ROOT) from None
    if opts.json:
        print_json(document)
        return
    out.print(f"Price data: {document['priceData']} (version stored with costs: {document['version']})", soft_wrap=True)
    out.print(corrections_table(f"Price corrections in force ({document['correctionsFile']})", document["corrections"], out.width))
    if document["overrides"]:
        out.print(f"Your --prices file names: {', '.join(document['overrides'])} (used as given for these models).")


def _now_us() -> int:
    return time.time_ns() // 1000


@app.command()
@with_options(*FILTER_OPTIONS)
def blocks(
    opts: Common,
    active: Annotated[bool, typer.Option("--active", help="Only the active block, with burn rate and projection.")] = False,
    recent: Annotated[bool, typer.Option("--recent", help="Blocks of the last 3 days and the active one.")] = False,
    token_limit: Annotated[Optional[str], typer.Option(help="Your token limit per block, or 'max' (estimate: the largest past block).")] = None,
    cost_limit: Annotated[Optional[str], typer.Option(help="Your cost limit per block in USD, or 'max' (estimate: the largest past block).")] = None,
    session_length: Annotated[float, typer.Option(min=0.25, max=168, help="Block length in hours.")] = 5.0,
) -> None:
    """5-hour blocks: cost per block, gaps, the active block's burn rate, projection and reset.

    Blocks are the windows of Claude subscription limits. Limits are yours or estimates from
    past blocks, never Anthropic's quota."""
    from claude_usage.blocks import blocks_document, dataset_blocks, parse_limit
    from claude_usage.render import active_block_items, blocks_table, key_value_table
    from claude_usage.rows import money_text

    limits = []
    for given, hint in ((token_limit, "--token-limit"), (cost_limit, "--cost-limit")):
        try:
            limits.append(parse_limit(given))
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint=hint) from None
    tokens_given, cost_given = limits
    from claude_usage.reports import combined
    from claude_usage.render import warn_pricing

    dataset, _ = load(opts)
    query = query_for(opts, dataset)
    built = dataset_blocks(dataset, query, session_length)
    total = combined(b.totals for b in built)
    document = blocks_document(built, _now_us(), session_length, active, recent, tokens_given, cost_given)
    if opts.json:
        print_json({**document, "timezone": query.clock.name, "unpricedModels": sorted(total.unpriced_models)})
        return
    zone = query.clock.zone
    rows = document["blocks"]
    if not active and rows:
        title = f"Claude Code {session_length:g}-hour blocks ({query.clock.name})"
        out.print(blocks_table(title, rows, zone, out.width))
    active_rows = [row for row in rows if row["isActive"]]
    for row in active_rows:
        out.print(key_value_table("Active block", active_block_items(row, zone)))
    if not rows:
        out.print("No active block: the next request starts one." if active else "No usage in the selected range.")
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

    Prints the session's cost, today's cost and the active block's cost, time left and burn
    rate. Options: --data-dir DIR (repeatable), --tz ZONE, --index PATH."""
    from claude_usage.statusline import main as statusline_main

    raise typer.Exit(statusline_main(list(ctx.args)))


@app.command()
@with_options("tz", *_DATA_OPTIONS)
def serve(
    opts: Common,
    host: Annotated[str, typer.Option(envvar="HOST", help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT", min=0, max=65535, help="Port to listen on (0: any free port).")] = 8080,
    rate_limit: Annotated[int, typer.Option(min=0, help="Requests per minute per client; 0 turns the limit off.")] = 600,
    sse_heartbeat: Annotated[float, typer.Option(min=0.1, help="Seconds between heartbeats on /api/v2/events.")] = 15.0,
    allowed_host: Annotated[Optional[list[str]], typer.Option("--allowed-host", help="Another Host name to answer to (a DNS name of this machine, a proxy's); repeatable; '*' for any.")] = None,
    max_connections: Annotated[int, typer.Option(min=1, help="Open connections at most; more are closed at once.")] = 1000,
) -> None:
    """Serve the REST API (/api/v2/..., docs at /docs), following the transcripts live."""
    from claude_usage.server import run_server

    source = open_source(opts, demo_fallback=True)
    if source.notice:
        err.print(f"[yellow]Notice:[/] {source.notice}")
    if source.index is None:  # --no-index: read everything now; no live updates
        dataset, _ = load(opts, demo_fallback=True)
    else:  # serve what is indexed at once; the index is brought up to date in the background
        dataset = source.index.dataset()
    query = query_for(opts, dataset)
    raise typer.Exit(run_server(
        dataset, query.clock.name, host, port, source.notice, err, rate_limit, logs_root_for(dataset),
        index=source.index, pricer_factory=source.pricer, heartbeat=sse_heartbeat, allowed_hosts=allowed_host or (),
        max_connections=max_connections,
    ))


def _version(value: bool) -> None:
    if value:
        out.print(f"claude-usage {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    """Tokens and USD cost of your Claude Code use, from its local transcripts."""


def main() -> None:
    """Console-script entry point."""
    app()
