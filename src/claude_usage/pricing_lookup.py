"""Which genai-prices entry prices a model id: the provider-aware lookup of DESIGN section 5.

A Bedrock id (``anthropic.claude-...``, with or without a region prefix such as ``us.``, ``eu.``,
``apac.`` or ``global.``) is looked up with the package's AWS Bedrock provider, which prices
regional endpoints 10% above ``global.`` ones for recent models; a Vertex id
(``claude-...@YYYYMMDD``) with its Google provider; every other id, normalised, with the
Anthropic provider. When the provider has no entry for the model, the Anthropic price of the
normalised id is used (the Google provider names Anthropic as its own fallback).

Only :func:`find_model` imports the price package; the rest is cheap string work.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

ANTHROPIC, AWS, GOOGLE = "anthropic", "aws", "google"

_REGION_PREFIX = re.compile(r"^[a-z]{2,6}(?:-[a-z]+)?\.(?=anthropic\.|claude)")
_BEDROCK = re.compile(r"^(?:([a-z]{2,6}(?:-[a-z]+)?)\.)?anthropic\.claude")
_VERTEX = re.compile(r"^claude-[a-z0-9.-]+@\d{8}$")
_BEDROCK_VERSION = re.compile(r"(?<=\d)-v\d+(?::\d+)?$")
_COLON_VERSION = re.compile(r":\d+$")
_RELEASE_SUFFIX = re.compile(r"(?:-\d{8}|-\d{4}-\d{2}-\d{2}|-latest)$")


def normalise_model_id(model: str) -> str:
    """The id used for the Anthropic provider's lookup (DESIGN section 5).

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


class Route(NamedTuple):
    """Where a model id is priced: the genai-prices ``provider`` id (``anthropic``, ``aws`` or
    ``google``) and the ``ref`` asked of it (lower-case; Bedrock and Vertex ids keep their own
    form, with prefix, ``-vN:0`` suffix or ``@date``, which their providers' entries match)."""

    provider: str
    ref: str


def route(model: str) -> Route:
    """The provider and lookup id for ``model`` (see the module docstring). Examples:
    ``us.anthropic.claude-opus-4-6-v1`` gives ``Route("aws", "us.anthropic.claude-opus-4-6-v1")``;
    ``claude-sonnet-4-5@20250929`` gives ``Route("google", "claude-sonnet-4-5@20250929")``;
    ``Claude-Opus-4-6[1m]`` gives ``Route("anthropic", "claude-opus-4-6")``."""
    ref = model.strip().lower().removesuffix("[1m]")
    if _BEDROCK.match(ref):
        return Route(AWS, ref)
    if _VERTEX.match(ref):
        return Route(GOOGLE, ref)
    return Route(ANTHROPIC, normalise_model_id(model))


def _continues_version(matched: str, ref: str, at: int) -> bool:
    """True when ``ref`` goes on with more digits right after ``matched`` (found at ``at``).

    ``claude-opus-4-10`` continues ``claude-opus-4-1``; a release suffix (``-20250805``,
    ``-2025-08-05``, ``-latest``) does not count as a continuation.
    """
    base = _RELEASE_SUFFIX.sub("", ref)
    end = at + len(matched)
    return bool(matched) and matched[-1].isdigit() and end < len(base) and base[end].isdigit()


def strict_match(clause: Any, ref: str) -> bool:
    """The package's match logic, refusing prefix/substring matches that change the version."""
    name = type(clause).__name__
    if name == "ClauseOr":
        return any(strict_match(part, ref) for part in clause.or_)
    if name == "ClauseAnd":
        return all(strict_match(part, ref) for part in clause.and_)
    if name == "ClauseStartsWith":
        prefix = clause.starts_with.lower()
        return ref.startswith(prefix) and not _continues_version(prefix, ref, 0)
    if name == "ClauseContains":
        needle = clause.contains.lower()
        at = ref.find(needle)
        return at >= 0 and not _continues_version(needle, ref, at)
    return bool(clause.is_match(ref))


class Found(NamedTuple):
    """A price entry: the provider id that holds it, the package's ``ModelInfo``, and whether its
    price depends on the time of day (off-peak pricing of some non-Anthropic models)."""

    provider: str
    info: Any
    by_time: bool


def _first(provider: Any, ref: str) -> Any:
    return next((m for m in provider.models if strict_match(m.match, ref)), None)


def find_model(where: Route) -> Found | None:
    """The price entry for a route, or None when no provider has one (imports the package).

    Bedrock: the AWS provider's entry for the id as written; for a regional prefix it lacks
    (``apac.`` on a model listed for ``us.``/``eu.`` only), its entry for the id without the
    prefix (a regional endpoint); a ``global.`` id it lacks gets the Anthropic price. Vertex: the
    Google provider's entry. Otherwise, and as the fallback of both, the Anthropic provider's
    entry for the normalised id, then any other provider whose model match accepts it.
    """
    from genai_prices import data_snapshot

    providers = {p.id: p for p in data_snapshot.get_snapshot().providers}
    found = None
    if where.provider == AWS:
        found = _first(providers[AWS], where.ref)
        region = _BEDROCK.match(where.ref)
        if found is None and region is not None and region[1] not in (None, "global"):
            found = _first(providers[AWS], where.ref[len(region[1]) + 1:])
        if found is not None:
            return _found(AWS, found)
    elif where.provider == GOOGLE:
        found = _first(providers[GOOGLE], where.ref)
        if found is not None:
            return _found(GOOGLE, found)
    ref = where.ref if where.provider == ANTHROPIC else normalise_model_id(where.ref)
    found = _first(providers[ANTHROPIC], ref)
    if found is not None:
        return _found(ANTHROPIC, found)
    for provider in providers.values():
        if provider.id != ANTHROPIC and provider.model_match and provider.model_match.is_match(ref):
            found = _first(provider, ref)
            if found is not None:
                return _found(provider.id, found)
    return None


def _found(provider: str, info: Any) -> Found:
    conditions = info.prices if isinstance(info.prices, list) else []
    by_time = any(type(c.constraint).__name__ == "TimeOfDateConstraint" for c in conditions)
    return Found(provider, info, by_time)
