"""``claude-usage statusline``: one line for Claude Code's status bar.

Claude Code runs the status-line command with a JSON object on stdin (``session_id``,
``transcript_path``, ``cwd``, ``model``, ``workspace``, ``version``, ``cost``...; any field may be
missing). The line shows the official rate-limit use Claude Code passes (``rate_limits``: the
five-hour and seven-day percentages with the time to their reset) and the context use when the
document has them, then the session's cost, today's cost, the active 5-hour block's cost, its
time left, its burn rate and the budgets past their first alert threshold. The official state
is recorded in the store (:mod:`claude_usage.official_limits`) in the same run. It reads only
what changed in the index (costs are stored there and resolved rates cached, so the price
package is not imported for known models and days), sums only the rollup cells it shows, and
imports neither the price package nor the web stack nor the CLI framework.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from claude_usage.blocks import DEFAULT_SESSION_HOURS, HOUR_US, burn_rate, duration_text, floor_hour
from claude_usage.official_limits import observation_from_hook, record, status_parts
from claude_usage.rows import money_text
from claude_usage.store.schema import QUARTER_HOUR_US
from claude_usage.totals import Totals

USAGE = ("usage: claude-usage statusline [--data-dir DIR]... [--tz ZONE] [--index PATH] < hook.json\n"
         "Prints one line for Claude Code's status bar; settings.json: "
         '"statusLine": {"type": "command", "command": "claude-usage statusline"}')
HISTORY_US = 26 * HOUR_US  # covers the local day (25 hours at most)
LOCAL_ZONE_SECONDS = 600


def active_block(view, query, now_us: int, session_hours: float = DEFAULT_SESSION_HOURS):
    """The active 5-hour block at ``now_us`` (UTC microseconds), or None. Reads only the recent
    quarter-hour cells (an index on time): the window widens back from the last 26 hours until
    it holds a pause of a block's length, where the chain of blocks that leads to now begins."""
    from dataclasses import replace

    from claude_usage.blocks import query_blocks
    from claude_usage.reports import CELLS, activity

    session_us = int(session_hours * HOUR_US)
    source = CELLS
    window = HISTORY_US
    first_qh = (view.one("SELECT MIN(qh) FROM usage_qh") or (None,))[0]
    if first_qh is None:
        return None
    while True:
        after = floor_hour(max(0, now_us - window))
        items = activity(view, replace(query, after_us=after), source)
        if not items or now_us - items[-1][2] >= session_us:
            return None
        chain = next((i for i in range(len(items) - 1, 0, -1) if items[i][1] - items[i - 1][2] >= session_us), None)
        if chain is not None or after <= first_qh * QUARTER_HOUR_US:
            start = floor_hour(items[chain or 0][1])
            break
        window *= 2
    blocks = query_blocks(view, replace(query, after_us=start), session_hours)
    last = blocks[-1] if blocks else None
    return last if last is not None and last.is_active(now_us, session_us) else None


