"""USD cost of a request: rates from ``genai-prices``, the long-context rule and cost modes.

DESIGN section 5. Rates are resolved once per (model, UTC date, speed) from the package's offline
data (its auto-update is never started) and cached as floats in USD per million tokens; the cost of
a record is then plain float arithmetic. The package is imported only when a rate is first needed.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any, Literal, Mapping

from claude_usage.records import UsageRecord

CostMode = Literal["auto", "calculate", "display"]
COST_MODES: tuple[str, ...] = ("auto", "calculate", "display")
PRICE_PACKAGE = "genai-prices"

# Where the package lacks a cache rate: 5m write = 1.25x input, 1h write = 2x, read = 0.1x.
FALLBACK_RATIOS = {"cache_write_5m": 1.25, "cache_write_1h": 2.0, "cache_read": 0.1}
_PACKAGE_KEYS = {
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

_REGION_PREFIX = re.compile(r"^[a-z]{2,6}(?:-[a-z]+)?\.(?=anthropic\.|claude)")
_BEDROCK_VERSION = re.compile(r"(?<=\d)-v\d+(?::\d+)?$")
_COLON_VERSION = re.compile(r":\d+$")
_RELEASE_SUFFIX = re.compile(r"(?:-\d{8}|-\d{4}-\d{2}-\d{2}|-latest)$")
_DAY_US = 86_400_000_000
_QUARTER_HOUR_US = 900_000_000


class PriceOverrideError(ValueError):
    """The ``--prices`` file cannot be read or does not have the documented shape."""


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


def normalise_model_id(model: str) -> str:
    """The id used for price lookup (DESIGN section 5).

    Lower-case; strip ``anthropic/``, Bedrock region prefixes (``us.``, ``eu.``, ``global.``, ...),
    ``anthropic.``, ``-vN:0``/``-vN`` and ``:N`` suffixes and a ``[1m]`` context marker; ``@``
    becomes ``-``. Example: ``us.anthropic.claude-sonnet-4-5-20250929-v1:0`` gives
    ``claude-sonnet-4-5-20250929``.
    """
    ref = model.strip().lower()
    ref = ref.removeprefix("anthropic/")
    ref = _REGION_PREFIX.sub("", ref)
    ref = ref.removeprefix("anthropic.")
    ref = ref.removesuffix("[1m]")
    ref = _BEDROCK_VERSION.sub("", ref)
    ref = _COLON_VERSION.sub("", ref)
    return ref.replace("@", "-")


def _continues_version(matched: str, ref: str, at: int) -> bool:
    """True when ``ref`` goes on with more digits right after ``matched`` (found at ``at``).

    ``claude-opus-4-10`` continues ``claude-opus-4-1``; a release suffix (``-20250805``,
    ``-2025-08-05``, ``-latest``) does not count as a continuation.
    """
    base = _RELEASE_SUFFIX.sub("", ref)
    end = at + len(matched)
    return bool(matched) and matched[-1].isdigit() and end < len(base) and base[end].isdigit()


def _strict_match(clause: Any, ref: str) -> bool:
    """The package's match logic, refusing prefix/substring matches that change the version."""
    name = type(clause).__name__
    if name == "ClauseOr":
        return any(_strict_match(part, ref) for part in clause.or_)
    if name == "ClauseAnd":
        return all(_strict_match(part, ref) for part in clause.and_)
    if name == "ClauseStartsWith":
        prefix = clause.starts_with.lower()
        return ref.startswith(prefix) and not _continues_version(prefix, ref, 0)
    if name == "ClauseContains":
        needle = clause.contains.lower()
        at = ref.find(needle)
        return at >= 0 and not _continues_version(needle, ref, at)
    return bool(clause.is_match(ref))


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
    """The five rates of a model on one UTC day at one speed, and where they came from.

    ``source`` is the price entry's id in the package (e.g. ``claude-sonnet-4-5``) or
    ``override:<model>`` for a ``--prices`` entry.
    """

    source: str
    input: Price
    output: Price
    cache_write_5m: Price
    cache_write_1h: Price
    cache_read: Price
    flat: tuple[float, ...] | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        prices = (self.input, self.output, self.cache_write_5m, self.cache_write_1h, self.cache_read)
        flat = None if any(p.tiers for p in prices) else tuple(p.base for p in prices)
        object.__setattr__(self, "flat", flat)  # the base rates when no category has tiers

    def cost(self, input_tokens: int, output_tokens: int, write_5m: int, write_1h: int, read: int) -> float:
        """USD cost of one request (token counts), with the per-request long-context rule.

        The context size ``input + write_5m + write_1h + read`` selects the tier of every
        category at once; it is never split per field (DESIGN section 5).
        """
        if self.flat is not None:  # no tier in any category: the context size does not matter
            i, o, w5, w1, r = self.flat
            return (input_tokens * i + output_tokens * o + write_5m * w5 + write_1h * w1 + read * r) / 1_000_000
        context = input_tokens + write_5m + write_1h + read
        return (
            input_tokens * self.input.at(context)
            + output_tokens * self.output.at(context)
            + write_5m * self.cache_write_5m.at(context)
            + write_1h * self.cache_write_1h.at(context)
            + read * self.cache_read.at(context)
        ) / 1_000_000


