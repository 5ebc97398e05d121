"""Tool and MCP analytics from the transcripts' ``tool_use`` and ``tool_result`` blocks.

Each ``tool_use`` id counts once (lines repeat in resumed sessions); an error is a
``tool_result`` with ``is_error: true`` for that id. MCP tools are named
``mcp__<server>__<tool>``, or ``mcp__plugin_<plugin>_<server>__<tool>`` for plugin servers.

Every function takes the report filters (a :class:`~claude_usage.reports.Query`, issue 14):
local dates in the query's zone (inclusive), project keys and model ids; each call counts by
its first copy (its time, project and the model whose response called it). SQL over the
stored tool uses, as every report (DESIGN section 7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from claude_usage.timebuckets import iso_utc, local_day_bounds_us

MCP_PREFIX = "mcp__"
LATEST_MCP_SESSIONS = 50
HIGH_ERROR_RATE = 0.10  # a tool failing this often is highlighted


@dataclass(frozen=True)
class ToolName:
    """A tool name split into its parts: ``server`` and ``plugin`` are None for built-in tools."""

    name: str
    server: str | None
    tool: str
    plugin: str | None = None

    @property
    def is_mcp(self) -> bool:
        """True for MCP tools (``mcp__...``)."""
        return self.server is not None


def split_tool_name(name: str) -> ToolName:
    """Split ``mcp__<server>__<tool>`` (the server is the part up to the next ``__``).

    Plugin servers, ``mcp__plugin_<plugin>_<server>__<tool>``, keep ``plugin_<plugin>_<server>``
    as the server (as their log directory ``mcp-logs-plugin-<plugin>-<server>`` does) and give
    ``plugin``: the name between ``plugin_`` and the server; when both names are equal
    (``plugin_github_github``) the split is exact, otherwise the plugin is taken to end at the
    first ``_``. Anything else is a built-in tool.
    """
    if not name.startswith(MCP_PREFIX):
        return ToolName(name, None, name)
    rest = name[len(MCP_PREFIX):]
    server, sep, tool = rest.partition("__")
    if not sep or not server or not tool:
        return ToolName(name, None, name)
    plugin = None
    if server.startswith("plugin_"):
        inner = server[len("plugin_"):]
        half = (len(inner) - 1) // 2
        if len(inner) % 2 == 1 and inner[half] == "_" and inner[:half] == inner[half + 1:]:
            plugin = inner[:half]
        else:
            plugin = inner.partition("_")[0] or None
    return ToolName(name, server, tool, plugin)


@dataclass
class ToolStats:
    """Use of one tool: ``calls`` (distinct tool_use ids), ``errors`` (error results),
    ``sessions`` (distinct sessions), the first and last use (UTC microseconds)."""

    name: ToolName
    calls: int = 0
    errors: int = 0
    sessions: int = 0
    first_ts_us: int | None = None
    last_ts_us: int | None = None

    @property
    def error_rate(self) -> float:
        """Errors per call (0-1); 0 without calls."""
        return self.errors / self.calls if self.calls else 0.0

    def row(self) -> dict[str, Any]:
        """The JSON row of ``/api/v2/tools``: name, server (MCP only), calls, errors,
        ``errorRate`` (errors per call, 0-1), sessionCount, firstUsed, lastUsed (ISO UTC)."""
        return {
            "name": self.name.name,
            "server": self.name.server,
            "tool": self.name.tool,
            "plugin": self.name.plugin,
            "mcp": self.name.is_mcp,
            "calls": self.calls,
            "count": self.calls,
            "errors": self.errors,
            "errorRate": round(self.error_rate, 6),
            "sessionCount": self.sessions,
            "firstUsed": iso_utc(self.first_ts_us),
            "lastUsed": iso_utc(self.last_ts_us),
        }


def _first_copies(only: str | None = None) -> str:
    """The CTE ``first_copies``: each tool_use id once, its earliest copy (then by session id),
    as the transcripts repeat lines. ``only``: a condition on ``name`` of ``tool_names`` that
    narrows the calls before they are ranked (the copies of a call share its name), so that
    MCP tools or one tool cost a ranking of their own calls only."""
    narrow = f" WHERE t.name_id IN (SELECT id FROM tool_names WHERE {only})" if only else ""
    return f"""
WITH first_copies AS (
    SELECT t.tool_key, t.name_id, t.session_id, t.cwd_id, t.ts, t.project_id, t.model_id,
           ROW_NUMBER() OVER (PARTITION BY t.tool_key ORDER BY t.ts, s.name) AS place
    FROM tool_uses t JOIN sessions s ON s.id = t.session_id{narrow})
