"""Sessions a person can recognise (issue 14): their titles, the subagents' tasks and the
timeline of a session's requests, all SQL over the store (DESIGN section 7).

- A session's title is the best of its stored candidates
  (:mod:`claude_usage.sources.session_titles`): a title the user gave (``/rename``), then the
  one Claude Code wrote (``ai-title``, ``summary``), then the first prompt typed, and for a
  session made only of subagent transcripts (such as Claude Code's warm-up agents), the first
  prompt of its earliest one.
- A subagent transcript without ``.meta.json`` is described by its first prompt (its task).
- The timeline lists a session's kept requests in time order with their tokens and cost.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

from claude_usage.store.schema import COST_UNIT, SIDECHAIN
from claude_usage.timebuckets import iso_utc

TIMELINE_LIMIT = 5000  # requests of one session shown at most (the first ones)


def titles(view: Any, sessions: Sequence[str]) -> dict[str, str]:
    """Session id -> title for those of ``sessions`` that have one (see the module docstring:
    the highest kind wins; within a kind the latest title line, or the earliest prompt)."""
    found: dict[str, str] = {}
    names = list(dict.fromkeys(sessions))
    for at in range(0, len(names), 500):
        chunk = names[at: at + 500]
        for name, _kind, text in view.rows(
                "SELECT s.name, t.kind, t.text FROM session_titles t JOIN sessions s ON s.id = t.session_id "
                f"WHERE s.name IN ({', '.join('?' * len(chunk))}) "
                "ORDER BY s.name, t.kind DESC, CASE WHEN t.kind <= 0 THEN t.ts ELSE -t.ts END, "
                "CASE WHEN t.kind <= 0 THEN t.line ELSE -t.line END", chunk):
            found.setdefault(name, text)
    return found


def agent_tasks(view: Any, paths: Sequence[str]) -> dict[str, str]:
    """Subagent transcript path -> its first prompt (the task it was given), for ``paths``."""
    if not paths:
        return {}
    marks = ", ".join("?" * len(paths))
    return {path: text for path, text in view.rows(
        "SELECT f.path, t.text FROM session_titles t JOIN files f ON f.id = t.file_id "
        f"WHERE t.kind < 0 AND f.path IN ({marks}) ORDER BY t.line DESC", list(paths))}


def _cost_sql(mode: str) -> str:
    """A request row's cost (store units) under a cost mode; NULL when unknown."""
    return {"calculate": "u.cost", "display": "COALESCE(u.line_cost, 0)"}.get(mode, "COALESCE(u.line_cost, u.cost)")


def timeline(view: Any, query: Any, session: str, limit: int = TIMELINE_LIMIT) -> tuple[int, list[dict[str, Any]]]:
    """The kept requests of ``session`` that ``query`` selects (its dates, project, model and
    cost mode), in time order: ``(number of requests, [row])``, at most ``limit`` rows. A row:
    ``time`` (ISO UTC), ``model``, ``inputTokens``, ``outputTokens``, ``cacheCreationTokens``,
    ``cacheReadTokens``, ``totalTokens``, ``costUsd`` (None when unpriced), ``sidechain``
    (a subagent's request) and ``agentId`` (its subagent transcript, else None)."""
    from claude_usage import reports

    selection = reports.selection(view, replace(query, session=session), reports.ROWS)
    if selection.empty:
        return 0, []
    prefix, params = selection.prefix(), selection.params
    count = view.one(f"{prefix}SELECT COUNT(*) {selection.clause()}", params)[0]
    joined = selection.clause(" JOIN models m ON m.id = u.model_id JOIN files f ON f.id = u.file_id")
    rows = view.rows(
        f"{prefix}SELECT u.ts, m.name, u.input, u.output, u.cache_5m + u.cache_1h, u.cache_read, "
        f"{_cost_sql(query.mode)}, u.flags, f.path, f.agent IS NOT NULL {joined} ORDER BY u.ts, u.id LIMIT ?",
        [*params, limit])
    return count, [{
        "time": iso_utc(ts),
        "model": model,
        "inputTokens": inp,
        "outputTokens": out,
        "cacheCreationTokens": created,
        "cacheReadTokens": read,
        "totalTokens": inp + out + created + read,
        "costUsd": None if cost is None else round(cost * COST_UNIT, 9),
        "sidechain": bool(flags & SIDECHAIN),
        "agentId": agent_id(path) if is_agent else None,
    } for ts, model, inp, out, created, read, cost, flags, path, is_agent in rows]


def agent_id(path: str) -> str:
    """A subagent transcript's id: its file name without ``agent-`` and ``.jsonl``."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.removesuffix(".jsonl").removeprefix("agent-")