def _price_from_package(value: Any) -> Price | None:
    if value is None:
        return None
    if hasattr(value, "tiers"):
        return Price(float(value.base), tuple((int(t.start), float(t.price)) for t in value.tiers))
    return Price(float(value))


def _complete(source: str, found: Mapping[str, Price | None]) -> Rates | None:
    """Rates from the categories found; cache rates missing get the typical ratios of input."""
    if found.get("input") is None or found.get("output") is None:
        return None
    prices = dict(found)
    for category, ratio in FALLBACK_RATIOS.items():
        if prices.get(category) is None:
            prices[category] = prices["input"].scaled(ratio)
    return Rates(source=source, **prices)  # type: ignore[arg-type]


def _number(value: Any, where: str) -> float:
    if type(value) not in (int, float) or not math.isfinite(value) or value < 0:
        raise PriceOverrideError(f"{where}: expected a non-negative number of USD per million tokens")
    return float(value)


def parse_price_overrides(data: Any, origin: str = "prices") -> dict[str, Rates]:
    """Validate a ``--prices`` mapping ``{model id: {input, output, cacheWrite5m, cacheWrite1h,
    cacheRead, tierThreshold?, tier?: {same five keys}}}`` (USD per million tokens).

    ``input`` and ``output`` are required; a missing cache rate gets the typical ratio of input.
    Returns rates keyed by normalised model id. Raises :class:`PriceOverrideError`.
    """
    if not isinstance(data, dict):
        raise PriceOverrideError(f"{origin}: expected a mapping of model id to rates")
    out: dict[str, Rates] = {}
    for model, entry in data.items():
        where = f"{origin}: {model}"
        if not isinstance(entry, dict):
            raise PriceOverrideError(f"{where}: expected a table of rates")
        threshold = entry.get("tierThreshold")
        tier = entry.get("tier")
        if (threshold is None) != (tier is None):
            raise PriceOverrideError(f"{where}: tierThreshold and tier go together")
        if threshold is not None and (type(threshold) is not int or threshold < 0):
            raise PriceOverrideError(f"{where}.tierThreshold: expected a token count")
        if tier is not None and not isinstance(tier, dict):
            raise PriceOverrideError(f"{where}.tier: expected a table of rates")
        found: dict[str, Price | None] = {}
        for category, key in _OVERRIDE_KEYS.items():
            if key not in entry:
                if category in ("input", "output"):
                    raise PriceOverrideError(f"{where}: missing '{key}'")
                found[category] = None
                continue
            base = _number(entry[key], f"{where}.{key}")
            tiers: tuple[tuple[int, float], ...] = ()
            if tier is not None:
                if key in tier:
                    tiers = ((threshold, _number(tier[key], f"{where}.tier.{key}")),)
                elif category in ("input", "output"):
                    raise PriceOverrideError(f"{where}.tier: missing '{key}'")
            found[category] = Price(base, tiers)
        rates = _complete(f"override:{model}", found)
        assert rates is not None  # input and output are required above
        out[normalise_model_id(str(model))] = rates
    return out


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


