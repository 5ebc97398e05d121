"""The recorded official limits as reports: the latest state, its history, the limit hits, our
own estimate beside it, and Claude Code's session costs (issue 15, item 1).

The observations (:mod:`claude_usage.official_limits`) live in the embedded store only: a team
store (DESIGN 12) holds the pushed requests, not what one machine's status line was told, so
every function here answers "nothing observed" on it (:func:`available`). Times are UTC
microseconds in, ISO-8601 UTC strings (``...Z``) out; percentages as Claude Code gave them
(100 = the limit).
"""

from __future__ import annotations

from typing import Any, Sequence

from claude_usage.blocks import DEFAULT_SESSION_HOURS, HOUR_US, MINUTE_US, Block, resolve_limit
from claude_usage.official_limits import COLUMNS, Observation
from claude_usage.timebuckets import iso_utc

HISTORY_POINTS = 720  # points of a history at most: longer spans are summed into wider buckets
COST_TOLERANCE = 0.05  # doctor: a session whose two costs differ by more than this share
_CHUNK = 500
_FIELDS = ", ".join(c for c in COLUMNS if c != "minute")
_WITH_LIMITS = "(five_hour_pct IS NOT NULL OR seven_day_pct IS NOT NULL)"


def available(view: Any) -> bool:
    """Whether ``view`` is of a store that keeps observations (the embedded one)."""
    return getattr(view, "dialect", "sqlite") == "sqlite"


def _observation(row: Sequence[Any]) -> Observation:
    session, observed, five, five_reset, seven, seven_reset, context, size, cost, model = row
    return Observation(observed, session, five, five_reset, seven, seven_reset, context, size, cost, model)


def latest(view: Any) -> Observation | None:
    """The most recent observation that held official rate limits, None when there is none."""
    if not available(view):
        return None
    row = view.one(f"SELECT {_FIELDS} FROM limit_observations WHERE {_WITH_LIMITS} ORDER BY observed_us DESC LIMIT 1")
    return None if row is None else _observation(row)


