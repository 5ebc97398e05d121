"""USD cost of a request: rates from ``genai-prices``, the price corrections, the long-context
rule, web search fees and cost modes.

DESIGN section 5. Rates are resolved once per (model, UTC date, speed, inference geo) from the
package's offline data (its auto-update is never started) and the product's price corrections
(:mod:`claude_usage.pricing_corrections`), and cached as floats in USD per million tokens; the
cost of a record is then plain float arithmetic. Which provider's entry prices an id (Anthropic,
AWS Bedrock, Google Vertex) is decided in :mod:`claude_usage.pricing_lookup`. The package is
imported only when a rate is first needed, the corrections file parsed only then.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any, Literal, Mapping

from claude_usage.pricing_lookup import Found, Route, find_model, normalise_model_id, route
from claude_usage.pricing_rates import (
    FALLBACK_RATIOS,
    FALLBACK_WEB_SEARCH_PER_1000,
    PACKAGE_KEYS,
    Price,
    PriceOverrideError,
    Rates,
    complete_rates,
    price_from_package,
    load_price_overrides,
    parse_price_overrides,
    parse_rates,
    rates_from_json,
    rates_to_json,
)
from claude_usage.records import UsageRecord

# Re-exported: the rest of the product imports prices from here.
__all__ = [
    "COST_MODES", "FALLBACK_RATIOS", "FALLBACK_WEB_SEARCH_PER_1000", "PRICE_PACKAGE", "Price", "PriceOverrideError",
    "Pricer", "Rates", "cost_for_mode", "load_price_overrides", "normalise_model_id", "parse_price_overrides",
    "parse_rates", "price_data_version", "rates_from_json", "rates_to_json",
]

CostMode = Literal["auto", "calculate", "display"]
COST_MODES: tuple[str, ...] = ("auto", "calculate", "display")
PRICE_PACKAGE = "genai-prices"

_DAY_US = 86_400_000_000
_QUARTER_HOUR_US = 900_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@cache
def price_data_version() -> str:
    """The price data's version, e.g. ``genai-prices 0.2.3`` (stored beside costs in the index).

    Read from the package's ``.dist-info`` directory name when it is found beside the package
    (no import of the package or of ``importlib.metadata`` on a warm run), else from metadata.
    """
    import importlib.util

    spec = importlib.util.find_spec("genai_prices")
    if spec is not None and spec.origin:
        site = Path(spec.origin).parent.parent
        found = sorted(site.glob("genai_prices-*.dist-info"))
        if len(found) == 1:
            return f"{PRICE_PACKAGE} {found[0].name[len('genai_prices-'):-len('.dist-info')]}"
    from importlib.metadata import version

    return f"{PRICE_PACKAGE} {version(PRICE_PACKAGE)}"


def _has_fast_price(info: Any, moment: datetime) -> bool:
    """True when the package entry has a fast-mode price variant in force at ``moment``."""
    return any(variant.when == {"speed": "fast"} and (variant.constraint is None or variant.constraint.active(moment))
               for variant in info.price_variants or ())


class Pricer:
    """Rates per (model, UTC date, speed, inference geo) with a cache, and the calculated cost of
    records: the one pricing function of the product (DESIGN section 5).

    ``overrides`` (from :func:`load_price_overrides`) win over the package and the corrections
    for their models, as given: no fast-mode or geo adjustment (a fast request on such a model is
    counted as fast-unpriced). ``corrections`` (a
    :class:`~claude_usage.pricing_corrections.Corrections`; default: the file shipped in the
    package) are applied on top of the package's prices. Unknown models have no rates
    (``None``): their cost is unknown, never zero. A package entry whose price depends on the
    time of day (off-peak pricing of some non-Anthropic models) is resolved per quarter hour
    instead of per day.
    """

    def __init__(self, overrides: Mapping[str, Rates] | None = None, store: Any = None, corrections: Any = None):
        self.overrides = dict(overrides or {})
        self.store = store  # get_rates(key) -> (found, rates); put_rates(key, rates)
        self.corrections = corrections
        self._by_day: dict[tuple[str, int, bool, bool], Rates | None] = {}
        self._cache: dict[tuple, Rates | None] = {}
        self._routes: dict[str, tuple[Route, Rates | None]] = {}
        self._found: dict[Route, Found | None] = {}
        self._fast_overrides: dict[str, Rates] = {}
        self._version: str | None = None

    def corrections_in_use(self) -> Any:
        """The :class:`~claude_usage.pricing_corrections.Corrections` applied (the shipped file
        unless others were given)."""
        if self.corrections is None:
            from claude_usage.pricing_corrections import shipped_corrections

            self.corrections = shipped_corrections()
        return self.corrections

    @property
    def version(self) -> str:
        """The price data version, the digest of the price corrections and of the overrides,
        e.g. ``genai-prices 0.2.3 + corrections 1f2e3d4c5b6a``: costs stored in the index are
        recomputed when it changes (DESIGN section 5). Reading it does not import the package
        nor parse the corrections."""
        if self._version is None:
            version = f"{price_data_version()} + corrections {self.corrections_in_use().digest}"
            if self.overrides:
                import hashlib

                described = repr(sorted((model, repr(rates)) for model, rates in self.overrides.items()))
                version += " + overrides " + hashlib.sha256(described.encode()).hexdigest()[:12]
            self._version = version
        return self._version

    def preload(self) -> None:
        """Import the price data and read the corrections now (a server does it once, off the
        path of a refresh)."""
        from genai_prices import data_snapshot

        data_snapshot.get_snapshot()
        self.corrections_in_use().entries

    def _route(self, model: str) -> tuple[Route, Rates | None]:
        """The lookup route of a model id and its ``--prices`` override, if any (cached)."""
        known = self._routes.get(model)
        if known is None:
            known = self._routes[model] = (route(model), self.overrides.get(normalise_model_id(model)))
        return known

    def rates(self, model: str, ts_us: int, speed: str | None = None, geo: str | None = None) -> Rates | None:
        """The rates of ``model`` for a request at ``ts_us`` (UTC microseconds since the epoch),
        resolved for its UTC date; ``speed == "fast"`` selects fast-mode prices (the package's,
        else a correction's, else the standard ones marked ``fast_unpriced``); ``geo == "us"``
        applies the US-only inference correction where it holds. None when the model has no
        price.

        Resolved rates are kept in memory and, with a ``store`` (the index), across runs, so a
        run that prices only models and days seen before never imports the price package."""
        where, override = self._route(model)
        fast = speed == "fast"
        if override is not None:
            if not fast:
                return override
            marked = self._fast_overrides.get(model)
            if marked is None:
                marked = self._fast_overrides[model] = replace(override, fast_unpriced=True)
            return marked
        us = geo == "us"
        day = ts_us // _DAY_US
        day_key = (model, day, fast, us)
        if day_key in self._by_day:
            return self._by_day[day_key]
        stored_key = f"{where.provider}:{where.ref}|{day}|{int(fast)}|{int(us)}"
        if self.store is not None:
            found, rates = self.store.get_rates(stored_key)
            if found:
                self._by_day[day_key] = rates
                return rates
        if where not in self._found:
            self._found[where] = find_model(where)
        entry = self._found[where]
        if entry is None:
            rates = None
        elif entry.by_time:  # off-peak prices: per quarter hour, not kept per day
            return self._rates_at(entry, ts_us // _QUARTER_HOUR_US * _QUARTER_HOUR_US, fast, us)
        else:
            rates = self._rates_at(entry, day * _DAY_US, fast, us)
        self._by_day[day_key] = rates
        if self.store is not None:
            self.store.put_rates(stored_key, rates)
        return rates

    def _rates_at(self, entry: Found, start_us: int, fast: bool, us: bool) -> Rates | None:
        """The rates of a package entry at ``start_us``: its standard or fast-mode prices, then
        the corrections for fast mode (when the package has no fast price) and US-only inference."""
        key = (entry.provider, entry.info.id, start_us, fast, us)
        if key in self._cache:
            return self._cache[key]
        info = entry.info
        moment = _EPOCH + timedelta(microseconds=start_us)
        day = moment.date()
        corrections = self.corrections_in_use()
        fast_correction = None
        fast_unpriced = False
        if fast and _has_fast_price(info, moment):
            prices = info.get_prices(moment, {"speed": "fast"})
        else:
            prices = info.get_prices(moment)
            if fast:
                fast_correction = corrections.find(entry.provider, info.id, day, speed="fast")
                fast_unpriced = fast_correction is None
        searches = getattr(prices, "web_searches_kcount", None)
        rates = complete_rates(
            info.id,
            {cat: price_from_package(getattr(prices, name, None)) for cat, name in PACKAGE_KEYS.items()},
            provider=entry.provider,
            web_search=float(searches) if searches is not None else FALLBACK_WEB_SEARCH_PER_1000,
            fast_unpriced=fast_unpriced,
        )
        if rates is not None:
            if fast_correction is not None:
                rates = fast_correction.apply(rates)
            geo_correction = corrections.find(entry.provider, info.id, day, geo="us") if us else None
            if geo_correction is not None:
                rates = geo_correction.apply(rates)
        self._cache[key] = rates
        return rates

    def price(self, record: UsageRecord) -> tuple[float | None, bool]:
        """``(cost, fast_unpriced)`` of ``record``: its USD cost from its tokens and web
        searches (None when its model has no price), and whether it is a fast-mode request priced
        at the standard rate for want of a known fast price."""
        rates = self.rates(record.model, record.ts_us, record.speed, record.inference_geo)
        if rates is None:
            return None, False
        cost = rates.cost(
            record.input_tokens,
            record.output_tokens,
            record.cache_creation_5m_tokens,
            record.cache_creation_1h_tokens,
            record.cache_read_tokens,
            record.web_search_requests,
        )
        return cost, rates.fast_unpriced

    def calculated_cost(self, record: UsageRecord) -> float | None:
        """USD cost of ``record`` from its tokens and web searches, or None when its model has
        no price (see :meth:`price`)."""
        return self.price(record)[0]

    def priced(self, record: UsageRecord) -> float | None:
        """Price ``record``: returns its cost (as :meth:`calculated_cost`) and sets its
        ``fast_unpriced`` flag, the pricing outcome kept with the stored request."""
        cost, record.fast_unpriced = self.price(record)
        return cost


def cost_for_mode(calculated: float | None, line_cost: float | None, mode: str) -> float | None:
    """A request's cost in USD under a cost mode (DESIGN section 5), None when unknown.

    ``auto``: the line's ``costUSD`` when present, else calculated; ``calculate``: always
    calculated; ``display``: ``costUSD`` or 0.
    """
    if mode == "calculate":
        return calculated
    if mode == "display":
        return line_cost if line_cost is not None else 0.0
    return line_cost if line_cost is not None else calculated