class Pricer:
    """Rates per (model, UTC date, speed) with a cache, and the calculated cost of records.

    ``overrides`` (from :func:`load_price_overrides`) win over the package for their models.
    Unknown models have no rates (``None``): their cost is unknown, never zero. A package entry
    whose price depends on the time of day (off-peak pricing of some non-Anthropic models) is
    resolved per quarter hour instead of per day.
    """

    def __init__(self, overrides: Mapping[str, Rates] | None = None, store: Any = None):
        self.overrides = dict(overrides or {})
        self.store = store  # get_rates(key) -> (found, rates); put_rates(key, rates)
        self._by_day: dict[tuple[str, int, bool], Rates | None] = {}
        self._cache: dict[tuple[str, int, bool], Rates | None] = {}
        self._refs: dict[str, str] = {}
        self._models: dict[str, tuple[Any, bool] | None] = {}
        self._version: str | None = None

    @property
    def version(self) -> str:
        """The price data version plus a digest of the overrides: costs stored in the index are
        recomputed when it changes (DESIGN section 5)."""
        if self._version is None:
            version = price_data_version()
            if self.overrides:
                import hashlib

                described = repr(sorted((model, repr(rates)) for model, rates in self.overrides.items()))
                version += " + overrides " + hashlib.sha256(described.encode()).hexdigest()[:12]
            self._version = version
        return self._version

    def preload(self) -> None:
        """Import the price data now (a server does it once, off the path of a refresh)."""
        from genai_prices import data_snapshot

        data_snapshot.get_snapshot()

    def _package_model(self, ref: str) -> tuple[Any, bool] | None:
        """(model info, time-of-day dependent) from the package for a normalised id, or None."""
        if ref in self._models:
            return self._models[ref]
        from genai_prices import data_snapshot

        providers = data_snapshot.get_snapshot().providers
        anthropic = [p for p in providers if p.id == "anthropic"]
        others = [p for p in providers if p.id != "anthropic" and p.model_match and p.model_match.is_match(ref)]
        found = None
        for provider in anthropic + others:
            model = next((m for m in provider.models if _strict_match(m.match, ref)), None)
            if model is not None:
                conditions = model.prices if isinstance(model.prices, list) else []
                by_time = any(type(c.constraint).__name__ == "TimeOfDateConstraint" for c in conditions)
                found = (model, by_time)
                break
        self._models[ref] = found
        return found

    def rates(self, model: str, ts_us: int, speed: str | None = None) -> Rates | None:
        """The rates of ``model`` for a request at ``ts_us`` (UTC microseconds since the epoch),
        resolved for its UTC date; ``speed == "fast"`` selects fast-mode prices where the model
        has them. None when the model has no price.

        Resolved rates are kept in memory and, with a ``store`` (the index), across runs, so a
        run that prices only models and days seen before never imports the price package."""
        ref = self._refs.get(model)
        if ref is None:
            ref = self._refs[model] = normalise_model_id(model)
        override = self.overrides.get(ref)
        if override is not None:
            return override
        fast = speed == "fast"
        day_key = (ref, ts_us // _DAY_US, fast)
        if day_key in self._by_day:
            return self._by_day[day_key]
        stored_key = f"{ref}|{day_key[1]}|{int(fast)}"
        if self.store is not None:
            found, rates = self.store.get_rates(stored_key)
            if found:
                self._by_day[day_key] = rates
                return rates
        found_model = self._package_model(ref)
        if found_model is None:
            rates = None
        else:
            info, by_time = found_model
            if by_time:  # off-peak prices: per quarter hour, not kept per day
                return self._rates_at(info, ts_us // _QUARTER_HOUR_US * _QUARTER_HOUR_US, fast)
            rates = self._rates_at(info, day_key[1] * _DAY_US, fast)
        self._by_day[day_key] = rates
        if self.store is not None:
            self.store.put_rates(stored_key, rates)
        return rates

    def _rates_at(self, info: Any, start_us: int, fast: bool) -> Rates | None:
        key = (info.id, start_us, fast)
        if key not in self._cache:
            moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=start_us)
            prices = info.get_prices(moment, {"speed": "fast"} if fast else None)
            self._cache[key] = _complete(
                info.id,
                {cat: _price_from_package(getattr(prices, name, None)) for cat, name in _PACKAGE_KEYS.items()},
            )
        return self._cache[key]

    def calculated_cost(self, record: UsageRecord) -> float | None:
        """USD cost of ``record`` from its tokens, or None when its model has no price."""
        rates = self.rates(record.model, record.ts_us, record.speed)
        if rates is None:
            return None
        return rates.cost(
            record.input_tokens,
            record.output_tokens,
            record.cache_creation_5m_tokens,
            record.cache_creation_1h_tokens,
            record.cache_read_tokens,
        )


def rates_to_json(rates: Rates | None) -> str:
    """``rates`` as JSON (``null`` for no price), for the index's cache of resolved rates."""
    if rates is None:
        return "null"
    return json.dumps({"source": rates.source, **{cat: [getattr(rates, cat).base, list(getattr(rates, cat).tiers)]
                                                 for cat in _PACKAGE_KEYS}})


def rates_from_json(text: str) -> Rates | None:
    """The inverse of :func:`rates_to_json`."""
    data = json.loads(text)
    if data is None:
        return None
    return Rates(source=data["source"], **{cat: Price(base, tuple((int(s), float(r)) for s, r in tiers))
                                           for cat, (base, tiers) in ((c, data[c]) for c in _PACKAGE_KEYS)})


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
