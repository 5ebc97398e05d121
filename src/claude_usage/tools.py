"""Tool and MCP analytics from the transcripts' ``tool_use`` and ``tool_result`` blocks.

Each ``tool_use`` id counts once (lines repeat in resumed sessions); an error is a
``tool_result`` with ``is_error: true`` for that id. MCP tools are named
``mcp__<server>__<tool>``, or ``mcp__plugin_<plugin>_<server>__<tool>`` for plugin servers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from claude_usage.loader import Dataset
from claude_usage.sources.transcripts import ToolCall
from claude_usage.timebuckets import iso_utc

MCP_PREFIX = "mcp__"
LATEST_MCP_SESSIONS = 50


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
    """Use of one tool: ``calls`` (distinct tool_use ids), ``errors`` (error results), the
    sessions that used it, and the first and last use (UTC microseconds)."""

    name: ToolName
    calls: int = 0
    errors: int = 0
    sessions: set[str] = field(default_factory=set)
    first_ts_us: int | None = None
    last_ts_us: int | None = None

    def add(self, call: ToolCall, failed: bool) -> None:
        """Count one call (and its error result, if ``failed``)."""
        self.calls += 1
        self.errors += failed
        self.sessions.add(call.session_id)
        if self.first_ts_us is None or call.ts_us < self.first_ts_us:
            self.first_ts_us = call.ts_us
        if self.last_ts_us is None or call.ts_us > self.last_ts_us:
            self.last_ts_us = call.ts_us

    def row(self) -> dict[str, Any]:
        """The JSON row of ``/api/v2/tools``: name, server (MCP only), calls, errors, sessionCount,
        firstUsed, lastUsed (ISO UTC)."""
        return {
            "name": self.name.name,
            "server": self.name.server,
            "tool": self.name.tool,
            "plugin": self.name.plugin,
            "mcp": self.name.is_mcp,
            "calls": self.calls,
            "count": self.calls,
            "errors": self.errors,
            "sessionCount": len(self.sessions),
            "firstUsed": iso_utc(self.first_ts_us),
            "lastUsed": iso_utc(self.last_ts_us),
        }


def tool_stats(dataset: Dataset, calls: Iterable[ToolCall] | None = None) -> dict[str, ToolStats]:
    """Per tool name, over ``calls`` (default: every call of the dataset)."""
    stats: dict[str, ToolStats] = {}
    for call in dataset.tool_calls if calls is None else calls:
        entry = stats.get(call.name)
        if entry is None:
            entry = stats[call.name] = ToolStats(split_tool_name(call.name))
        entry.add(call, call.id in dataset.tool_errors)
    return stats


def ranked(stats: dict[str, ToolStats]) -> list[ToolStats]:
    """Most called first, then by name."""
    return sorted(stats.values(), key=lambda s: (-s.calls, s.name.name))


def mcp_calls(dataset: Dataset) -> list[ToolCall]:
    """The calls of MCP tools, in time order."""
    return [call for call in dataset.tool_calls if split_tool_name(call.name).is_mcp]


def session_tool_use(calls: Iterable[ToolCall]) -> list[dict[str, Any]]:
    """Per session: ``{sessionId, cwd, startTime, endTime, tools: {name: count}}`` over ``calls``
    (start and end are the first and last of those calls, ISO UTC), latest first."""
    sessions: dict[str, dict[str, Any]] = {}
    for call in calls:
        entry = sessions.get(call.session_id)
        if entry is None:
            entry = sessions[call.session_id] = {
                "sessionId": call.session_id, "cwd": call.cwd, "start": call.ts_us, "end": call.ts_us, "tools": {},
            }
        entry["start"] = min(entry["start"], call.ts_us)
        entry["end"] = max(entry["end"], call.ts_us)
        entry["cwd"] = entry["cwd"] or call.cwd
        entry["tools"][call.name] = entry["tools"].get(call.name, 0) + 1
    ordered = sorted(sessions.values(), key=lambda e: (e["end"], e["sessionId"]), reverse=True)
    return [
        {"sessionId": e["sessionId"], "cwd": e["cwd"], "startTime": iso_utc(e["start"]),
         "endTime": iso_utc(e["end"]), "tools": dict(sorted(e["tools"].items()))}
        for e in ordered
    ]


def mcp_session_count(dataset: Dataset) -> int:
    """How many sessions used at least one MCP tool."""
    return len({call.session_id for call in mcp_calls(dataset)})