def _window_json(percent: float | None, reset_us: int | None, now_us: int) -> dict[str, Any] | None:
    if percent is None:
        return None
    return {
        "usedPercentage": percent,
        "resetsAt": iso_utc(reset_us),
        "resetsInSeconds": None if reset_us is None else max(0, (reset_us - now_us) // 1_000_000),
        # The window ended since it was observed: its percentage is that of the past window.
        "hasReset": reset_us is not None and reset_us <= now_us,
    }


def official_json(observation: Observation | None, now_us: int) -> dict[str, Any] | None:
    """The official state for JSON (``/api/v2/limits``' ``official``, the summary's and the
    blocks' ``officialLimits``): ``{observedAt, sessionId, model, fiveHour, sevenDay, context,
    claudeCodeCostUsd}``; a window is ``{usedPercentage, resetsAt, resetsInSeconds, hasReset}``
    or null, ``context`` ``{usedPercentage, windowSize}`` or null. None for no observation."""
    if observation is None:
        return None
    o = observation
    return {
        "observedAt": iso_utc(o.observed_us),
        "sessionId": o.session or None,
        "model": o.model,
        "fiveHour": _window_json(o.five_hour_pct, o.five_hour_reset_us, now_us),
        "sevenDay": _window_json(o.seven_day_pct, o.seven_day_reset_us, now_us),
        "context": None if o.context_pct is None else {"usedPercentage": o.context_pct, "windowSize": o.context_size},
        "claudeCodeCostUsd": o.cost_usd,
    }


def official_limits(view: Any, now_us: int) -> dict[str, Any] | None:
    """:func:`official_json` of :func:`latest`."""
    return official_json(latest(view), now_us)


def bucket_us(first_us: int, end_us: int, points: int = HISTORY_POINTS) -> int:
    """The width of a history bucket for the span: a whole number of minutes, at least one,
    so that the span has at most ``points`` buckets."""
    minutes = -(-max(0, end_us - first_us) // (points * MINUTE_US))
    return max(1, minutes) * MINUTE_US


def history(view: Any, first_us: int, end_us: int) -> tuple[int, list[dict[str, Any]]]:
    """The official percentages observed in ``[first_us, end_us)``: ``(bucket width in
    microseconds, [{at, fiveHourPercent, sevenDayPercent, observations}])`` in time order, one
    point per bucket with observations (see :func:`bucket_us`): the highest percentage of the
    bucket (the limits are the account's, so every session reports the same)."""
    width = bucket_us(first_us, end_us)
    if not available(view):
        return width, []
    rows = view.rows(
        f"SELECT observed_us / ?, MAX(five_hour_pct), MAX(seven_day_pct), COUNT(*) FROM limit_observations "
        f"WHERE observed_us >= ? AND observed_us < ? AND {_WITH_LIMITS} GROUP BY observed_us / ? ORDER BY 1",
        (width, first_us, end_us, width))
    return width, [{"at": iso_utc(bucket * width), "fiveHourPercent": five, "sevenDayPercent": seven,
                    "observations": count} for bucket, five, seven, count in rows]


def hits(view: Any, first_us: int, end_us: int) -> list[dict[str, Any]]:
    """The limit hits in ``[first_us, end_us)``, in time order: the usage-limit messages of the
    transcripts (``source: "transcript"``, ``window`` null: the message does not say which) and,
    per window and reset time, the first observation at 100% or more (``source:
    "statusLine"``, ``window`` ``fiveHour`` or ``sevenDay``, ``usedPercentage``). Each is
    ``{at, source, window, resetsAt, usedPercentage}``."""
    from claude_usage import reports

    found = [{"at": iso_utc(ts), "source": "transcript", "window": None, "resetsAt": iso_utc(reset),
              "usedPercentage": None, "_ts": ts} for ts, reset, _text in reports.limit_notices(view, first_us, end_us - 1)]
    if available(view):
        for window, column in (("fiveHour", "five_hour"), ("sevenDay", "seven_day")):
            for ts, reset, percent in view.rows(
                    f"SELECT MIN(observed_us), {column}_reset_us, MAX({column}_pct) FROM limit_observations "
                    f"WHERE {column}_pct >= 100 AND observed_us >= ? AND observed_us < ? "
                    f"GROUP BY {column}_reset_us", (first_us, end_us)):
                found.append({"at": iso_utc(ts), "source": "statusLine", "window": window, "resetsAt": iso_utc(reset),
                              "usedPercentage": percent, "_ts": ts})
    found.sort(key=lambda hit: (hit["_ts"], hit["source"], hit["window"] or ""))
    for hit in found:
        del hit["_ts"]
    # Copies of one message (a transcript copied by a resume) share time and reset: kept once.
    return [hit for i, hit in enumerate(found) if i == 0 or hit != found[i - 1]]


def estimate(blocks: Sequence[Block], now_us: int, session_hours: float = DEFAULT_SESSION_HOURS) -> dict[str, Any] | None:
    """Our own estimate of the active 5-hour block (from the transcripts, as ``blocks`` with the
    ``max`` token limit): ``{start, end, resetsInSeconds, costUsd, totalTokens, limitTokens,
    limitSource, percentUsed}``, where the limit is the largest completed block's tokens and
    ``percentUsed`` the block's share of it (both null without a completed block). None when no
    block is active."""
    session_us = int(session_hours * HOUR_US)
    active = next((b for b in reversed(blocks) if b.is_active(now_us, session_us)), None)
    if active is None:
        return None
    limit = resolve_limit("max", blocks, now_us, session_us, by_cost=False)
    tokens = active.totals.total_tokens
    return {
        "start": iso_utc(active.start_us),
        "end": iso_utc(active.end_us),
        "resetsInSeconds": max(0, (active.end_us - now_us) // 1_000_000),
        "costUsd": None if active.totals.known_cost_usd is None else round(active.totals.known_cost_usd, 6),
        "totalTokens": tokens,
        "limitTokens": None if limit is None else int(round(limit[0])),
        "limitSource": None if limit is None else limit[1],
        "percentUsed": None if limit is None else round(100.0 * tokens / limit[0], 1),
    }


def session_costs(view: Any, sessions: Sequence[str]) -> dict[str, float]:
    """Claude Code's own cost of each of ``sessions`` (``cost.total_cost_usd``), as last
    observed; sessions never observed with a cost are absent."""
    if not available(view) or not sessions:
        return {}
    found: dict[str, float] = {}
    names = sorted(set(sessions))
    for at in range(0, len(names), _CHUNK):
        chunk = names[at: at + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        found.update(view.rows(
            f"SELECT o.session, o.cost_usd FROM limit_observations o WHERE o.session IN ({marks}) AND o.cost_usd IS NOT NULL "
            "AND o.observed_us = (SELECT MAX(p.observed_us) FROM limit_observations p "
            "WHERE p.session = o.session AND p.cost_usd IS NOT NULL)", chunk))
    return found


def observed_sessions(view: Any) -> list[str]:
    """Every session observed with a cost of Claude Code's."""
    if not available(view):
        return []
    return [name for (name,) in view.rows(
        "SELECT DISTINCT session FROM limit_observations WHERE cost_usd IS NOT NULL AND session <> '' ORDER BY session")]


def cost_mismatches(view: Any, query: Any, tolerance: float = COST_TOLERANCE) -> tuple[int, list[dict[str, Any]]]:
    """Claude Code's own session costs (:func:`session_costs`) against ours from the
    transcripts (``query``'s cost mode, known costs): ``(sessions compared, mismatches)``,
    the mismatches being the sessions whose two costs differ by more than ``tolerance`` of
    Claude Code's: ``[{sessionId, claudeCodeCostUsd, costUsd, differenceUsd (ours minus
    Claude Code's), differencePercent (of Claude Code's; null when it is 0)}]``, largest
    difference first. Sessions observed but absent from the transcripts are not compared."""
    from dataclasses import replace

    from claude_usage import reports

    theirs = session_costs(view, observed_sessions(view))
    if not theirs:
        return 0, []
    ours = reports.grouped(view, replace(query, sessions=tuple(sorted(theirs))), reports.SESSION)
    found = []
    compared = 0
    for session, claude_code in theirs.items():
        totals = ours.get(session)
        if totals is None:
            continue
        compared += 1
        mine = totals.known_cost_usd or 0.0
        difference = mine - claude_code
        if abs(difference) > tolerance * claude_code:
            found.append({
                "sessionId": session, "claudeCodeCostUsd": round(claude_code, 6), "costUsd": round(mine, 6),
                "differenceUsd": round(difference, 6),
                "differencePercent": round(100.0 * difference / claude_code, 1) if claude_code else None,
            })
    found.sort(key=lambda row: (-abs(row["differenceUsd"]), row["sessionId"]))
    return compared, found


def limits_document(view: Any, first_us: int, end_us: int, now_us: int, blocks: Sequence[Block]) -> dict[str, Any]:
    """``GET /api/v2/limits``: ``{official (see official_json, or null), estimate (see
    estimate, or null), history: {bucketSeconds, points}, hits, since, until}`` for the span
    ``[first_us, end_us)``."""
    width, points = history(view, first_us, end_us)
    return {
        "official": official_limits(view, now_us),
        "estimate": estimate(blocks, now_us),
        "history": {"bucketSeconds": width // 1_000_000, "points": points},
        "hits": hits(view, first_us, end_us),
        "since": iso_utc(first_us),
        "until": iso_utc(end_us),
    }
