"""The report filters applied to the files beside the transcripts (issue 14): MCP server logs
and TodoWrite lists, which hold no usage, take the date range and the project filter.

- Dates (local, inclusive, in the query's zone): a log file covers the time from its name (the
  moment Claude Code opened it, ``2025-11-02T08-05-19-374Z.txt``; else its modification time)
  to its last modification; it is shown when that span meets the range. A todo list is shown
  when it was last written within the range.
- Project: a log belongs to the project whose key is its folder (Claude Code encodes the launch
  directory the same way for both); a todo list to the projects of its session (from the store,
  SQL over the per-session sums).
- Model: these files name no model; the filter does not apply to them.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Sequence

from claude_usage.timebuckets import local_day_bounds_us

_LOG_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})(?:-(\d{1,6}))?Z")


def log_opened_us(name: str) -> int | None:
    """The UTC time (microseconds) a log file's name gives (``2025-11-02T08-05-19-374Z.txt``),
    None when the name is not such a time."""
    found = _LOG_NAME.match(name)
    if not found:
        return None
    try:
        moment = datetime(*(int(part) for part in found.groups()[:6]), tzinfo=timezone.utc)
    except ValueError:
        return None
    fraction = (found[7] or "0").ljust(6, "0")
    return int(moment.timestamp()) * 1_000_000 + int(fraction)


def _in_range(first_us: int, last_us: int, bounds: tuple[int | None, int | None]) -> bool:
    start, end = bounds
    return (start is None or last_us >= start) and (end is None or first_us < end)


def logs_in(summaries: Sequence[Any], query: Any) -> list[Any]:
    """The MCP log summaries (:class:`~claude_usage.sources.mcp_logs.LogSummary`) that ``query``
    selects by dates and project (its project keys); ``query`` None selects all."""
    if query is None:
        return list(summaries)
    bounds = local_day_bounds_us(query.clock.zone, query.since, query.until)
    projects = _keys(query.project)
    kept = []
    for summary in summaries:
        if projects is not None and summary.log.project not in projects:
            continue
        modified = int(summary.mtime * 1_000_000)
        opened = log_opened_us(summary.log.path.name)
        if _in_range(min(opened, modified) if opened is not None else modified, modified, bounds):
            kept.append(summary)
    return kept


def project_sessions(view: Any, projects: Sequence[str]) -> set[str]:
    """The ids of the sessions with requests in any of the ``projects`` (keys)."""
    if not projects:
        return set()
    marks = ", ".join("?" * len(projects))
    return {name for (name,) in view.rows(
        "SELECT DISTINCT s.name FROM session_usage u JOIN sessions s ON s.id = u.session_id "
        f"WHERE u.project_id IN (SELECT id FROM projects WHERE name IN ({marks}))", list(projects))}


def todos_in(todos: Sequence[Any], query: Any, sessions: set[str] | None) -> list[Any]:
    """The todo lists (:class:`~claude_usage.sources.todos.TodoList`) last written within the
    dates of ``query`` whose session is in ``sessions`` (None: any session)."""
    if query is None:
        return list(todos)
    bounds = local_day_bounds_us(query.clock.zone, query.since, query.until)
    return [todo for todo in todos
            if (sessions is None or todo.session_id in sessions)
            and _in_range(int(todo.mtime * 1_000_000), int(todo.mtime * 1_000_000), bounds)]


def _keys(value: Any) -> set[str] | None:
    if value is None:
        return None
    return {value} if isinstance(value, str) else set(value)