def _hook(stream: TextIO) -> dict[str, Any]:
    try:
        data = json.loads(stream.read() or "{}")
    except (ValueError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def _roots(hook: dict[str, Any], data_dirs: list[str]) -> list:
    """The data roots: ``--data-dir``, else the usual discovery (environment, then the default
    dirs; the same index as the other commands), else the projects dir holding the hook's
    transcript when discovery does not cover it. Empty when there is no data."""
    from claude_usage.sources.discovery import DataRoot, NoDataError, RootError, is_within, resolve_roots

    try:
        roots = list(resolve_roots(data_dirs or None).roots)
    except (RootError, NoDataError):
        if data_dirs:
            return []
        roots = []
    transcript = hook.get("transcript_path")
    if not data_dirs and isinstance(transcript, str) and transcript:
        path = Path(transcript).expanduser()
        if not any(is_within(path, root.projects_dir) for root in roots):
            for parent in path.parents:
                if parent.name == "projects" and parent.is_dir():
                    return [DataRoot(parent, parent.parent, "statusline")]
    return roots


def _money(totals: Totals) -> str:
    """The known cost of a group: ``n/a`` when none of its requests has a price, a ``*`` when
    some have none (never $0 for a model without a price)."""
    known = totals.known_cost_usd
    if known is None:
        return "n/a"
    return money_text(known) + ("*" if totals.unpriced_requests else "")


def _model_name(hook: dict[str, Any]) -> str | None:
    """The model's display name (else its id), when it is a short printable string."""
    model = hook.get("model")
    name = (model.get("display_name") or model.get("id")) if isinstance(model, dict) else model
    return name if isinstance(name, str) and name and len(name) <= 200 and name.isprintable() else None


def status_line(hook: dict[str, Any], data_dirs: list[str] | None = None, zone: str | None = None,
                now_us: int | None = None, session_hours: float = DEFAULT_SESSION_HOURS,
                index_path: str | None = None) -> str:
    """The status line for a hook object (see the module docstring); never raises for missing
    or odd fields, nor for missing data (the line then says what it can). The store is
    ``index_path``, else ``$CLAUDE_USAGE_INDEX``, else the one the other commands use for the
    same data dirs. ``now_us``: UTC microseconds (default: now); ``zone``: for "today"."""
    from claude_usage.alerts import status_line_segments
    from claude_usage.pricing import Pricer
    from claude_usage.reports import Query, clock_for, overall
    from claude_usage.store import open_store
    from claude_usage.timebuckets import local_zone_name

    now_us = now_us if now_us is not None else time.time_ns() // 1000
    parts: list[str] = []
    name = _model_name(hook)
    if name:
        parts.append(name)
    observation = observation_from_hook(hook, now_us)
    parts += status_parts(observation, now_us)
    roots = _roots(hook, list(data_dirs or []))
    if not roots:
        parts.append("claude-usage: no usage data found")
        return " | ".join(parts)
    chosen = index_path or os.environ.get("CLAUDE_USAGE_INDEX")
    store = open_store(roots, Path(chosen).expanduser() if chosen else None, verify="light")
    try:
        store.refresh(Pricer)
        try:
            record(store, observation)
        except sqlite3.OperationalError:  # a store busy past its timeout: this observation is skipped
            pass
        # Asking the system for its zone (tzlocal) costs more than the rest of a run: the answer
        # is kept in the store for 10 minutes.
        clock = clock_for(zone, lambda: store.remembered("local_zone", LOCAL_ZONE_SECONDS, local_zone_name))
        query = Query(zone=clock.name)
        today = clock.parts(now_us)[0]
        session_id = hook.get("session_id")
        with store.reading() as view:
            today_totals = overall(view, Query(zone=clock.name, since=today, until=today))
            session_totals = None
            if isinstance(session_id, str) and session_id:
                session_totals = overall(view, Query(session=session_id))
            active = active_block(view, query, now_us, session_hours)
        budget_parts = status_line_segments(store, clock.name, now_us)
    finally:
        store.close()
    parts.append(f"{_money(session_totals)} session" if session_totals is not None else "no session")
    parts.append(f"{_money(today_totals)} today")
    if active is None:
        parts.append("no active block")
    else:
        left = max(0.0, (active.end_us - now_us) / 60_000_000)
        parts.append(f"{_money(active.totals)} block ({duration_text(left)} left)")
        if active.limited and active.reset_us is not None and active.reset_us > now_us:
            parts.append(f"limit hit, resets in {duration_text((active.reset_us - now_us) / 60_000_000)}")
        rate = burn_rate(active, now_us)
        if rate is not None:
            per_hour = "n/a" if rate.cost_per_hour is None else money_text(rate.cost_per_hour)
            parts.append(f"{per_hour}/h, {rate.tokens_per_minute:,.0f} tok/min")
    return " | ".join(parts + budget_parts)


def main(argv: list[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Entry point: ``claude-usage statusline [--data-dir DIR]... [--tz ZONE] [--index PATH]``
    with the hook JSON on stdin; prints one line. Exit code 0 even when data are missing (a
    status bar shows what it gets), 2 for an unknown option."""
    argv = list(sys.argv[2:] if argv is None else argv)
    data_dirs: list[str] = []
    zone = index_path = None
    while argv:
        flag = argv.pop(0)
        if flag in ("-h", "--help"):
            print(USAGE, file=stdout or sys.stdout)
            return 0
        if flag == "--data-dir" and argv:
            data_dirs.append(argv.pop(0))
        elif flag == "--tz" and argv:
            zone = argv.pop(0)
        elif flag == "--index" and argv:
            index_path = argv.pop(0)
        elif flag in ("--data-dir", "--tz", "--index"):
            print(f"claude-usage statusline: option {flag} needs a value\n{USAGE}", file=sys.stderr)
            return 2
        else:
            print(f"claude-usage statusline: unknown option {flag!r}\n{USAGE}", file=sys.stderr)
            return 2
    try:
        line = status_line(_hook(stdin or sys.stdin), data_dirs, zone, index_path=index_path)
    except Exception as error:  # a status bar must always get a line
        line = f"claude-usage: {type(error).__name__}: {error}"
    print(line, file=stdout or sys.stdout)
    return 0
