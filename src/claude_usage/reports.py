"""The report queries: every aggregate is SQL the store computes (DESIGN sections 1, 6 and 7).

By day, week, month, hour, model, project and session: all are groupings of the same filtered
selection of the kept requests, summed from the rollups, so they always agree (the sum over days
equals the sum over models, projects and sessions, and the total). Local days, weeks, months
and hours come from the UTC quarter-hour cells and the zone's offsets over the data's span
(:func:`claude_usage.timebuckets.zone_segments`), exact in every zone and across DST changes.

The SQL is portable (SQLite and PostgreSQL): common table expressions, ``CASE``, integer
arithmetic and ``COUNT(DISTINCT ...)``. Each function takes a view of the store (a read
transaction, :meth:`~claude_usage.store.sqlite.SQLiteStore.reading`), so that the queries of
one answer see one state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Hashable, Iterable

from claude_usage.store.schema import COST_UNIT, FAST_UNPRICED, PLACEHOLDER, QUARTER_HOUR_US, SIDECHAIN
from claude_usage.totals import Sums, Totals
from claude_usage.timebuckets import LocalClock, day_index, day_text, local_zone_name, resolve_zone, zone_segments

_CLOCKS: dict[str, LocalClock] = {}
# The sessions of the team store's machines (a session belongs to the machine whose copies win).
_TEAM_SESSIONS = "SELECT ts_.id FROM sessions ts_ JOIN machines mc ON mc.id = ts_.machine_id"
_QH_PER_DAY = 96
_SLACK_QH = 14 * 4  # the largest offset from UTC, in quarter hours (filters by UTC first)


def clock_for(zone_name: str | None, local: Callable[[], str] = local_zone_name) -> LocalClock:
    """A shared :class:`LocalClock` per zone (None: ``$TZ`` or the machine's zone, asked of
    ``local()``; see :func:`claude_usage.timebuckets.resolve_zone`).

    Raises :class:`claude_usage.timebuckets.ZoneError` for an unknown zone.
    """
    zone = resolve_zone(zone_name, local)
    clock = _CLOCKS.get(zone.key)
    if clock is None:
        clock = _CLOCKS[zone.key] = LocalClock(zone)
    return clock


@dataclass(frozen=True)
class Query:
    """Filters shared by every report (DESIGN sections 6 and 8).

    ``zone``: IANA zone name for local buckets (None: ``$TZ`` or the machine's zone); ``since``/
    ``until``: inclusive local dates ``YYYY-MM-DD`` (an ``until`` before ``since`` selects
    nothing); ``project``: project key, or a tuple of keys (any of them); ``model``: exact model
    id, or a tuple of ids (see :mod:`claude_usage.filters` for the names users give); ``mode``: cost mode;
    ``start_hour``/``end_hour``: inclusive local hours 0-23 (a start after the end is a range
    across midnight); ``session``: one session id; ``first_weekday``: the first day of a week
    (0 = Monday); ``after_us``: only requests at or after this UTC instant (microseconds, on a
    quarter hour), for windows such as the active 5-hour block; ``sessions``: only these session
    ids (a page of a listing); ``user`` and ``machine``: only the sessions of this user or
    machine (name or id; team store only, DESIGN 12).
    """

    zone: str | None = None
    since: str | None = None
    until: str | None = None
    project: str | tuple[str, ...] | None = None
    model: str | tuple[str, ...] | None = None
    mode: str = "auto"
    start_hour: int | None = None
    end_hour: int | None = None
    first_weekday: int = 0
    session: str | None = None
    after_us: int | None = None
    sessions: tuple[str, ...] | None = None
    user: str | None = None
    machine: str | None = None

    @property
    def by_session(self) -> bool:
        """Whether the query selects by session (one, a page, a user's or a machine's): only
        sources with a session id serve it (not the hourly rollup)."""
        return self.session is not None or self.sessions is not None or self.user is not None or self.machine is not None

    @property
    def clock(self) -> LocalClock:
        """The clock of this query's zone."""
        return clock_for(self.zone)


def name_condition(column: str, table: str, value: str | tuple[str, ...]) -> tuple[str, list[str]]:
    """SQL that ``column`` holds the id of the name ``value`` (or of one of the names of a
    tuple) in the lookup ``table``, and its parameters."""
    names = [value] if isinstance(value, str) else list(value)
    if len(names) == 1:
        return f"{column} = (SELECT id FROM {table} WHERE name = ?)", names
    if not names:
        return "1 = 0", []
    return f"{column} IN (SELECT id FROM {table} WHERE name IN ({', '.join('?' * len(names))}))", names


# -- sources: what a report sums ------------------------------------------------------------------

@dataclass(frozen=True)
class _Source:
    """A table a report sums, aliased ``u``: its time in UTC quarter hours (``qh``), its UTC
    pre-filter on time, and the SQL of its sums in the order of :class:`Sums`."""

    table: str
    qh: str
    time_filter: Callable[[int, int], tuple[str, list[int]]]
    sums: Callable[[str], str]
    where: tuple[str, ...] = ()
    time: str = "u.qh"  # the native time of a row, which time units are given in
    to_qh: Callable[[int], int] = lambda native: native  # a native time as a quarter hour


def _cell_cost(mode: str) -> tuple[str, str]:
    """The SQL of a rollup cell's known cost (cost units) and unpriced count under a cost mode."""
    if mode == "calculate":
        return "u.cost_calc", "u.unpriced_calc"
    if mode == "display":
        return "u.cost_line", "0"
    return "(u.cost_line + u.cost_auto)", "u.unpriced_auto"


def cell_cost(mode: str) -> tuple[str, str]:
    """The SQL of a rollup cell's (``u``) known cost, in store units (:data:`COST_UNIT` USD),
    and of its unpriced request count, under the cost ``mode``."""
    return _cell_cost(mode)


def _cell_sums(mode: str) -> str:
    cost, unpriced = _cell_cost(mode)
    return (f"SUM(u.input), SUM(u.output), SUM(u.cache_5m), SUM(u.cache_1h), SUM(u.cache_read), SUM(u.requests), "
            f"SUM({cost}), SUM({unpriced}), SUM(CASE WHEN (u.kind & {SIDECHAIN}) <> 0 THEN {cost} ELSE 0 END), "
            f"SUM(u.searches), SUM(u.fetches), SUM(u.placeholders), SUM(u.fast_unpriced), MIN(u.first_ts), "
            f"MAX(u.last_ts), COUNT(DISTINCT u.session_id)")


def _row_sums(mode: str) -> str:
    if mode == "calculate":
        cost, unpriced = "u.cost", "CASE WHEN u.cost IS NULL THEN 1 ELSE 0 END"
    elif mode == "display":
        cost, unpriced = "COALESCE(u.line_cost, 0)", "0"
    else:
        cost, unpriced = "COALESCE(u.line_cost, u.cost)", "CASE WHEN u.line_cost IS NULL AND u.cost IS NULL THEN 1 ELSE 0 END"
    return (f"SUM(u.input), SUM(u.output), SUM(u.cache_5m), SUM(u.cache_1h), SUM(u.cache_read), COUNT(*), "
            f"SUM({cost}), SUM({unpriced}), SUM(CASE WHEN (u.flags & {SIDECHAIN}) <> 0 THEN {cost} ELSE 0 END), "
            f"SUM(u.searches), SUM(u.fetches), SUM(CASE WHEN (u.flags & {PLACEHOLDER}) <> 0 THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN (u.flags & {FAST_UNPRICED}) <> 0 THEN 1 ELSE 0 END), MIN(u.ts), MAX(u.ts), "
            f"COUNT(DISTINCT u.session_id)")


CELLS = _Source("usage_qh", "u.qh", lambda a, b: ("u.qh >= ? AND u.qh <= ?", [a, b]), _cell_sums)
HOURS = _Source("usage_h", "(u.hour * 4)", lambda a, b: ("u.hour >= ? AND u.hour <= ?", [a // 4, b // 4]),
                lambda mode: _cell_sums(mode).replace("COUNT(DISTINCT u.session_id)", "0"), (), "u.hour", lambda hour: hour * 4)
SESSION_SUMS = _Source("session_usage", "", lambda a, b: ("", []), _cell_sums)
ROWS = _Source("requests", f"(u.ts / {QUARTER_HOUR_US})",
               lambda a, b: ("u.ts >= ? AND u.ts < ?", [a * QUARTER_HOUR_US, (b + 1) * QUARTER_HOUR_US]),
               _row_sums, ("u.kept = 1",), "u.ts", lambda ts: ts // QUARTER_HOUR_US)


def _sums(row: Iterable[Any]) -> Sums:
    values = [0 if value is None and i not in (13, 14) else value for i, value in enumerate(row)]
    values[6] *= COST_UNIT
    values[8] *= COST_UNIT
    return Sums(*values)


# -- the selection: which cells, and their local time --------------------------------------------

@dataclass
class _Selection:
    """What a report sums: ``sql_from`` (the source ``u``; the zone's offsets ``o`` when they
    change over the span; a table ``tr`` of the label of each time unit for blocks), the WHERE conditions and
    their parameters, ``local`` (SQL of the local quarter hour, None without local time), the
    zone's ``segments`` over the span and its ``local_bounds`` (first and last local quarter
    hour); ``empty`` when nothing can match."""

    source: _Source
    sql_from: str
    where: list[str]
    params: list[Any]
    local: str | None = None
    segments: list[tuple[int, int, int]] = field(default_factory=list)
    local_bounds: tuple[int, int] = (0, 0)
    units: list[tuple[int, int]] = field(default_factory=list)
    empty: bool = False

    def prefix(self) -> str:
        """The WITH clause of the zone's offsets and the time units' labels, where they are joined."""
        tables = []
        if len(self.segments) > 1:
            rows = ", ".join(f"({a}, {b}, {offset})" for a, b, offset in self.segments)
            tables.append(f"zone_offsets (a, b, off) AS (VALUES {rows})")
        if self.units:
            rows = ", ".join(f"({unit}, {label})" for unit, label in self.units)
            tables.append(f"time_units (unit, label) AS (VALUES {rows})")
        return "WITH " + ", ".join(tables) + " " if tables else ""

    def clause(self, joins: str = "") -> str:
        """``FROM ... WHERE ...`` with extra ``joins`` (of ``u``)."""
        return f"FROM {self.sql_from}{joins}" + (" WHERE " + " AND ".join(self.where) if self.where else "")


def _select(view: Any, query: Query, needs_local: bool, source: _Source | None = None,
            units: list[tuple[int, int]] | None = None, hours_allowed: bool = False) -> _Selection:
    """What ``query`` selects. Without a time filter, local grouping or time units, the
    per-session sums serve (far fewer rows); else the quarter-hour cells (or ``source``), with
    the zone's offsets over the data's span as a small table ``o`` joined by range where the
    offset changes in it. ``units`` (``[(time in the source's unit, label)]``, in time order:
    every unit with requests that a group holds) adds ``tr.label`` for grouping by time range
    (blocks); it is joined by equality, which every engine's planner serves well."""
    where: list[str] = []
    params: list[Any] = []
    for column, table, value in (("project_id", "projects", query.project), ("model_id", "models", query.model),
                                 ("session_id", "sessions", query.session)):
        if value is not None:
            condition, names = name_condition(f"u.{column}", table, value)
            where.append(condition)
            params += names
    if query.user is not None:
        where.append(f"u.session_id IN ({_TEAM_SESSIONS} WHERE mc.user_name = ?)")
        params.append(query.user)
    if query.machine is not None:
        where.append(f"u.session_id IN ({_TEAM_SESSIONS} WHERE mc.name = ? OR mc.machine_key = ?)")
        params += [query.machine, query.machine]
    if query.sessions is not None:
        where.append(f"u.session_id IN (SELECT id FROM sessions WHERE name IN ({', '.join('?' * len(query.sessions))}))"
                     if query.sessions else "1 = 0")
        params += list(query.sessions)
    timed = (query.since or query.until or query.start_hour is not None or query.end_hour is not None
             or query.after_us is not None)
    if source is None:
        source = CELLS if needs_local or timed or units else SESSION_SUMS
    where += list(source.where)
    if source is SESSION_SUMS:
        return _Selection(source, "session_usage u", where, params)
    span = view.one("SELECT MIN(qh), MAX(qh) FROM usage_qh")
    if span is None or span[0] is None:
        return _Selection(source, f"{source.table} u", where, params, empty=True)
    first, last = span
    since = day_index(query.since) if query.since else None
    until = day_index(query.until) if query.until else None
    if since is not None:
        first = max(first, since * _QH_PER_DAY - _SLACK_QH)
    if until is not None:
        last = min(last, (until + 1) * _QH_PER_DAY + _SLACK_QH)
    if units:
        first, last = max(first, source.to_qh(units[0][0])), min(last, source.to_qh(units[-1][0] + 1) - 1)
    if query.after_us is not None:
        first = max(first, query.after_us // QUARTER_HOUR_US)
    if first > last:
        return _Selection(source, f"{source.table} u", where, params, empty=True)
    # Each row's time is bounded by the zone's offsets joined by range (when they change) or
    # by constants, never both, so that the index on time serves the range of each joined row
    # instead of the whole span for each.
    if hours_allowed and query.after_us is None:  # whole hours: the hourly rollup may serve
        first, last = first - first % 4, last - last % 4 + 3
    segments = zone_segments(query.clock.zone, first, last)
    if (hours_allowed and source is CELLS and not units and not query.by_session and query.after_us is None
            and all(offset % 4 == 0 for _a, _b, offset in segments)
            and all(start % 4 == 0 for start, _b, _offset in segments[1:])):
        # Whole-hour offsets changing on whole UTC hours: the hourly rollup (several times
        # fewer rows) gives the same local days and hours.
        source = HOURS
    tables = [f"{source.table} u"]
    local_needed = needs_local or timed
    if units:
        tables.insert(0, "time_units tr")
        where.append(f"{source.time} = tr.unit")
    if len(segments) == 1 or not local_needed:
        condition, bounds = source.time_filter(first, last)
        where.append(condition)
        params += bounds
    if len(segments) == 1:
        local = f"({source.qh} + {segments[0][2]})"
    elif local_needed:
        tables.insert(0, "zone_offsets o")
        where += [f"{source.qh} >= o.a", f"{source.qh} < o.b"]
        local = f"({source.qh} + o.off)"
    else:
        local = None
        segments = segments[:1]  # local time is not used
    if local is None:
        return _Selection(source, " CROSS JOIN ".join(tables), where, params, None, [], (first, last), list(units or ()))
    day = f"({local} / {_QH_PER_DAY})"
    for bound, sign in ((since, ">="), (until, "<=")):
        if bound is not None:
            where.append(f"{day} {sign} ?")
            params.append(bound)
    hour = f"(({local} % {_QH_PER_DAY}) / 4)"
    start, end = query.start_hour, query.end_hour
    if start is not None and end is not None and start > end:  # across midnight
        where.append(f"({hour} >= ? OR {hour} <= ?)")
        params += [start, end]
    else:
        for bound, sign in ((start, ">="), (end, "<=")):
            if bound is not None:
                where.append(f"{hour} {sign} ?")
                params.append(bound)
    return _Selection(source, " CROSS JOIN ".join(tables), where, params, local, segments,
                      (first + segments[0][2], last + segments[-1][2]), list(units or ()))


def selection(view: Any, query: Query, source: _Source | None = None, local: bool = False,
              hours: bool = False) -> _Selection:
    """What ``query`` selects, for a query of its own: the source table aliased ``u``
    (``source``: :data:`CELLS`, :data:`ROWS`, ...; None: the smallest that serves), its
    ``prefix()``, ``clause(joins)`` (``FROM ... WHERE ...``), ``params``, and with ``local``
    the SQL of the local quarter hour (``local``); ``empty`` when nothing can match. With
    ``hours`` and ``source`` :data:`CELLS`, the hourly rollup serves instead where it gives the
    same answer (``selection.source`` says which; its ``qh`` is the UTC quarter hour of either)."""
    return _select(view, query, local, source, None, hours)


# -- grouping -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Grouping:
    """What a report groups by: ``key(local, query, selection)`` gives the SQL of the group key
    (``local``: the SQL of the local quarter hour), ``label`` turns a key into its label,
    ``join`` is the join the key needs."""

    needs_local: bool
    key: Callable[[str | None, Query, _Selection], str]
    label: Callable[[Any], Hashable] = lambda value: value
    join: str = ""


def _month_key(local: str | None, query: Query, selection: _Selection) -> str:
    """A month number (year x 12 + month - 1) per cell: a ``CASE`` over the starts of the local
    months of the selected span."""
    first, last = selection.local_bounds
    start = date.fromisoformat(day_text(first // _QH_PER_DAY))
    year, month = start.year, start.month
    starts = []
    while True:
        starts.append((day_index(f"{year:04d}-{month:02d}-01") * _QH_PER_DAY, year * 12 + month - 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if starts[-1][0] > last:
            break
    branches = " ".join(f"WHEN {local} < {bound} THEN {label}" for (bound, _), (_, label) in zip(starts[1:], starts))
    return f"(CASE {branches} ELSE {starts[-1][1]} END)" if branches else str(starts[-1][1])


DAY = Grouping(True, lambda lq, q, s: f"({lq} / {_QH_PER_DAY})", day_text)
WEEK = Grouping(True, lambda lq, q, s: (f"(({lq} / {_QH_PER_DAY}) - ((({lq} / {_QH_PER_DAY}) + 10 - {q.first_weekday}) % 7))"),
                day_text)
MONTH = Grouping(True, _month_key, lambda value: f"{value // 12:04d}-{value % 12 + 1:02d}")
HOUR = Grouping(True, lambda lq, q, s: f"(({lq} % {_QH_PER_DAY}) / 4)")
DAY_HOUR = Grouping(True, lambda lq, q, s: f"({lq} / 4)", lambda value: (day_text(value // 24), value % 24))
MODEL = Grouping(False, lambda lq, q, s: "u.model_id")
PROJECT = Grouping(False, lambda lq, q, s: "p.name", join=" JOIN projects p ON p.id = u.project_id")
SESSION = Grouping(False, lambda lq, q, s: "s.name", join=" JOIN sessions s ON s.id = u.session_id")
FILE = Grouping(False, lambda lq, q, s: "f.path", join=" JOIN files f ON f.id = u.file_id")
TIME_RANGE = Grouping(False, lambda lq, q, s: "tr.label")
_MACHINE_JOIN = " JOIN sessions us ON us.id = u.session_id JOIN machines mc ON mc.id = us.machine_id"
USER = Grouping(False, lambda lq, q, s: "mc.user_name", join=_MACHINE_JOIN)  # team store only
MACHINE = Grouping(False, lambda lq, q, s: "mc.machine_key", join=_MACHINE_JOIN)
ALL = Grouping(False, lambda lq, q, s: "0")


def grouped(view: Any, query: Query, grouping: Grouping, by_model: bool = False, source: _Source | None = None,
            units: list[tuple[int, int]] | None = None) -> dict[Hashable, Totals]:
    """Totals per group of what ``query`` selects (per-model sub-totals with ``by_model``);
    groups without requests are absent. Queries: the sums per group and model, the distinct
    sessions per group and per group and model (from the hourly presence table when the hourly
    rollup serves); for sessions and the overall total, their projects."""
    hours_allowed = source is None and grouping not in (SESSION, FILE, TIME_RANGE, USER, MACHINE)
    selection = _select(view, query, grouping.needs_local, source, units, hours_allowed)
    if selection.empty:
        return {}
    key = grouping.key(selection.local, query, selection)
    models = dict(view.rows("SELECT id, name FROM models"))
    clause = selection.clause(grouping.join)
    by_key = "" if grouping is ALL else f" GROUP BY {key}"  # a constant is no GROUP BY term
    then = f"{by_key}, u.model_id" if by_key else " GROUP BY u.model_id"
    prefix = selection.prefix()
    rows = view.rows(f"{prefix}SELECT {key}, u.model_id, {selection.source.sums(query.mode)} {clause}{then}",
                     selection.params)
    presence = selection.clause(grouping.join).replace(f"{selection.source.table} u", "session_h u", 1) \
        if selection.source is HOURS else clause
    sessions = dict(view.rows(f"{prefix}SELECT {key}, COUNT(DISTINCT u.session_id) {presence}{by_key}", selection.params))
    per_model = {}
    if selection.source is HOURS and (by_model or grouping is MODEL):
        per_model = {(k, m): n for k, m, n in view.rows(
            f"{prefix}SELECT {key}, u.model_id, COUNT(DISTINCT u.session_id) {presence}{then}", selection.params)}
    groups: dict[Hashable, Totals] = {}
    for row in rows:
        label = models[row[0]] if grouping is MODEL else grouping.label(row[0])
        model = models[row[1]]
        totals = groups.get(label)
        if totals is None:
            totals = groups[label] = Totals(sessions=sessions.get(row[0], 0), by_model={} if by_model else None)
        sums = _sums(row[2:])
        if per_model:
            sums.sessions = per_model.get((row[0], row[1]), 0)
        totals.add_sums(sums, model)
        if by_model:
            sub = totals.by_model.setdefault(model, Totals(sessions=sums.sessions))  # type: ignore[union-attr]
            sub.add_sums(sums, model)
    if grouping in (SESSION, ALL, FILE, TIME_RANGE):
        project_join = grouping.join if "projects p" in grouping.join else grouping.join + " JOIN projects p ON p.id = u.project_id"
        for value, project in view.rows(f"{prefix}SELECT DISTINCT {key}, p.name {selection.clause(project_join)}",
                                        selection.params):
            label = grouping.label(value)
            if label in groups:
                groups[label].projects.add(project)
    return groups


def overall(view: Any, query: Query, by_model: bool = False) -> Totals:
    """One :class:`Totals` over every selected request."""
    return grouped(view, query, ALL, by_model).get(0) or Totals(by_model={} if by_model else None)


def _ordered(groups: dict, order: str = "asc") -> list[tuple[Hashable, Totals]]:
    return sorted(groups.items(), key=lambda item: item[0], reverse=order == "desc")


def daily(view: Any, query: Query, order: str = "asc", by_model: bool = False) -> list[tuple[str, Totals]]:
    """``(local date YYYY-MM-DD, totals)`` per day with usage, in date order."""
    return _ordered(grouped(view, query, DAY, by_model), order)  # type: ignore[return-value]


def weekly(view: Any, query: Query, order: str = "asc", by_model: bool = False) -> list[tuple[str, Totals]]:
    """``(first day of the week YYYY-MM-DD, totals)`` per week; weeks start on
    ``query.first_weekday`` (0 = Monday, the default)."""
    return _ordered(grouped(view, query, WEEK, by_model), order)  # type: ignore[return-value]


def monthly(view: Any, query: Query, order: str = "asc", by_model: bool = False) -> list[tuple[str, Totals]]:
    """``(local month YYYY-MM, totals)`` per month with usage."""
    return _ordered(grouped(view, query, MONTH, by_model), order)  # type: ignore[return-value]


def hourly(view: Any, query: Query, by_model: bool = False) -> list[Totals]:
    """24 totals, one per local hour 0-23 (zero-filled), over the selected days."""
    groups = grouped(view, query, HOUR, by_model)
    return [groups.get(hour) or Totals(by_model={} if by_model else None) for hour in range(24)]


def heatmap(view: Any, query: Query) -> list[tuple[tuple[str, int], Totals]]:
    """``((local date, local hour), totals)`` for every day x hour cell with usage, in order."""
    return _ordered(grouped(view, query, DAY_HOUR))  # type: ignore[return-value]


def by_models(view: Any, query: Query) -> dict[str, Totals]:
    """Totals per model id."""
    return grouped(view, query, MODEL)  # type: ignore[return-value]


def by_projects(view: Any, query: Query, by_model: bool = False) -> dict[str, Totals]:
    """Totals per project key (the directory under ``projects/``)."""
    return grouped(view, query, PROJECT, by_model)  # type: ignore[return-value]


def by_sessions(view: Any, query: Query, by_model: bool = False) -> dict[str, Totals]:
    """Totals per session id."""
    return grouped(view, query, SESSION, by_model)  # type: ignore[return-value]


def today_and_month(view: Any, query: Query) -> tuple[Totals, Totals, Totals]:
    """``(all, today, this month)`` totals of the selection; today and this month are in the
    query's zone (and within its date filters)."""
    import calendar
    from dataclasses import replace

    today = query.clock.today()
    year, month = int(today[:4]), int(today[5:7])
    month_end = f"{today[:8]}{calendar.monthrange(year, month)[1]:02d}"

    def within(since: str, until: str) -> Totals:
        since, until = max(since, query.since or since), min(until, query.until or until)
        return overall(view, replace(query, since=since, until=until))

    return overall(view, query), within(today, today), within(today[:8] + "01", month_end)


def activity(view: Any, query: Query, source: _Source) -> list[tuple[int, int, int]]:
    """The selected requests as a time series, in time order: ``(time, first, last)`` per
    quarter hour with requests (``CELLS``: ``time`` in quarter hours), per hour (``HOURS``) or
    per request (``ROWS``: ``time`` in microseconds); ``first`` and ``last`` are UTC
    microseconds."""
    selection = _select(view, query, False, source)
    if selection.empty:
        return []
    if source is ROWS:
        return view.rows(f"{selection.prefix()}SELECT u.ts, u.ts, u.ts {selection.clause()} ORDER BY u.ts",
                         selection.params)
    return view.rows(f"{selection.prefix()}SELECT {source.time}, MIN(u.first_ts), MAX(u.last_ts) {selection.clause()} "
                     f"GROUP BY {source.time} ORDER BY {source.time}", selection.params)


def limit_notices(view: Any, first_us: int, last_us: int) -> list[tuple[int, int | None]]:
    """``(time, reset time or None)`` of the usage-limit messages between two UTC instants
    (microseconds), each once (copies share time and text), in time order."""
    return view.rows("SELECT DISTINCT ts, reset_us, text FROM limit_notices WHERE ts >= ? AND ts <= ? ORDER BY ts",
                     (first_us, last_us))


def session_page(view: Any, query: Query, sort: str, descending: bool, offset: int,
                 limit: int) -> tuple[int, list[tuple[str, Totals]]]:
    """One page of the sessions ``query`` selects, sorted in SQL by ``sort`` (``lastActivity``,
    ``cost`` or ``totalTokens``; then by session id): ``(number of sessions, [(session id,
    totals with per-model sub-totals)])``. Only the page's sessions are summed in full."""
    from dataclasses import replace

    selection = _select(view, query, False)
    if selection.empty:
        return 0, []
    order = {"lastActivity": "MAX(u.last_ts)", "cost": f"SUM({_cell_cost(query.mode)[0]})",
             "totalTokens": "SUM(u.input + u.output + u.cache_5m + u.cache_1h + u.cache_read)"}[sort]
    direction = "DESC" if descending else "ASC"
    clause = selection.clause(" JOIN sessions s ON s.id = u.session_id")
    count = view.one(f"{selection.prefix()}SELECT COUNT(DISTINCT u.session_id) {selection.clause()}", selection.params)[0]
    names = [row[0] for row in view.rows(
        f"{selection.prefix()}SELECT s.name {clause} GROUP BY s.name ORDER BY {order} {direction}, s.name {direction} "
        f"LIMIT ? OFFSET ?", [*selection.params, limit, offset])]
    groups = grouped(view, replace(query, sessions=tuple(names)), SESSION, by_model=True)
    return count, [(name, groups[name]) for name in names if name in groups]
