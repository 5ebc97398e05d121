"""Aggregates of the request set: by day, week, month, hour, model, project and session.

All of them are groupings of the same filtered selection of one :class:`~claude_usage.loader.Dataset`
(DESIGN section 1), so they always agree: the sum over days equals the sum over models, projects
and sessions, and equals the total.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable, Hashable, Iterable, Iterator

from claude_usage.loader import Dataset
from claude_usage.records import UsageRecord
from claude_usage.timebuckets import LocalClock, local_zone_name, resolve_zone, week_start

_CLOCKS: dict[str, LocalClock] = {}


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
    ``until``: inclusive local dates ``YYYY-MM-DD``; ``project``: project key; ``model``: exact
    model id; ``mode``: cost mode; ``start_hour``/``end_hour``: inclusive local hours 0-23 (a start after the end is a range
    across midnight);
    ``session``: one session id; ``first_weekday``: the first day of a week (0 = Monday).
    """

    zone: str | None = None
    since: str | None = None
    until: str | None = None
    project: str | None = None
    model: str | None = None
    mode: str = "auto"
    start_hour: int | None = None
    end_hour: int | None = None
    first_weekday: int = 0
    session: str | None = None

    @property
    def clock(self) -> LocalClock:
        """The clock of this query's zone."""
        return clock_for(self.zone)


