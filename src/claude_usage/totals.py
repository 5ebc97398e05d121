"""The result rows of the report queries: :class:`Totals` (a group's sums) and :class:`Sums`
(one query row), the unit every report, table and JSON row is made of (DESIGN section 8)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Totals:
    """The sums of a group of kept requests, as a report row needs them.

    Tokens are counts; ``cost_usd`` sums the known costs (USD) of ``priced_requests``;
    ``unpriced_requests`` counts requests whose cost is unknown (no price for their model) under
    the query's cost mode; ``sidechain_cost_usd`` is the known cost of subagent (sidechain)
    requests; ``sessions`` counts distinct sessions; ``first_ts_us``/``last_ts_us`` are UTC
    microseconds. DESIGN section 5's counts: ``web_search_requests``, ``web_fetch_requests``,
    ``placeholder_output_requests``, ``fast_unpriced_requests`` (their models in
    ``fast_unpriced_models``). ``by_model`` holds per-model sub-totals when asked.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_5m_tokens: int = 0
    cache_creation_1h_tokens: int = 0
    cache_read_tokens: int = 0
    requests: int = 0
    cost_usd: float = 0.0
    unpriced_requests: int = 0
    sidechain_cost_usd: float = 0.0
    web_search_requests: int = 0
    web_fetch_requests: int = 0
    placeholder_output_requests: int = 0
    fast_unpriced_requests: int = 0
    sessions: int = 0
    models: set[str] = field(default_factory=set)
    unpriced_models: set[str] = field(default_factory=set)
    fast_unpriced_models: set[str] = field(default_factory=set)
    projects: set[str] = field(default_factory=set)
    first_ts_us: int | None = None
    last_ts_us: int | None = None
    by_model: dict[str, "Totals"] | None = None

    @property
    def priced_requests(self) -> int:
        """Requests whose cost is known."""
        return self.requests - self.unpriced_requests

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

    def add_sums(self, sums: "Sums", model: str) -> None:
        """Add one model's sums (from a query row) to this group."""
        for name in _ADDED:
            setattr(self, name, getattr(self, name) + getattr(sums, name))
        self.models.add(model)
        if sums.unpriced_requests:
            self.unpriced_models.add(model)
        if sums.fast_unpriced_requests:
            self.fast_unpriced_models.add(model)
        self.widen(sums.first_ts_us, sums.last_ts_us)

    def widen(self, *stamps: int | None) -> None:
        """Make the first and last times cover ``stamps`` (UTC microseconds; None is skipped)."""
        for stamp in stamps:
            if stamp is not None:
                self.first_ts_us = stamp if self.first_ts_us is None else min(self.first_ts_us, stamp)
                self.last_ts_us = stamp if self.last_ts_us is None else max(self.last_ts_us, stamp)


_ADDED = ("input_tokens", "output_tokens", "cache_creation_5m_tokens", "cache_creation_1h_tokens", "cache_read_tokens",
          "requests", "cost_usd", "unpriced_requests", "sidechain_cost_usd", "web_search_requests",
          "web_fetch_requests", "placeholder_output_requests", "fast_unpriced_requests")


@dataclass
class Sums:
    """One row of a report query: the sums of the Totals fields in :data:`_ADDED`, the first
    and last times, and the distinct sessions of the row's model."""

    input_tokens: int
    output_tokens: int
    cache_creation_5m_tokens: int
    cache_creation_1h_tokens: int
    cache_read_tokens: int
    requests: int
    cost_usd: float
    unpriced_requests: int
    sidechain_cost_usd: float
    web_search_requests: int
    web_fetch_requests: int
    placeholder_output_requests: int
    fast_unpriced_requests: int
    first_ts_us: int | None
    last_ts_us: int | None
    sessions: int


def summed(parts: list[Totals]) -> Totals:
    """One :class:`Totals` adding up the token, request and cost sums of ``parts`` (groups that
    do not overlap) and uniting their model and project sets; distinct session counts cannot be
    added, so ``sessions`` is left 0 (query the union for it)."""
    total = Totals()
    for part in parts:
        for name in _ADDED:
            setattr(total, name, getattr(total, name) + getattr(part, name))
        for name in ("models", "unpriced_models", "fast_unpriced_models", "projects"):
            getattr(total, name).update(getattr(part, name))
        total.widen(part.first_ts_us, part.last_ts_us)
    return total
