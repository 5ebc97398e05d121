"""Calendar buckets in an IANA time zone (DESIGN section 6).

Timestamps are UTC instants (microseconds since the epoch); days, weeks, months and hours are
local to one zone, DST-correct (zone rules from the standard library's ``zoneinfo``).
"""

from __future__ import annotations

import functools
import os
import re
import zoneinfo
from datetime import date, datetime, timedelta, timezone
from typing import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_QUARTER_HOUR_US = 900_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_DAY_RE = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ZoneError(ValueError):
    """An unknown IANA time zone name."""


def local_zone_name() -> str:
    """The machine's IANA zone name (via ``tzlocal``), ``UTC`` when it cannot be told."""
    try:
        import tzlocal

        return tzlocal.get_localzone_name() or "UTC"
    except Exception:  # tzlocal raises various errors on odd configurations
        return "UTC"


@functools.cache
def _zone_names_by_lower_case() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def _zone_named(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (case-insensitive); raises :class:`ZoneError`."""
    for candidate in (name, None):
        if candidate is None:  # only now list the zones (slow) for a case-insensitive match
            candidate = _zone_names_by_lower_case().get(name.lower())
        if not candidate or "\x00" in candidate or candidate.startswith("/") or ".." in candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            continue
    raise ZoneError(f"unknown time zone {name!r}: use an IANA name such as 'UTC' or 'Europe/Paris'")


def resolve_zone(name: str | None = None, local: Callable[[], str] = local_zone_name) -> ZoneInfo:
    """The zone to bucket in: ``name`` if given (an IANA name, any case), else ``$TZ`` when it is
    an IANA name, else the machine's local zone (asked of ``local()``, only when needed; default
    :func:`local_zone_name`), else UTC.

    Raises :class:`ZoneError` only for an explicit ``name`` that is not a known IANA zone; a
    POSIX-style ``$TZ`` (``JST-9``, ``:/etc/localtime``) falls back to the machine's zone.
    """
    if name:
        return _zone_named(name)
    for ask in (lambda: os.environ.get("TZ", "").removeprefix(":"), local):
        candidate = ask()
        if candidate:
            try:
                return _zone_named(candidate)
            except ZoneError:
                continue
    return ZoneInfo("UTC")


def parse_day(text: str) -> date:
    """A date given as ``YYYY-MM-DD`` or ``YYYYMMDD``; raises ValueError otherwise."""
    match = _DAY_RE.match(text.strip())
    if not match:
        raise ValueError(f"invalid date {text!r}: use YYYY-MM-DD or YYYYMMDD")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise ValueError(f"invalid date {text!r}: no such day") from None


def week_start(day: date, first_weekday: int = 0) -> date:
    """The first day of ``day``'s week; weeks start on ``first_weekday`` (0 = Monday)."""
    return day - timedelta(days=(day.weekday() - first_weekday) % 7)


def iso_utc(ts_us: int | None) -> str | None:
    """A UTC instant as ISO-8601 with millisecond precision and a ``Z`` suffix (None passes)."""
    if ts_us is None:
        return None
    moment = _EPOCH + timedelta(microseconds=ts_us)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class LocalClock:
    """Local calendar parts of UTC instants in one zone, cached per quarter hour.

    Every zone offset in use since 1900 is a multiple of 15 minutes and changes on such a
    boundary, so all instants of a UTC quarter hour share the local date and hour.
    """

    def __init__(self, zone: ZoneInfo):
        self.zone = zone
        self.name = zone.key
        self._cache: dict[int, tuple[str, int]] = {}

    def parts(self, ts_us: int) -> tuple[str, int]:
        """(local date ``YYYY-MM-DD``, local hour 0-23) of an instant in UTC microseconds."""
        block = ts_us // _QUARTER_HOUR_US
        found = self._cache.get(block)
        if found is None:
            local = (_EPOCH + timedelta(microseconds=block * _QUARTER_HOUR_US)).astimezone(self.zone)
            found = self._cache[block] = (local.strftime("%Y-%m-%d"), local.hour)
        return found

    def today(self) -> str:
        """Today's local date ``YYYY-MM-DD`` in this zone."""
        return datetime.now(self.zone).strftime("%Y-%m-%d")


_SEGMENTS: dict[tuple[str, int, int], list[tuple[int, int, int]]] = {}
_QUARTERS_PER_DAY = 96


def _offset_quarters(zone: ZoneInfo, qh: int) -> int:
    """The zone's UTC offset, in quarter hours, at the UTC quarter hour ``qh``."""
    moment = _EPOCH + timedelta(microseconds=qh * _QUARTER_HOUR_US)
    return int(moment.astimezone(zone).utcoffset().total_seconds()) // 900


def zone_segments(zone: ZoneInfo, first_qh: int, last_qh: int) -> list[tuple[int, int, int]]:
    """The zone's UTC offsets over the UTC quarter hours ``first_qh`` to ``last_qh`` (inclusive):
    ``[(from_qh, to_qh (excluded), offset in quarter hours), ...]`` covering the span, one
    segment per offset in force (DST changes split it). Every IANA offset since 1900 is a
    multiple of 15 minutes and changes on such a boundary, so a local quarter hour is
    ``utc_qh + offset``. Cached per zone and span."""
    key = (zone.key, first_qh, last_qh)
    found = _SEGMENTS.get(key)
    if found is not None:
        return found
    segments: list[tuple[int, int, int]] = []
    start, offset = first_qh, _offset_quarters(zone, first_qh)
    day = first_qh
    while day <= last_qh:
        following = min(day + _QUARTERS_PER_DAY, last_qh + 1)
        after = _offset_quarters(zone, following) if following <= last_qh else offset
        if after != offset:  # a change within (day, following]: find its quarter hour
            low, high = day, following  # offset at low is `offset`, at high `after`
            while high - low > 1:
                middle = (low + high) // 2
                if _offset_quarters(zone, middle) == offset:
                    low = middle
                else:
                    high = middle
            segments.append((start, high, offset))
            start, offset = high, after
        day = following
    segments.append((start, last_qh + 1, offset))
    if len(_SEGMENTS) > 256:
        _SEGMENTS.clear()
    _SEGMENTS[key] = segments
    return segments


def local_day_bounds_us(zone: ZoneInfo, since: str | None, until: str | None) -> tuple[int | None, int | None]:
    """The UTC instants (microseconds) where the local day ``since`` starts and where the day
    after ``until`` starts in ``zone`` (``YYYY-MM-DD``; None passes): the half-open UTC range of
    an inclusive local date range, DST-correct."""

    def start_of(day: date) -> int:
        return (datetime(day.year, day.month, day.day, tzinfo=zone) - _EPOCH) // timedelta(microseconds=1)

    first = start_of(date.fromisoformat(since)) if since else None
    end = None
    if until and until < "9999-12-31":  # the last day that can be told has no end to give
        end = start_of(date.fromisoformat(until) + timedelta(days=1))
    return first, end


def day_index(day: str) -> int:
    """A local date ``YYYY-MM-DD`` as days since 1970-01-01."""
    return date.fromisoformat(day).toordinal() - _ORDINAL_1970


def day_text(index: int) -> str:
    """Days since 1970-01-01 as a date ``YYYY-MM-DD``."""
    return date.fromordinal(index + _ORDINAL_1970).isoformat()


_ORDINAL_1970 = date(1970, 1, 1).toordinal()
