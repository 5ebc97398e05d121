"""Rates in USD per million tokens: the types, the long-context rule, and rates written by
hand (``--prices`` overrides, price corrections) or kept in the index (DESIGN section 5).

Imports nothing heavy: the CLI, the status line and the index use these types on every run.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from claude_usage.pricing_lookup import normalise_model_id

# Where the package lacks a cache rate: 5m write = 1.25x input, 1h write = 2x, read = 0.1x.
FALLBACK_RATIOS = {"cache_write_5m": 1.25, "cache_write_1h": 2.0, "cache_read": 0.1}
# Where the package lacks a web search rate: Anthropic's $10 per 1,000 searches.
FALLBACK_WEB_SEARCH_PER_1000 = 10.0
# Rates categories and the package's price keys for them.
PACKAGE_KEYS = {
    "input": "input_mtok",
    "output": "output_mtok",
    "cache_write_5m": "cache_write_mtok",
    "cache_write_1h": "cache_write_1h_mtok",
    "cache_read": "cache_read_mtok",
}
_OVERRIDE_KEYS = {
    "input": "input",
    "output": "output",
    "cache_write_5m": "cacheWrite5m",
    "cache_write_1h": "cacheWrite1h",
    "cache_read": "cacheRead",
}


class PriceOverrideError(ValueError):
    """The ``--prices`` file cannot be read or does not have the documented shape."""


@dataclass(frozen=True)
class Price:
    """One category's rate: ``base`` USD per million tokens, and ``tiers`` ``(start, rate)``.

    A tier applies when the request's context size (input + cache creation + cache read tokens)
    is strictly greater than ``start``; the highest such tier wins (the package's cliff rule).
    """

    base: float
    tiers: tuple[tuple[int, float], ...] = ()

    def at(self, context_tokens: int) -> float:
        """The rate in USD per million tokens for a request of ``context_tokens``."""
        for start, rate in reversed(self.tiers):
            if context_tokens > start:
                return rate
        return self.base

    def scaled(self, factor: float) -> "Price":
        """This price times ``factor`` (for a cache rate the package lacks)."""
        return Price(self.base * factor, tuple((s, r * factor) for s, r in self.tiers))


@dataclass(frozen=True)
class Rates:
    """The rates of a model on one UTC day for one kind of request, and where they came from.

    Token rates are USD per million tokens; ``web_search`` is USD per 1,000 web searches.
    ``source`` is the price entry's id in the package (e.g. ``claude-sonnet-4-5``) or
    ``override:<model>`` for a ``--prices`` entry; ``provider`` the package's provider id that
    holds it (``anthropic``, ``aws``, ``google``; ``override`` for a ``--prices`` entry).
    ``fast_unpriced`` is True when these are the rates of a fast-mode request but no fast price
    is known (the standard rates apply, and the request is counted).
    """

    source: str
    input: Price
    output: Price
    cache_write_5m: Price
    cache_write_1h: Price
    cache_read: Price
    provider: str = "anthropic"
    web_search: float = FALLBACK_WEB_SEARCH_PER_1000
    fast_unpriced: bool = False
    flat: tuple[float, ...] | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        prices = (self.input, self.output, self.cache_write_5m, self.cache_write_1h, self.cache_read)
        flat = None if any(p.tiers for p in prices) else tuple(p.base for p in prices)
        object.__setattr__(self, "flat", flat)  # the base rates when no category has tiers

    def cost(self, input_tokens: int, output_tokens: int, write_5m: int, write_1h: int, read: int,
             web_searches: int = 0) -> float:
        """USD cost of one request (token counts and web searches), with the per-request
        long-context rule.

        The context size ``input + write_5m + write_1h + read`` selects the tier of every
        category at once; it is never split per field (DESIGN section 5). Web searches are
        billed per search on top of the tokens.
        """
        searches = web_searches * self.web_search / 1000 if web_searches else 0.0
        if self.flat is not None:  # no tier in any category: the context size does not matter
            i, o, w5, w1, r = self.flat
            return (input_tokens * i + output_tokens * o + write_5m * w5 + write_1h * w1 + read * r) / 1_000_000 + searches
        context = input_tokens + write_5m + write_1h + read
        return (
            input_tokens * self.input.at(context)
            + output_tokens * self.output.at(context)
            + write_5m * self.cache_write_5m.at(context)
            + write_1h * self.cache_write_1h.at(context)
            + read * self.cache_read.at(context)
        ) / 1_000_000 + searches

    def scaled(self, factor: float) -> "Rates":
        """Every token rate (tiers included) times ``factor``; the web search fee unchanged."""
        return replace(self, **{cat: getattr(self, cat).scaled(factor) for cat in PACKAGE_KEYS})


def price_from_package(value: Any) -> Price | None:
    """A package price value (a number or tiered prices) as a :class:`Price`; None passes."""
    if value is None:
        return None
    if hasattr(value, "tiers"):
        return Price(float(value.base), tuple((int(t.start), float(t.price)) for t in value.tiers))
    return Price(float(value))


def complete_rates(source: str, found: Mapping[str, Price | None], **extra: Any) -> Rates | None:
    """Rates from the categories found; cache rates missing get the typical ratios of input.
    ``extra`` sets the other fields of :class:`Rates` (provider, web_search)."""
    if found.get("input") is None or found.get("output") is None:
        return None
    prices = dict(found)
    for category, ratio in FALLBACK_RATIOS.items():
        if prices.get(category) is None:
            prices[category] = prices["input"].scaled(ratio)
    return Rates(source=source, **prices, **extra)  # type: ignore[arg-type]


def _number(value: Any, where: str, error: type[ValueError]) -> float:
    if type(value) not in (int, float) or not math.isfinite(value) or value < 0:
        raise error(f"{where}: expected a non-negative number of USD per million tokens")
    return float(value)


def parse_rates(entry: Any, where: str, source: str, provider: str = "override",
                error: type[ValueError] = PriceOverrideError) -> Rates:
    """Rates from a table ``{input, output, cacheWrite5m?, cacheWrite1h?, cacheRead?,
    tierThreshold?, tier?: {same five keys}}`` in USD per million tokens (the shape of a
    ``--prices`` entry and of a price correction's ``rates``).

    ``input`` and ``output`` are required (in ``tier`` too); a missing cache rate gets the
    typical ratio of input (1.25x, 2x, 0.1x). Raises ``error`` naming ``where``.
    """
    if not isinstance(entry, dict):
        raise error(f"{where}: expected a table of rates")
    threshold = entry.get("tierThreshold")
    tier = entry.get("tier")
    if (threshold is None) != (tier is None):
        raise error(f"{where}: tierThreshold and tier go together")
    if threshold is not None and (type(threshold) is not int or threshold < 0):
        raise error(f"{where}.tierThreshold: expected a token count")
    if tier is not None and not isinstance(tier, dict):
        raise error(f"{where}.tier: expected a table of rates")
    found: dict[str, Price | None] = {}
    for category, key in _OVERRIDE_KEYS.items():
        if key not in entry:
            if category in ("input", "output"):
                raise error(f"{where}: missing '{key}'")
            found[category] = None
            continue
        base = _number(entry[key], f"{where}.{key}", error)
        tiers: tuple[tuple[int, float], ...] = ()
        if tier is not None:
            if key in tier:
                tiers = ((threshold, _number(tier[key], f"{where}.tier.{key}", error)),)
            elif category in ("input", "output"):
                raise error(f"{where}.tier: missing '{key}'")
        found[category] = Price(base, tiers)
    rates = complete_rates(source, found, provider=provider)
    assert rates is not None  # input and output are required above
    return rates


def parse_price_overrides(data: Any, origin: str = "prices") -> dict[str, Rates]:
    """Validate a ``--prices`` mapping ``{model id: {input, output, cacheWrite5m, cacheWrite1h,
    cacheRead, tierThreshold?, tier?: {same five keys}}}`` (USD per million tokens; see
    :func:`parse_rates`).

    Returns rates keyed by normalised model id; web searches on these models cost the typical
    $10 per 1,000. Raises :class:`PriceOverrideError`.
    """
    if not isinstance(data, dict):
        raise PriceOverrideError(f"{origin}: expected a mapping of model id to rates")
    return {normalise_model_id(str(model)): parse_rates(entry, f"{origin}: {model}", f"override:{model}")
            for model, entry in data.items()}


def load_price_overrides(path: str | Path) -> dict[str, Rates]:
    """Read a ``--prices`` file (``.toml`` as TOML, anything else as JSON); see
    :func:`parse_price_overrides`. Raises :class:`PriceOverrideError` naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PriceOverrideError(f"{path}: {error.strerror or error}") from error
    import tomllib

    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as error:
        raise PriceOverrideError(f"{path}: not valid {'TOML' if path.suffix == '.toml' else 'JSON'}: {error}")
    return parse_price_overrides(data, str(path))


_RATE_FIELDS = ("source", "provider", "web_search", "fast_unpriced")


def rates_to_json(rates: Rates | None) -> str:
    """``rates`` as JSON (``null`` for no price), for the index's cache of resolved rates."""
    if rates is None:
        return "null"
    return json.dumps({**{name: getattr(rates, name) for name in _RATE_FIELDS},
                       **{cat: [getattr(rates, cat).base, list(getattr(rates, cat).tiers)] for cat in PACKAGE_KEYS}})


def rates_from_json(text: str) -> Rates | None:
    """The inverse of :func:`rates_to_json`."""
    data = json.loads(text)
    if data is None:
        return None
    return Rates(**{name: data[name] for name in _RATE_FIELDS},
                 **{cat: Price(base, tuple((int(s), float(r)) for s, r in tiers))
                    for cat, (base, tiers) in ((c, data[c]) for c in PACKAGE_KEYS)})
