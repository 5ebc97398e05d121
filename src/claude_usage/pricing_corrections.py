"""Price corrections: data shipped with the product, applied on top of genai-prices (DESIGN 5).

``price_corrections.toml`` beside this module lists what Anthropic bills and the pinned
genai-prices does not know (fast-mode prices of Opus 4.6 and 4.7, US-only inference at 1.1x);
its header documents the format. The file is read once: its digest (part of the pricer's
version, so that stored costs are recomputed when it changes) from its bytes alone, its entries
(parsed with the stdlib's ``tomllib``) only when a rate is resolved or the corrections listed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from claude_usage.pricing_rates import Rates, parse_rates

SHIPPED = Path(__file__).with_name("price_corrections.toml")
CONDITIONS = {"speed": ("fast",), "geo": ("us",)}
_KEYS = {"provider", "models", "exceptModels", "speed", "geo", "from", "until", "rates", "multiplier", "source", "note"}


class PriceCorrectionError(ValueError):
    """A price-correction file cannot be read or does not have the documented shape."""


@dataclass(frozen=True)
class Correction:
    """One entry: for requests to ``provider``'s ``models`` (``("*",)``: all but
    ``except_models``) that meet the condition (``speed == "fast"`` or ``geo == "us"``) on a UTC
    date in ``[start, end)`` (None: open), the token rates are ``rates`` (USD per million tokens)
    or genai-prices' rates times ``multiplier``. ``source`` is the public page that states it."""

    provider: str
    models: tuple[str, ...]
    except_models: tuple[str, ...]
    speed: str | None
    geo: str | None
    start: date | None
    end: date | None
    rates: Rates | None
    multiplier: float | None
    source: str
    note: str = ""

    def applies(self, provider: str, model: str, day: date, speed: str | None = None, geo: str | None = None) -> bool:
        """True for a request to the package entry ``model`` of ``provider`` on UTC ``day`` with
        this entry's condition (``speed`` and ``geo`` as the request carries them)."""
        if provider != self.provider or (self.speed, self.geo) != (speed, geo):
            return False
        if self.models == ("*",):
            if model in self.except_models:
                return False
        elif model not in self.models:
            return False
        return (self.start is None or day >= self.start) and (self.end is None or day < self.end)

    def apply(self, rates: Rates) -> Rates:
        """``rates`` corrected: the entry's token rates (the web search fee and provider kept), or
        every token rate times the multiplier."""
        if self.rates is not None:
            return replace(self.rates, source=rates.source, provider=rates.provider, web_search=rates.web_search,
                           fast_unpriced=rates.fast_unpriced)
        assert self.multiplier is not None
        return rates.scaled(self.multiplier)

    def describe(self) -> dict[str, Any]:
        """The entry as JSON (``claude-usage prices --json``): camelCase keys, dates ISO,
        rates in USD per million tokens."""
        rates = None
        if self.rates is not None:
            rates = {}
            for name, key in (("input", "input"), ("output", "output"), ("cache_write_5m", "cacheWrite5m"),
                              ("cache_write_1h", "cacheWrite1h"), ("cache_read", "cacheRead")):
                price = getattr(self.rates, name)
                rates[key] = price.base
                if price.tiers:
                    rates.setdefault("tierThreshold", price.tiers[0][0])
                    rates.setdefault("tier", {})[key] = price.tiers[0][1]
        return {
            "provider": self.provider,
            "models": list(self.models),
            "exceptModels": list(self.except_models),
            "condition": f"speed={self.speed}" if self.speed else f"geo={self.geo}",
            "from": self.start.isoformat() if self.start else None,
            "until": self.end.isoformat() if self.end else None,
            "rates": rates,
            "multiplier": self.multiplier,
            "source": self.source,
            "note": self.note,
        }


def _date(value: Any, where: str) -> date | None:
    if value is None:
        return None
    if type(value) is date:
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PriceCorrectionError(f"{where}: expected a date YYYY-MM-DD")


def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise PriceCorrectionError(f"{where}: expected a list of model ids")
    return tuple(value)


