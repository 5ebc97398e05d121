"""The official limits Claude Code hands the status line, read and recorded (issue 15, item 1).

Claude Code runs the status-line command with a JSON document on stdin. For Claude.ai
subscribers (after a session's first API response) it holds the account's official rate-limit
state; for everyone the context window use and the session's cost as Claude Code counts it::

    "rate_limits": {"five_hour": {"used_percentage": 42, "resets_at": 1781290000},
                    "seven_day": {"used_percentage": 36, "resets_at": 1781730000}},
    "context_window": {"used_percentage": 26, "context_window_size": 1000000, ...},
    "cost": {"total_cost_usd": 0.0123, ...}, "model": {"id": "claude-opus-4-6", ...}

Percentages are numbers (int or float), ``resets_at`` Unix seconds. Any field may be missing
(older versions, API users); a value of the wrong type, negative, not finite or out of range is
treated as missing, so hostile input never stops the status line.

:func:`record` keeps an :class:`Observation` in the store's ``limit_observations`` table: at
most one row per session and UTC minute, the latest values of that minute (a feed that changes
nothing writes nothing). A document with neither rate limits, context use nor a cost is not
recorded; one without rate limits but with a cost or context use is (its limit columns are
NULL), so that Claude Code's session cost is kept for API users too. Only numbers, the session
id and the model id are kept, never transcript content. This module imports only the standard
library and the project's text formats (the status line runs every few seconds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from claude_usage.formats import compact_duration

MINUTE_US = 60_000_000
MAX_PERCENT = 1000.0  # a use above 10x the limit is not a percentage Claude Code sends
RESET_RANGE_S = (1_000_000_000, 4_102_444_800)  # 2001-09-09 to 2100-01-01, Unix seconds
MAX_CONTEXT_TOKENS = 100_000_000
MAX_COST_USD = 1_000_000.0
MAX_ID_CHARS = 200


@dataclass(frozen=True)
class Observation:
    """One status-line document's official state. Times are UTC microseconds; percentages
    0-1000 (100 = the limit); None where the document did not say (or said nonsense)."""

    observed_us: int
    session: str = ""
    five_hour_pct: float | None = None
    five_hour_reset_us: int | None = None
    seven_day_pct: float | None = None
    seven_day_reset_us: int | None = None
    context_pct: float | None = None
    context_size: int | None = None
    cost_usd: float | None = None
    model: str | None = None

    @property
    def has_limits(self) -> bool:
        """Whether the document held an official rate-limit percentage."""
        return self.five_hour_pct is not None or self.seven_day_pct is not None

    @property
    def worth_keeping(self) -> bool:
        """Whether there is anything to record (limits, context use or a session cost)."""
        return self.has_limits or self.context_pct is not None or self.cost_usd is not None


def _number(value: Any, low: float, high: float) -> float | None:
    """``value`` when it is a real number (not a bool, not NaN or infinite) in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float
        return None
    return number if math.isfinite(number) and low <= number <= high else None


def _text(value: Any) -> str | None:
    """A short identifier: a non-empty string of at most :data:`MAX_ID_CHARS` printable characters."""
    if isinstance(value, str) and value and len(value) <= MAX_ID_CHARS and value.isprintable():
        return value
    return None


def _object(document: Any, key: str) -> dict[str, Any]:
    value = document.get(key) if isinstance(document, dict) else None
    return value if isinstance(value, dict) else {}


def _window(limits: dict[str, Any], key: str) -> tuple[float | None, int | None]:
    """``(used percentage, reset time in UTC microseconds)`` of one rate-limit window."""
    window = _object(limits, key)
    percent = _number(window.get("used_percentage"), 0.0, MAX_PERCENT)
    reset = _number(window.get("resets_at"), *RESET_RANGE_S)
    return percent, None if reset is None else int(round(reset * 1_000_000))


def observation_from_hook(hook: Any, observed_us: int) -> Observation:
    """The :class:`Observation` in a status-line document (see the module docstring), made at
    ``observed_us``. Never raises: anything missing or malformed is None."""
    limits = _object(hook, "rate_limits")
    five, five_reset = _window(limits, "five_hour")
    seven, seven_reset = _window(limits, "seven_day")
    context = _object(hook, "context_window")
    size = _number(context.get("context_window_size"), 1, MAX_CONTEXT_TOKENS)
    model = _object(hook, "model").get("id")
    return Observation(
        observed_us=observed_us,
        session=_text(hook.get("session_id") if isinstance(hook, dict) else None) or "",
        five_hour_pct=five, five_hour_reset_us=five_reset,
        seven_day_pct=seven, seven_day_reset_us=seven_reset,
        context_pct=_number(context.get("used_percentage"), 0.0, 100.0),
        context_size=None if size is None else int(size),
        cost_usd=_number(_object(hook, "cost").get("total_cost_usd"), 0.0, MAX_COST_USD),
        model=_text(model),
    )


COLUMNS = ("session", "minute", "observed_us", "five_hour_pct", "five_hour_reset_us", "seven_day_pct",
           "seven_day_reset_us", "context_pct", "context_size", "cost_usd", "model")
_VALUES = COLUMNS[2:]
_UPSERT = (
    f"INSERT INTO limit_observations ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    f"ON CONFLICT (session, minute) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _VALUES)} "
    "WHERE limit_observations.observed_us <= excluded.observed_us AND ("
    + " OR ".join(f"limit_observations.{c} IS NOT excluded.{c}" for c in _VALUES[1:]) + ")"
)


def record(store: Any, observation: Observation) -> bool:
    """Keep ``observation`` in ``store`` (an embedded store: its ``writing()`` transaction):
    insert the row of its session and UTC minute, or replace that row's values with these
    later ones; a row that already holds these values is left alone. When a row was written,
    the ``observations`` counter of ``meta`` moves (what a running server polls). Returns
    whether a row was written; nothing is written for an observation not
    :attr:`~Observation.worth_keeping`."""
    if not observation.worth_keeping:
        return False
    o = observation
    values = (o.session, o.observed_us // MINUTE_US, o.observed_us, o.five_hour_pct, o.five_hour_reset_us,
              o.seven_day_pct, o.seven_day_reset_us, o.context_pct, o.context_size, o.cost_usd, o.model)
    with store.writing() as conn:
        before = conn.total_changes
        conn.execute(_UPSERT, values)
        if conn.total_changes == before:
            return False
        conn.execute("INSERT INTO meta VALUES ('observations', '1') ON CONFLICT (key) DO UPDATE SET "
                     "value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)")
    return True


def _percent(value: float) -> str:
    return f"{value:.0f}%" if value == int(value) else f"{value:.1f}%"


def status_parts(observation: Observation, now_us: int) -> list[str]:
    """The status line's parts for the official state: ``5h 42% ↻1h20m · 7d 36% ↻4d2h`` (the
    windows Claude Code gave, each with the time to its reset when that is still ahead) and
    ``ctx 26%``; empty when the document held neither."""
    windows = []
    for label, percent, reset in (("5h", observation.five_hour_pct, observation.five_hour_reset_us),
                                  ("7d", observation.seven_day_pct, observation.seven_day_reset_us)):
        if percent is not None:
            later = f" ↻{compact_duration((reset - now_us) / 60_000_000)}" if reset is not None and reset > now_us else ""
            windows.append(f"{label} {_percent(percent)}{later}")
    parts = [" · ".join(windows)] if windows else []
    if observation.context_pct is not None:
        parts.append(f"ctx {_percent(observation.context_pct)}")
    return parts
