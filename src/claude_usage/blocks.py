"""5-hour session blocks, burn rate and projection (the windows of Claude subscription limits).

Rules (issue 6): requests in time order; a block starts at the UTC hour floor of its first
request and lasts ``session_hours`` (5) hours, its end excluded. A request at or after the
block's end, or ``session_hours`` or more after the previous request, starts a new block; a pause
of ``session_hours`` or more is also reported as a gap (from the last activity + ``session_hours``
to the next block's start; when the next block's hour floor comes earlier, the gap is empty and
starts there, so that rows never overlap). A block is active when now is before its end and its last request is
less than ``session_hours`` old. All times are UTC microseconds; limits are the user's, or
estimates from past blocks, never Anthropic's quota.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from claude_usage.formats import duration_text  # noqa: F401  (the blocks' duration format)
from claude_usage.store.schema import QUARTER_HOUR_US
from claude_usage.timebuckets import iso_utc
from claude_usage.totals import Totals

if TYPE_CHECKING:
    from claude_usage.reports import Query

HOUR_US = 3_600_000_000
MINUTE_US = 60_000_000
DEFAULT_SESSION_HOURS = 5
RECENT_DAYS = 3
WARN_PERCENT = 80.0
LIMIT_RANGE = (1e-6, 1e15)  # tokens or USD; keeps percentages finite
_NUMBER = re.compile(r"^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")  # plain decimal, no sign, "_", nan or inf


@dataclass
class Block:
    """One 5-hour block, or a gap between blocks (``is_gap``). ``start_us``/``end_us`` bound the
    window; ``first_us``/``last_us`` are its first and last requests; ``limited`` tells that a
    usage-limit message fell in it, ``reset_us`` the reset time that message gave."""

    start_us: int
    end_us: int
    totals: Totals = field(default_factory=Totals)
    is_gap: bool = False
    limited: bool = False
    reset_us: int | None = None

    @property
    def first_us(self) -> int | None:
        return self.totals.first_ts_us

    @property
    def last_us(self) -> int | None:
        return self.totals.last_ts_us

    def is_active(self, now_us: int, session_us: int) -> bool:
        """Now is before the end, and the last request is less than a session length old."""
        return (not self.is_gap and self.last_us is not None and self.start_us <= now_us < self.end_us
                and now_us - self.last_us < session_us)


def floor_hour(ts_us: int) -> int:
    """The UTC hour that holds ``ts_us`` (microseconds)."""
    return ts_us - ts_us % HOUR_US


def _opens_block(ts: int, end: int | None, previous: int | None, length: int) -> bool:
    """The block rule: a request opens a new block when there is none yet, when it is at or
    after the current block's end, or when it comes ``length`` or more after the previous one."""
    return end is None or ts >= end or (previous is not None and ts - previous >= length)


def block_length_us(session_hours: float) -> int:
    """A block length in microseconds; raises ValueError unless it is a whole number of
    quarter hours from 15 minutes to 168 hours (a block then ends on a quarter hour, so the
    quarter-hour rollup gives its sums exactly)."""
    quarters = session_hours * 4
    if not (1 <= quarters <= 168 * 4) or abs(quarters - round(quarters)) > 1e-9:
        raise ValueError(f"{session_hours:g} is not a block length: use hours in steps of 0.25, from 0.25 to 168")
    return round(quarters) * QUARTER_HOUR_US


def block_spans(items: Sequence[tuple[int, int, int]], session_hours: float = DEFAULT_SESSION_HOURS) -> list[tuple[int, int, int, int]]:
    """The blocks of a time series (:func:`claude_usage.reports.activity`: ``(time, first
    request, last request)`` per quarter hour or per request, in order; UTC microseconds), by
    the block rule: ``[(start, end, first item, last item + 1)]``.

    A series per quarter hour gives the same blocks as one per request when the block length is
    a multiple of 15 minutes: a block starts on an hour, so it ends on a quarter hour, and no
    pause of a block's length fits inside one quarter hour."""
    length = int(session_hours * HOUR_US)
    spans: list[list[int]] = []
    end = previous = None
    for index, (_time, first, last) in enumerate(items):
        if _opens_block(first, end, previous, length):
            start = floor_hour(first)
            end = start + length
            spans.append([start, end, index, index + 1])
        else:
            spans[-1][3] = index + 1
        previous = last
    return [(a, b, c, d) for a, b, c, d in spans]


