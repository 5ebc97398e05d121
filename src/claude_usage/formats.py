"""One format everywhere in the terminal (issue 14): counts with their nouns, durations, local
times without seconds. The dashboard follows the same rules in ``web/ui.js``."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

_IRREGULAR = {"was": "were", "is": "are"}


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``count`` with its noun, singular or plural: ``1 model``, ``2 models``, ``1,234
    requests`` (``many`` when the plural is not ``noun + s``)."""
    if count == 1:
        return f"1 {noun}"
    return f"{count:,} {many or _IRREGULAR.get(noun, noun + 's')}"


def duration_text(minutes: float | None) -> str:
    """A duration in minutes for people, rounded to the minute: ``42m``, ``3h 05m``, and past
    48 hours in days and hours (``14d 21h``, not ``357h 13m``); ``-`` when unknown."""
    if minutes is None:
        return "-"
    total = int(round(max(0.0, minutes)))
    hours, rest = divmod(total, 60)
    if hours >= 48:
        days, hours = divmod(hours, 24)
        return f"{days}d {hours}h"
    return f"{hours}h {rest:02d}m" if hours else f"{rest}m"


def compact_duration(minutes: float) -> str:
    """A time to wait for a status bar, rounded to the minute and without spaces: ``35m``,
    ``1h20m``, and from 24 hours on in days and hours (``4d2h``); ``0m`` when past. Tables and
    the dashboard use :func:`duration_text`."""
    total = max(0, int(round(minutes)))
    hours, rest = divmod(total, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d{hours}h"
    return f"{hours}h{rest:02d}m" if hours else f"{rest}m"


def local_time(iso: str | None, zone: Any, with_date: bool = True) -> str:
    """An ISO-8601 UTC time (``...Z``) as local ``YYYY-MM-DD HH:MM`` in ``zone`` (24-hour
    clock, no seconds; ``HH:MM`` alone without ``with_date``); ``-`` when missing."""
    if not iso:
        return "-"
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zone)
    return moment.strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M")


def local_time_us(ts_us: int | None, zone: Any) -> str:
    """UTC microseconds as local ``YYYY-MM-DD HH:MM`` in ``zone``; ``-`` when missing."""
    if ts_us is None:
        return "-"
    return datetime.fromtimestamp(ts_us / 1_000_000, timezone.utc).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def percent(share: float, digits: int = 1) -> str:
    """A share (0-1) as a percentage: ``12.5%``."""
    return f"{share * 100:.{digits}f}%"


def change_text(change: float | None) -> str:
    """A relative change as ``+25%`` / ``-10%`` (``n/a`` without one)."""
    if change is None:
        return "n/a"
    return f"{change * 100:+.0f}%"


def shorten(text: str | None, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a word where it can, with an ellipsis; ``""``
    for None."""
    if not text:
        return ""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,.;:") + "…"