class Totals:
    """Running sums of a group of requests.

    Tokens are counts; ``cost_usd`` sums the known costs (USD) of ``priced_requests``;
    ``unpriced_requests`` counts requests whose cost is unknown (no price for their model);
    ``sidechain_cost_usd`` is the known cost of subagent (sidechain) requests; ``first_ts_us``
    and ``last_ts_us`` are UTC microseconds. ``by_model`` holds per-model sub-totals when asked.
    Counts of DESIGN section 5: ``web_search_requests`` and ``web_fetch_requests`` (server tool
    uses of the kept snapshots), ``placeholder_output_requests`` (output count a streaming
    placeholder), ``fast_unpriced_requests`` (fast mode priced at the standard rate, their
    models in ``fast_unpriced_models``).
    """

    __slots__ = (
        "input_tokens",
        "output_tokens",
        "cache_creation_5m_tokens",
        "cache_creation_1h_tokens",
        "cache_read_tokens",
        "requests",
        "cost_usd",
        "priced_requests",
        "unpriced_requests",
        "sidechain_cost_usd",
        "web_search_requests",
        "web_fetch_requests",
        "placeholder_output_requests",
        "fast_unpriced_requests",
        "fast_unpriced_models",
        "session_ids",
        "models",
        "unpriced_models",
        "projects",
        "first_ts_us",
        "last_ts_us",
        "by_model",
    )

    def __init__(self, by_model: bool = False):
        self.input_tokens = self.output_tokens = 0
        self.cache_creation_5m_tokens = self.cache_creation_1h_tokens = self.cache_read_tokens = 0
        self.requests = self.priced_requests = self.unpriced_requests = 0
        self.cost_usd = self.sidechain_cost_usd = 0.0
        self.web_search_requests = self.web_fetch_requests = 0
        self.placeholder_output_requests = self.fast_unpriced_requests = 0
        self.fast_unpriced_models: set[str] = set()
        self.session_ids: set[str] = set()
        self.models: set[str] = set()
        self.unpriced_models: set[str] = set()
        self.projects: set[str] = set()
        self.first_ts_us: int | None = None
        self.last_ts_us: int | None = None
        self.by_model: dict[str, Totals] | None = {} if by_model else None

    def add(self, record: UsageRecord, cost: float | None) -> None:
        """Add one request with its cost in USD (None = unknown)."""
        self.input_tokens += record.input_tokens
        self.output_tokens += record.output_tokens
        self.cache_creation_5m_tokens += record.cache_creation_5m_tokens
        self.cache_creation_1h_tokens += record.cache_creation_1h_tokens
        self.cache_read_tokens += record.cache_read_tokens
        self.requests += 1
        self.web_search_requests += record.web_search_requests
        self.web_fetch_requests += record.web_fetch_requests
        if record.placeholder:
            self.placeholder_output_requests += 1
        if record.fast_unpriced:
            self.fast_unpriced_requests += 1
            self.fast_unpriced_models.add(record.model)
        if cost is None:
            self.unpriced_requests += 1
            self.unpriced_models.add(record.model)
        else:
            self.priced_requests += 1
            self.cost_usd += cost
            if record.sidechain:
                self.sidechain_cost_usd += cost
        self.session_ids.add(record.session_id)
        self.models.add(record.model)
        self.projects.add(record.project)
        ts = record.ts_us
        if self.first_ts_us is None:
            self.first_ts_us = self.last_ts_us = ts
        elif ts > self.last_ts_us:  # type: ignore[operator]
            self.last_ts_us = ts
        elif ts < self.first_ts_us:
            self.first_ts_us = ts
        if self.by_model is not None:
            sub = self.by_model.get(record.model)
            if sub is None:
                sub = self.by_model[record.model] = Totals()
            sub.add(record, cost)

    def merge(self, other: "Totals") -> None:
        """Add another group's sums into this one (per-model sub-totals are not merged)."""
        for name in ("input_tokens", "output_tokens", "cache_creation_5m_tokens", "cache_creation_1h_tokens",
                     "cache_read_tokens", "requests", "priced_requests", "unpriced_requests", "cost_usd",
                     "sidechain_cost_usd", "web_search_requests", "web_fetch_requests",
                     "placeholder_output_requests", "fast_unpriced_requests"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("session_ids", "models", "unpriced_models", "projects", "fast_unpriced_models"):
            getattr(self, name).update(getattr(other, name))
        for stamp in (other.first_ts_us, other.last_ts_us):
            if stamp is not None:
                self.first_ts_us = stamp if self.first_ts_us is None else min(self.first_ts_us, stamp)
                self.last_ts_us = stamp if self.last_ts_us is None else max(self.last_ts_us, stamp)

    @property
    def cache_creation_tokens(self) -> int:
        """Cache-write tokens (5m + 1h)."""
        return self.cache_creation_5m_tokens + self.cache_creation_1h_tokens

    @property
    def total_tokens(self) -> int:
        """Input + output + cache creation + cache read tokens."""
        return self.input_tokens + self.output_tokens + self.cache_creation_tokens + self.cache_read_tokens

    @property
    def known_cost_usd(self) -> float | None:
        """The summed cost in USD, None when the group has requests and none has a known cost."""
        if self.requests and not self.priced_requests:
            return None
        return self.cost_usd

    @property
    def cache_hit_ratio(self) -> float:
        """Cache read / (input + cache creation + cache read); 0 when there is no input."""
        denominator = self.input_tokens + self.cache_creation_tokens + self.cache_read_tokens
        return self.cache_read_tokens / denominator if denominator else 0.0


def select(dataset: Dataset, query: Query) -> Iterator[tuple[UsageRecord, float | None, str, int]]:
    """The requests that pass ``query``'s filters, as ``(record, cost USD or None, local date,
    local hour)`` in time order."""
    clock = query.clock
    rows = zip(dataset.records, dataset.costs(query.mode), dataset.local_parts(clock))
    since, until = query.since, query.until
    project, model, session = query.project, query.model, query.session
    start_hour, end_hour = query.start_hour, query.end_hour
    if since is until is project is model is session is start_hour is end_hour is None:
        for record, cost, (day, hour) in rows:
            yield record, cost, day, hour
        return
    for record, cost, (day, hour) in rows:
        if since is not None and day < since:
            continue
        if until is not None and day > until:
            continue
        if project is not None and record.project != project:
            continue
        if model is not None and record.model != model:
            continue
        if session is not None and record.session_id != session:
            continue
        if start_hour is not None and end_hour is not None and start_hour > end_hour:
            if end_hour < hour < start_hour:  # a range across midnight: 22-2 is 22, 23, 0, 1, 2
                continue
        elif (start_hour is not None and hour < start_hour) or (end_hour is not None and hour > end_hour):
            continue
        yield record, cost, day, hour


KeyFunction = Callable[[UsageRecord, str, int], Hashable]


def group(dataset: Dataset, query: Query, key: KeyFunction, by_model: bool = False) -> dict[Hashable, Totals]:
    """Totals per ``key(record, local date, local hour)`` over the selected requests."""
    groups: dict[Hashable, Totals] = {}
    get = groups.get
    for record, cost, day, hour in select(dataset, query):
        k = key(record, day, hour)
        totals = get(k)
        if totals is None:
            totals = groups[k] = Totals(by_model)
        totals.add(record, cost)
    return groups


def combined(groups: Iterable[Totals]) -> Totals:
    """One :class:`Totals` summing ``groups`` (which partition a selection)."""
    total = Totals()
    for totals in groups:
        total.merge(totals)
    return total


def overall(dataset: Dataset, query: Query, by_model: bool = False) -> Totals:
    """One :class:`Totals` over every selected request."""
    totals = Totals(by_model)
    for record, cost, _day, _hour in select(dataset, query):
        totals.add(record, cost)
    return totals


def _ordered(groups: dict, order: str = "asc") -> list[tuple[Hashable, Totals]]:
    return sorted(groups.items(), key=lambda item: item[0], reverse=order == "desc")


def today_and_month(dataset: Dataset, query: Query) -> tuple[Totals, Totals, Totals]:
    """``(all, today, this month)`` totals of the selection; today and this month are in the
    query's zone."""
    today = query.clock.today()
    total, today_totals, month_totals = Totals(), Totals(), Totals()
    for day, t in daily(dataset, query):
        total.merge(t)
        if day == today:
            today_totals.merge(t)
        if day[:7] == today[:7]:
            month_totals.merge(t)
    return total, today_totals, month_totals


def daily(dataset: Dataset, query: Query, order: str = "asc", by_model: bool = False) -> list[tuple[str, Totals]]:
    """``(local date YYYY-MM-DD, totals)`` per day with usage, in date order."""
    return _ordered(group(dataset, query, lambda r, d, h: d, by_model), order)  # type: ignore[return-value]


def week_key(first_weekday: int = 0) -> KeyFunction:
    """A key function giving the first day (``YYYY-MM-DD``) of a request's local week; weeks
    start on ``first_weekday`` (0 = Monday)."""
    starts: dict[str, str] = {}

    def week_of(_record: UsageRecord, day: str, _hour: int) -> str:
        found = starts.get(day)
        if found is None:
            found = starts[day] = week_start(date.fromisoformat(day), first_weekday).isoformat()
        return found

    return week_of


def weekly(dataset: Dataset, query: Query, order: str = "asc", by_model: bool = False) -> list[tuple[str, Totals]]:
    """``(first day of the week YYYY-MM-DD, totals)`` per week; weeks start on
    ``query.first_weekday`` (0 = Monday, the default)."""
    return _ordered(group(dataset, query, week_key(query.first_weekday), by_model), order)  # type: ignore[return-value]


def monthly(dataset: Dataset, query: Query, order: str = "asc", by_model: bool = False) -> list[tuple[str, Totals]]:
    """``(local month YYYY-MM, totals)`` per month with usage."""
    return _ordered(group(dataset, query, lambda r, d, h: d[:7], by_model), order)  # type: ignore[return-value]


def hourly(dataset: Dataset, query: Query, by_model: bool = False) -> list[Totals]:
    """24 totals, one per local hour 0-23 (zero-filled), over the selected days."""
    groups = group(dataset, query, lambda r, d, h: h, by_model)
    return [groups.get(hour) or Totals(by_model) for hour in range(24)]


def heatmap(dataset: Dataset, query: Query) -> list[tuple[tuple[str, int], Totals]]:
    """``((local date, local hour), totals)`` for every day x hour cell with usage, in order."""
    return _ordered(group(dataset, query, lambda r, d, h: (d, h)))  # type: ignore[return-value]


def by_models(dataset: Dataset, query: Query) -> dict[str, Totals]:
    """Totals per model id."""
    return group(dataset, query, lambda r, d, h: r.model)  # type: ignore[return-value]


def by_projects(dataset: Dataset, query: Query, by_model: bool = False) -> dict[str, Totals]:
    """Totals per project key (the directory under ``projects/``)."""
    return group(dataset, query, lambda r, d, h: r.project, by_model)  # type: ignore[return-value]


def by_sessions(dataset: Dataset, query: Query, by_model: bool = False) -> dict[str, Totals]:
    """Totals per session id."""
    return group(dataset, query, lambda r, d, h: r.session_id, by_model)  # type: ignore[return-value]