"""


_MCP_NAME = f"substr(name, 1, {len(MCP_PREFIX)}) = '{MCP_PREFIX}'"


def _filtered(query: Any) -> tuple[list[str], list[Any]]:
    """The WHERE conditions (over ``first_copies f``) and parameters of the report filters:
    the local dates as a UTC range, the project keys and the model ids."""
    from claude_usage.reports import name_condition

    where, params = ["f.place = 1"], []
    if query is None:
        return where, params
    first, end = local_day_bounds_us(query.clock.zone, query.since, query.until)
    if first is not None:
        where.append("f.ts >= ?")
        params.append(first)
    if end is not None:
        where.append("f.ts < ?")
        params.append(end)
    for column, table, value in (("f.project_id", "projects", query.project), ("f.model_id", "models", query.model)):
        if value is not None:
            condition, names = name_condition(column, table, value)
            where.append(condition)
            params += names
    return where, params


def tool_stats(view: Any, mcp_only: bool = False, name: str | None = None, query: Any = None) -> dict[str, ToolStats]:
    """Per tool name: calls, error results, sessions, first and last use (SQL over the stored
    tool uses) of the calls ``query`` selects (None: all); only MCP tools with ``mcp_only``,
    only ``name`` when given."""
    where, params = _filtered(query)
    only = " AND ".join(([_MCP_NAME] if mcp_only else []) + (["name = ?"] if name is not None else [])) or None
    if name is not None:
        params.insert(0, name)
    rows = view.rows(
        f"{_first_copies(only)} SELECT n.name, COUNT(*), "
        "SUM(CASE WHEN f.tool_key IN (SELECT tool_key FROM tool_errors) THEN 1 ELSE 0 END), "
        "COUNT(DISTINCT f.session_id), MIN(f.ts), MAX(f.ts) "
        f"FROM first_copies f JOIN tool_names n ON n.id = f.name_id WHERE {' AND '.join(where)} GROUP BY n.name", params)
    return {row[0]: ToolStats(split_tool_name(row[0]), row[1], row[2], row[3], row[4], row[5]) for row in rows}


def ranked(stats: dict[str, ToolStats]) -> list[ToolStats]:
    """Most called first, then by name."""
    return sorted(stats.values(), key=lambda s: (-s.calls, s.name.name))


def session_tool_use(view: Any, name: str | None = None, query: Any = None) -> list[dict[str, Any]]:
    """Per session that called MCP tools (or the tool ``name``), of the calls ``query``
    selects: ``{sessionId, cwd, startTime, endTime, tools: {name: count}}`` (start and end are
    the first and last of those calls, ISO UTC; cwd the first call's with one), latest first."""
    where, params = _filtered(query)
    if name is not None:
        params.insert(0, name)
    sessions: dict[str, dict[str, Any]] = {}
    for session, tool, ts, cwd in view.rows(
            f"{_first_copies('name = ?' if name is not None else _MCP_NAME)} SELECT s.name, n.name, f.ts, c.name FROM first_copies f "
            "JOIN tool_names n ON n.id = f.name_id JOIN sessions s ON s.id = f.session_id "
            f"LEFT JOIN cwds c ON c.id = f.cwd_id WHERE {' AND '.join(where)} ORDER BY f.ts, n.name", params):
        entry = sessions.get(session)
        if entry is None:
            entry = sessions[session] = {"sessionId": session, "cwd": cwd, "start": ts, "end": ts, "tools": {}}
        entry["end"] = ts
        entry["cwd"] = entry["cwd"] or cwd
        entry["tools"][tool] = entry["tools"].get(tool, 0) + 1
    ordered = sorted(sessions.values(), key=lambda e: (e["end"], e["sessionId"]), reverse=True)
    return [
        {"sessionId": e["sessionId"], "cwd": e["cwd"], "startTime": iso_utc(e["start"]),
         "endTime": iso_utc(e["end"]), "tools": dict(sorted(e["tools"].items()))}
        for e in ordered
    ]


def mcp_first_calls(view: Any) -> list[tuple[int, int, int, int | None]]:
    """The first copy of every MCP call as ``(ts µs, session id, project id, model id)``
    (store ids), in time order: what :func:`count_mcp_sessions` counts from, for any filters."""
    return view.rows(f"{_first_copies(_MCP_NAME)} SELECT f.ts, f.session_id, f.project_id, f.model_id "
                     "FROM first_copies f WHERE f.place = 1 ORDER BY f.ts, f.session_id")


def count_mcp_sessions(view: Any, calls: list[tuple[int, int, int, int | None]], query: Any = None) -> int:
    """How many sessions made the MCP ``calls`` (from :func:`mcp_first_calls`) that ``query``
    selects (None: all): within its local dates (a binary search), projects and models."""
    from bisect import bisect_left

    if query is None:
        return len({session for _ts, session, _project, _model in calls})
    first, end = local_day_bounds_us(query.clock.zone, query.since, query.until)
    low = 0 if first is None else bisect_left(calls, (first,))
    high = len(calls) if end is None else bisect_left(calls, (end,))

    def ids(table: str, value: str | tuple[str, ...] | None) -> set[int] | None:
        """The ids of the names a filter gives (None: no filter)."""
        if value is None:
            return None
        names = [value] if isinstance(value, str) else list(value)
        if not names:
            return set()
        return {row[0] for row in view.rows(f"SELECT id FROM {table} WHERE name IN ({', '.join('?' * len(names))})", names)}

    projects, models = ids("projects", query.project), ids("models", query.model)
    return len({session for _ts, session, project, model in calls[low:high]
                if (projects is None or project in projects) and (models is None or model in models)})


def mcp_session_count(view: Any, query: Any = None) -> int:
    """How many sessions used at least one MCP tool (in the calls ``query`` selects; None:
    all). The server keeps :func:`mcp_first_calls` between writes and counts with
    :func:`count_mcp_sessions` itself."""
    return count_mcp_sessions(view, mcp_first_calls(view), query)