def query_blocks(view: Any, query: "Query", session_hours: float = DEFAULT_SESSION_HOURS) -> list[Block]:
    """Blocks and gaps of the requests ``query`` selects (with its cost mode), in time order,
    marked with the usage-limit messages that fall in them, summed from the hourly or the
    quarter-hour rollup (block lengths are whole quarter hours: see :func:`block_length_us`)."""
    from claude_usage import reports

    length = block_length_us(session_hours)
    # Whole hours, no local dates and no sessions to filter by: the hourly rollup (a block starts on an hour,
    # so it ends on one, and no pause of an hour or more fits inside an hour).
    hourly = length % (4 * QUARTER_HOUR_US) == 0 and not (query.since or query.until or query.start_hour is not None
                                                          or query.end_hour is not None or query.by_session)
    source = reports.HOURS if hourly else reports.CELLS
    items = reports.activity(view, query, source)
    spans = block_spans(items, session_hours)
    if not spans:
        return []
    # The block of each time unit with requests (in the series' own unit: hours or quarter hours).
    units = [(items[k][0], i) for i, (_start, _end, a, b) in enumerate(spans) for k in range(a, b)]
    sums = reports.grouped(view, query, reports.TIME_RANGE, source=source, units=units)
    out: list[Block] = []
    previous_last = None
    for i, (start, end, a, b) in enumerate(spans):
        if previous_last is not None and items[a][1] - previous_last >= length:
            out.append(Block(min(previous_last + length, start), start, is_gap=True))
        out.append(Block(start, end, sums.get(i) or Totals()))
        previous_last = items[b - 1][2]
    blocks = [block for block in out if not block.is_gap]
    for ts, reset, _text in reports.limit_notices(view, blocks[0].start_us, blocks[-1].end_us):
        for block in blocks:
            if block.start_us <= ts < block.end_us:
                block.limited = True
                if reset is not None:
                    block.reset_us = max(block.reset_us or 0, reset)
                break
    return out


@dataclass
class BurnRate:
    """Of the active block: tokens per minute and USD per hour over its active minutes (first to
    last request), and the totals projected to the block's end at that rate. The costs are None
    when no request of the block has a price (known costs only otherwise)."""

    tokens_per_minute: float
    cost_per_hour: float | None
    projected_tokens: int
    projected_cost: float | None
    minutes_left: float


def burn_rate(block: Block, now_us: int) -> BurnRate | None:
    """None when the block has less than a minute between its first and last request."""
    if block.first_us is None or block.last_us is None:
        return None
    minutes = (block.last_us - block.first_us) / MINUTE_US
    if minutes < 1:
        return None
    total = block.totals
    known = total.known_cost_usd
    tokens_per_minute = total.total_tokens / minutes
    cost_per_minute = None if known is None else known / minutes
    left = max(0.0, (block.end_us - now_us) / MINUTE_US)
    return BurnRate(
        tokens_per_minute=tokens_per_minute,
        cost_per_hour=None if cost_per_minute is None else cost_per_minute * 60,
        projected_tokens=round(total.total_tokens + tokens_per_minute * left),
        projected_cost=None if cost_per_minute is None else known + cost_per_minute * left,
        minutes_left=left,
    )


def parse_limit(text: str | None) -> str | float | None:
    """A limit as given on the command line or in a query: a positive number, or ``max``
    (any case); None or empty gives None. Raises ValueError saying what is wrong."""
    if text is None or str(text).strip() == "":
        return None
    value = str(text).strip()
    if value.lower() == "max":
        return "max"
    if not _NUMBER.match(value):
        raise ValueError(f"{value!r} is neither a positive number nor 'max'")
    number = float(value)
    if not number > 0:
        raise ValueError(f"{value!r} is neither a positive number nor 'max'")
    if not LIMIT_RANGE[0] <= number <= LIMIT_RANGE[1]:
        raise ValueError(f"{value!r} is out of range ({LIMIT_RANGE[0]:g} to {LIMIT_RANGE[1]:g})")
    return number


LimitGiven = tuple[float, str]


def resolve_limit(value: str | float | None, blocks: Sequence[Block], now_us: int, session_us: int,
                  by_cost: bool) -> LimitGiven | None:
    """A limit from :func:`parse_limit`: a number is the user's; ``max`` is an estimate, the
    largest completed block's total tokens (resp. cost in USD). None when not given, or when
    ``max`` has no completed block to go by. Returns ``(limit, source)``."""
    if value is None:
        return None
    if value == "max":
        past = [b for b in blocks if not b.is_gap and not b.is_active(now_us, session_us)]
        if not past:
            return None
        best = max((b.totals.cost_usd if by_cost else b.totals.total_tokens) for b in past)
        return (float(best), "estimate: largest past block") if best > 0 else None
    return float(value), "user"


