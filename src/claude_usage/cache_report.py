"""Prompt-cache analytics (issue 15, item 4): hit ratio, the 5m / 1h write mix, what caching saved
and what the 1-hour writes cost extra, per local day, model or project.

One SQL aggregate over the rollups (the hourly rollup where it serves, else the quarter-hour
cells; :func:`claude_usage.reports.selection`), grouped by the report's key, the model, the UTC
day and the fast-mode bit, so that every row of the answer has one set of rates: the rates of
that model on that UTC day for that speed, from the product's one pricing function
(:meth:`claude_usage.pricing.Pricer.rates`; the package's prices have history, DESIGN 5). The
few rows are then priced in Python (a handful per group, never per request) and summed per group.

The rules (DESIGN 8 and 5):

- hit ratio = cache read / (input + cache creation (5m + 1h) + cache read); 0 without input;
- 1h share = 1h cache-write tokens / all cache-write tokens; 0 without writes;
- saved = the cache-read tokens at the input rate minus the same tokens at the cache-read rate;
- 1h extra = the 1h cache-write tokens at the 1h write rate minus the same tokens at the 5m
  write rate.

Where the sums are exact and where they are not. Token counts and ratios are exact. The money is
exact for every request priced at its model's base rates, which is every request but two kinds
the rollups cannot tell apart, whose savings and 1h extra are computed at the base rates:

- requests above a long-context threshold (``input + cache creation + cache read`` above
  200,000 tokens on a model with a tier that day: Sonnet 4.5, Opus / Sonnet 4.6 before
  2026-03-13; only with a 1M-token context, since Claude Code's default window is 200k): the
  cells keep sums, not each request's context size, so their savings are understated by the
  tier's ratio (2x on Anthropic's input-side rates). The models with such a tier in the
  selection are named (``long_context_models``) so that the answer says so;
- requests with ``inference_geo == "us"`` (1.1x on every rate): the rollups' kind holds the
  sidechain and fast bits only, so these are at the global rates (10% low).

Models without a price have no savings (unknown, not zero): their requests are counted in
``unpriced_requests`` and named in ``unpriced_models``. The cost mode does not apply: savings
are what the tokens would have cost at list rates, whatever the lines logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Hashable

from claude_usage import reports
from claude_usage.reports import Query
from claude_usage.rows import usd
from claude_usage.store.schema import FAST

GROUPINGS = {"day": reports.DAY, "model": reports.MODEL, "project": reports.PROJECT}
KEY_NAMES = {"day": "date", "model": "model", "project": "project"}
_DAY_US = 86_400_000_000
_MILLION = 1_000_000


@dataclass
class CacheStats:
    """The cache sums of one group: token counts (input is uncached input), ``requests``,
    ``saved_usd`` and ``one_hour_extra_usd`` (USD, priced requests only; see the module
    docstring), ``unpriced_requests`` (of models without a price: no savings known) and the
    models of each kind."""

    input_tokens: int = 0
    cache_creation_5m_tokens: int = 0
    cache_creation_1h_tokens: int = 0
    cache_read_tokens: int = 0
    requests: int = 0
    saved_usd: float = 0.0
    one_hour_extra_usd: float = 0.0
    unpriced_requests: int = 0
    models: set[str] = field(default_factory=set)
    unpriced_models: set[str] = field(default_factory=set)
    long_context_models: set[str] = field(default_factory=set)

    @property
    def cache_creation_tokens(self) -> int:
        """Cache-write tokens, 5m + 1h."""
        return self.cache_creation_5m_tokens + self.cache_creation_1h_tokens

    @property
    def hit_ratio(self) -> float:
        """Cache read / (input + cache creation + cache read), 0-1; 0 without input."""
        whole = self.input_tokens + self.cache_creation_tokens + self.cache_read_tokens
        return self.cache_read_tokens / whole if whole else 0.0

    @property
    def one_hour_share(self) -> float:
        """1h cache-write tokens / all cache-write tokens, 0-1; 0 without writes."""
        written = self.cache_creation_tokens
        return self.cache_creation_1h_tokens / written if written else 0.0

    def _known(self, value: float) -> float | None:
        return None if self.requests and self.unpriced_requests == self.requests else usd(value)

    def add(self, other: "CacheStats") -> None:
        """Add another group's sums to this one."""
        for name in ("input_tokens", "cache_creation_5m_tokens", "cache_creation_1h_tokens", "cache_read_tokens",
                     "requests", "saved_usd", "one_hour_extra_usd", "unpriced_requests"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.models |= other.models
        self.unpriced_models |= other.unpriced_models
        self.long_context_models |= other.long_context_models

    def row(self) -> dict[str, Any]:
        """The JSON row (camelCase): ``inputTokens``, ``cacheCreation5mTokens``,
        ``cacheCreation1hTokens``, ``cacheCreationTokens``, ``cacheReadTokens``, ``hitRatio``,
        ``oneHourShare`` (0-1), ``savedUsd``, ``oneHourExtraUsd`` (USD; null when no request
        of the row has a price), ``requests``, ``unpricedRequests``, ``modelsUsed``."""
        return {
            "inputTokens": self.input_tokens,
            "cacheCreation5mTokens": self.cache_creation_5m_tokens,
            "cacheCreation1hTokens": self.cache_creation_1h_tokens,
            "cacheCreationTokens": self.cache_creation_tokens,
            "cacheReadTokens": self.cache_read_tokens,
            "hitRatio": round(self.hit_ratio, 9),
            "oneHourShare": round(self.one_hour_share, 9),
            "savedUsd": self._known(self.saved_usd),
            "oneHourExtraUsd": self._known(self.one_hour_extra_usd),
            "requests": self.requests,
            "unpricedRequests": self.unpriced_requests,
            "modelsUsed": sorted(self.models),
        }


@dataclass
class CacheReport:
    """``groups`` (key -> :class:`CacheStats`: local date ``YYYY-MM-DD``, model id or project
    key) and their ``total``."""

    groups: dict[Hashable, CacheStats]
    total: CacheStats


class ViewRates:
    """The resolved rates kept in the embedded store (its ``rates`` table), read through a view,
    for a :class:`~claude_usage.pricing.Pricer`'s ``store``: a report prices what the last
    refresh resolved without importing the price package. Read-only: rates it lacks are
    resolved from the package and not written back."""

    def __init__(self, view: Any):
        self.view = view

    def get_rates(self, key: str) -> tuple[bool, object]:
        """``(found, rates)`` for a key of :meth:`~claude_usage.pricing.Pricer.rates`."""
        from claude_usage.pricing_rates import rates_from_json

        row = self.view.one("SELECT data FROM rates WHERE key = ?", (key,))
        return (False, None) if row is None else (True, rates_from_json(row[0]))

    def put_rates(self, key: str, rates: object) -> None:
        """Nothing: a report does not write."""


def cache_report(view: Any, query: Query, by: str, pricer: Any) -> CacheReport:
    """The cache analytics of what ``query`` selects, per ``by`` (``day``: local date in the
    query's zone; ``model``: model id; ``project``: project key), with ``pricer`` (a
    :class:`~claude_usage.pricing.Pricer`) giving each model's rates per UTC day and speed.

    One query over the rollups grouped by key, model, UTC day and fast-mode bit (see the module
    docstring for the rules and where the money is approximate). Groups without requests are
    absent. Raises ``KeyError`` for another ``by``."""
    grouping = GROUPINGS[by]
    total = CacheStats()
    chosen = reports.selection(view, query, reports.CELLS, grouping.needs_local, hours=True)
    if chosen.empty:
        return CacheReport({}, total)
    key = grouping.key(chosen.local, query, chosen)
    utc_day = f"({chosen.source.qh} / 96)"
    models = dict(view.rows("SELECT id, name FROM models"))
    rows = view.rows(
        f"{chosen.prefix()}SELECT {key}, u.model_id, {utc_day}, (u.kind & {FAST}), SUM(u.input), SUM(u.cache_5m), "
        f"SUM(u.cache_1h), SUM(u.cache_read), SUM(u.requests) {chosen.clause(grouping.join)} GROUP BY 1, 2, 3, 4",
        chosen.params)
    groups: dict[Hashable, CacheStats] = {}
    for group_key, model_id, day, fast, input_tokens, write_5m, write_1h, read, requests in rows:
        model = models[model_id]
        part = CacheStats(input_tokens, write_5m, write_1h, read, requests, models={model})
        rates = pricer.rates(model, day * _DAY_US, "fast" if fast else None)
        if rates is None:
            part.unpriced_requests = requests
            part.unpriced_models.add(model)
        else:
            part.saved_usd = read * (rates.input.base - rates.cache_read.base) / _MILLION
            part.one_hour_extra_usd = write_1h * (rates.cache_write_1h.base - rates.cache_write_5m.base) / _MILLION
            if rates.flat is None:  # a long-context tier that day: see the module docstring
                part.long_context_models.add(model)
        label = model if grouping is reports.MODEL else grouping.label(group_key)
        groups.setdefault(label, CacheStats()).add(part)
        total.add(part)
    return CacheReport(groups, total)


def report_document(report: CacheReport, query: Query, by: str, view: Any = None) -> dict[str, Any]:
    """The JSON answer of a cache report (CLI ``--json`` and ``/api/v2/cache``): ``{by, data:
    [{<date|model|project>, ...row}], totals, timezone, unpricedModels, longContextModels}``;
    days in date order, models and projects by savings (highest first, then by name). Project
    rows also have ``path`` (the real path from the transcripts, read through ``view``; None
    without it or when unknown)."""
    name = KEY_NAMES[by]
    items = list(report.groups.items())
    if by == "day":
        items.sort(key=lambda item: item[0])
    else:
        items.sort(key=lambda item: (-item[1].saved_usd, item[0]))
    data = [{name: key, **stats.row()} for key, stats in items]
    if by == "project":
        from claude_usage.store import facts

        paths = facts.project_paths(view, [row["project"] for row in data]) if view is not None and data else {}
        for row in data:
            row["path"] = paths.get(row["project"])
    return {
        "by": by,
        "data": data,
        "totals": report.total.row(),
        "timezone": query.clock.name,
        "unpricedModels": sorted(report.total.unpriced_models),
        "longContextModels": sorted(report.total.long_context_models),
    }