def parse_corrections(data: Any, origin: str = "corrections") -> tuple[Correction, ...]:
    """Validate ``{"correction": [entry, ...]}`` (the TOML file's shape; see its header).
    Raises :class:`PriceCorrectionError` naming ``origin`` and the entry."""
    if not isinstance(data, dict) or set(data) - {"correction"} or not isinstance(data.get("correction", []), list):
        raise PriceCorrectionError(f"{origin}: expected [[correction]] tables only")
    found = []
    for number, entry in enumerate(data.get("correction", []), 1):
        where = f"{origin}: correction {number}"
        if not isinstance(entry, dict):
            raise PriceCorrectionError(f"{where}: expected a table")
        unknown = set(entry) - _KEYS
        if unknown:
            raise PriceCorrectionError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        conditions = [name for name in CONDITIONS if name in entry]
        if len(conditions) != 1 or entry[conditions[0]] not in CONDITIONS[conditions[0]]:
            raise PriceCorrectionError(f"{where}: needs exactly one condition: speed = \"fast\" or geo = \"us\"")
        if ("rates" in entry) == ("multiplier" in entry):
            raise PriceCorrectionError(f"{where}: needs rates or a multiplier (one of them)")
        multiplier = entry.get("multiplier")
        if multiplier is not None and (type(multiplier) not in (int, float) or not 0 < multiplier < 100):
            raise PriceCorrectionError(f"{where}.multiplier: expected a positive factor")
        source = entry.get("source")
        if not isinstance(source, str) or not source.startswith("https://"):
            raise PriceCorrectionError(f"{where}: needs the public source (an https:// address)")
        models = _names(entry.get("models"), f"{where}.models")
        excepted = _names(entry.get("exceptModels", []), f"{where}.exceptModels")
        if excepted and models != ("*",):
            raise PriceCorrectionError(f"{where}: exceptModels goes with models = [\"*\"]")
        provider = entry.get("provider", "anthropic")
        if not isinstance(provider, str) or not provider:
            raise PriceCorrectionError(f"{where}.provider: expected a genai-prices provider id")
        start, end = _date(entry.get("from"), f"{where}.from"), _date(entry.get("until"), f"{where}.until")
        if start and end and start >= end:
            raise PriceCorrectionError(f"{where}: 'from' must be before 'until'")
        rates = None
        if "rates" in entry:
            rates = parse_rates(entry["rates"], f"{where}.rates", "correction", provider, PriceCorrectionError)
        found.append(Correction(
            provider=provider, models=models, except_models=excepted, speed=entry.get("speed"), geo=entry.get("geo"),
            start=start, end=end, rates=rates, multiplier=float(multiplier) if multiplier is not None else None,
            source=source, note=str(entry.get("note", "")),
        ))
    return tuple(found)


class Corrections:
    """The corrections of one file: ``digest`` (first 12 hex digits of the SHA-256 of its bytes,
    read without parsing) and ``entries`` (parsed on first use). Raises
    :class:`PriceCorrectionError` when the file cannot be read or is not valid."""

    def __init__(self, path: Path = SHIPPED):
        self.path = Path(path)
        self._data: bytes | None = None
        self._entries: tuple[Correction, ...] | None = None

    def _bytes(self) -> bytes:
        if self._data is None:
            try:
                self._data = self.path.read_bytes()
            except OSError as error:
                raise PriceCorrectionError(f"{self.path}: {error.strerror or error}") from error
        return self._data

    @property
    def digest(self) -> str:
        """A digest of the file's content (changes when any byte does)."""
        return hashlib.sha256(self._bytes()).hexdigest()[:12]

    @property
    def entries(self) -> tuple[Correction, ...]:
        """The entries, in file order."""
        if self._entries is None:
            import tomllib

            try:
                data = tomllib.loads(self._bytes().decode("utf-8"))
            except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
                raise PriceCorrectionError(f"{self.path}: not valid TOML: {error}") from error
            self._entries = parse_corrections(data, str(self.path))
        return self._entries

    def find(self, provider: str, model: str, day: date, speed: str | None = None, geo: str | None = None) -> Correction | None:
        """The first entry that applies (see :meth:`Correction.applies`), or None."""
        return next((c for c in self.entries if c.applies(provider, model, day, speed, geo)), None)


@cache
def shipped_corrections() -> Corrections:
    """The corrections shipped in the package (one object per process: read once)."""
    return Corrections(SHIPPED)


def prices_document(pricer: Any) -> dict[str, Any]:
    """What ``claude-usage prices`` shows: ``priceData`` (the genai-prices version),
    ``version`` (the pricer's version, stored with every cost), ``correctionsFile`` (path),
    ``corrections`` (:meth:`Correction.describe` of each entry, in file order) and ``overrides``
    (the normalised model ids of the ``--prices`` file, which win for those models)."""
    from claude_usage.pricing import price_data_version

    corrections = pricer.corrections_in_use()
    return {
        "priceData": price_data_version(),
        "version": pricer.version,
        "correctionsFile": str(corrections.path),
        "corrections": [entry.describe() for entry in corrections.entries],
        "overrides": sorted(pricer.overrides),
    }