def _usd6(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _limit_json(given: LimitGiven | None, by_cost: bool) -> dict[str, Any] | None:
    """A limit for JSON: tokens as an integer, USD to 1e-6."""
    if given is None:
        return None
    return {"limit": round(given[0], 6) if by_cost else int(round(given[0])), "source": given[1]}


def block_row(block: Block, now_us: int, session_us: int, token_limit: LimitGiven | None = None,
              cost_limit: LimitGiven | None = None) -> dict[str, Any]:
    """The JSON row of a block (or gap): times ISO UTC, tokens, cost USD, and for the active one
    its burn rate, projection, time to reset and use of the limits given."""
    from claude_usage.rows import usage_row

    active = block.is_active(now_us, session_us)
    row: dict[str, Any] = {
        "start": iso_utc(block.start_us),
        "end": iso_utc(block.end_us),
        "isGap": block.is_gap,
        "isActive": active,
    }
    if block.is_gap:
        return row
    row.update({
        "firstActivity": iso_utc(block.first_us),
        "actualEnd": iso_utc(block.last_us),
        **usage_row(block.totals),
        "limited": block.limited,
        "limitResetTime": iso_utc(block.reset_us),
    })
    if active:
        rate = burn_rate(block, now_us)
        reset_us = block.reset_us if block.limited and block.reset_us and block.reset_us > now_us else block.end_us
        row["timeToResetMinutes"] = round(max(0, reset_us - now_us) / MINUTE_US, 1)
        row["burnRate"] = None if rate is None else {
            "tokensPerMinute": round(rate.tokens_per_minute, 2), "costPerHour": _usd6(rate.cost_per_hour)}
        row["projection"] = None if rate is None else {
            "totalTokens": rate.projected_tokens, "costUsd": _usd6(rate.projected_cost), "minutesLeft": round(rate.minutes_left, 1)}
        limits = {}
        for name, given, used, projected in (
            ("tokens", token_limit, block.totals.total_tokens, rate.projected_tokens if rate else None),
            ("cost", cost_limit, block.totals.known_cost_usd, rate.projected_cost if rate else None),
        ):
            if given is not None and used is not None:  # no cost share of a block without prices
                limit = given[0]
                percent = 100.0 * used / limit
                projected_percent = 100.0 * projected / limit if projected is not None else None
                limits[name] = {
                    **_limit_json(given, name == "cost"),  # type: ignore[dict-item]
                    "percentUsed": round(percent, 1),
                    "projectedPercent": None if projected_percent is None else round(projected_percent, 1),
                    "warning": percent >= WARN_PERCENT or (projected_percent or 0) >= 100.0,
                }
        row["limits"] = limits
    return row


def blocks_document(
    blocks: Sequence[Block],
    now_us: int,
    session_hours: float = DEFAULT_SESSION_HOURS,
    active_only: bool = False,
    recent: bool = False,
    token_limit: str | float | None = None,
    cost_limit: str | float | None = None,
) -> dict[str, Any]:
    """The blocks document of the CLI's ``--json`` and ``GET /api/v2/blocks``:
    ``{blocks: [rows of block_row, oldest first], sessionLengthHours, tokenLimit, costLimit,
    now}`` (limits ``{limit, source}`` or null; ``now`` ISO UTC).

    ``active_only`` keeps the active block; ``recent`` the blocks and gaps that start in the last
    :data:`RECENT_DAYS` days, plus the active one (without a first gap: its block is not shown).
    Limits come from :func:`parse_limit`; ``max`` is estimated from every block given, not only
    the ones shown.
    """
    session_us = int(session_hours * HOUR_US)
    tokens = resolve_limit(token_limit, blocks, now_us, session_us, by_cost=False)
    cost = resolve_limit(cost_limit, blocks, now_us, session_us, by_cost=True)
    shown = list(blocks)
    if active_only:
        shown = [b for b in blocks if b.is_active(now_us, session_us)]
    elif recent:
        cutoff = now_us - RECENT_DAYS * 24 * HOUR_US
        shown = [b for b in blocks if b.start_us >= cutoff or b.is_active(now_us, session_us)]
        while shown and shown[0].is_gap:  # a pause after a block that is not shown
            shown.pop(0)
    return {
        "blocks": [block_row(b, now_us, session_us, tokens, cost) for b in shown],
        "sessionLengthHours": session_hours,
        "tokenLimit": _limit_json(tokens, by_cost=False),
        "costLimit": _limit_json(cost, by_cost=True),
        "now": iso_utc(now_us),
    }
