"""JSON rows of DESIGN section 8, shared by the CLI's ``--json`` output and the REST API.

Field names and JSON types are those of the system this product replaces (costs as strings),
with the exact values beside them (``costUsd``: a number, or null when unknown).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Mapping

from claude_usage.timebuckets import iso_utc
from claude_usage.totals import Totals


def usd(value: float | None) -> float | None:
    """A USD amount for JSON: rounded to 1e-9 (float noise off), None passes."""
    return None if value is None else round(value, 9)


def money_text(value: float) -> str:
    """USD for people: ``$1,234.57``. Rounded half up from the amount's shortest decimal form (to
    1e-9 first), as the dashboard's ``Intl.NumberFormat`` does, so that every view shows the same
    cents (``f"{7.215:.2f}"`` alone gives 7.21, the browser 7.22)."""
    exact = Decimal(repr(round(value, 9))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"${exact:,.2f}"


def cost_string(value: float, decimals: int = 4) -> str:
    """The old string form of a USD amount, e.g. ``"12.3400"``."""
    return f"{value:.{decimals}f}"


def usage_row(totals: Totals, breakdown: bool = False) -> dict[str, Any]:
    """The usage row of DESIGN section 8 for ``totals``.

    Tokens are counts; ``cost`` is the known cost in USD as a string with 4 decimals, ``costUsd``
    the same number (null when the row has requests and none of them is priced);
    ``unpricedRequests`` counts requests of models without a price. DESIGN section 5's counts:
    ``webSearchRequests`` (billed per search, in the cost), ``webFetchRequests`` (free beyond
    their tokens), ``placeholderOutputRequests`` (output count a streaming placeholder of Claude
    Code before 2.1.97), ``fastUnpricedRequests`` (fast mode priced at the standard rate). With
    ``breakdown`` and per-model sub-totals, ``models`` lists one usage row per model (with
    ``model``).
    """
    row: dict[str, Any] = {
        "inputTokens": totals.input_tokens,
        "outputTokens": totals.output_tokens,
        "cacheCreationTokens": totals.cache_creation_tokens,
        "cacheCreation1hTokens": totals.cache_creation_1h_tokens,
        "cacheReadTokens": totals.cache_read_tokens,
        "cachedTokens": totals.cache_creation_tokens + totals.cache_read_tokens,
        "totalTokens": totals.total_tokens,
        "newInputTokens": totals.input_tokens,
        "requests": totals.requests,
        "messages": totals.requests,
        "sessions": totals.sessions,
        "cost": cost_string(totals.cost_usd),
        "costUsd": usd(totals.known_cost_usd),
        "unpricedRequests": totals.unpriced_requests,
        "webSearchRequests": totals.web_search_requests,
        "webFetchRequests": totals.web_fetch_requests,
        "placeholderOutputRequests": totals.placeholder_output_requests,
        "fastUnpricedRequests": totals.fast_unpriced_requests,
        "modelsUsed": sorted(totals.models),
    }
    if breakdown and totals.by_model is not None:
        row["models"] = [model_row(model, sub) for model, sub in sorted(totals.by_model.items())]
    return row


def keyed_row(key_name: str, key: Any, totals: Totals, breakdown: bool = False) -> dict[str, Any]:
    """A usage row with its key first, e.g. ``{"date": "2025-06-08", ...usage row}``."""
    return {key_name: key, **usage_row(totals, breakdown)}


def model_row(model: str, totals: Totals) -> dict[str, Any]:
    """A model's row: ``model``, the usage row and ``unpriced`` (some request has no price)."""
    return {"model": model, **usage_row(totals), "unpriced": totals.unpriced_requests > 0}


def project_row(paths: Mapping[str, str], name: str, totals: Totals, breakdown: bool = False) -> dict[str, Any]:
    """A project's row: key ``name``, real ``path`` (from ``cwd``; ``paths`` maps project keys
    to paths, see :func:`claude_usage.store.facts.project_paths`), the old fields ``totalTokens``,
    ``totalCost`` (USD string, 4 decimals), ``messageCount``, ``lastActivity`` (ISO UTC), and the
    usage row."""
    return {
        "name": name,
        "path": paths.get(name),
        "totalCost": cost_string(totals.cost_usd),
        "messageCount": totals.requests,
        "lastActivity": iso_utc(totals.last_ts_us),
        "firstActivity": iso_utc(totals.first_ts_us),
        **usage_row(totals, breakdown),
    }


def session_row(paths: Mapping[str, str], session_id: str, totals: Totals, breakdown: bool = False,
                titles: Mapping[str, str] | None = None,
                claude_code_costs: Mapping[str, float] | None = None) -> dict[str, Any]:
    """A session's row: ``sessionId``, ``title`` (the title Claude Code wrote or the first
    prompt, from ``titles``; None when unknown), ``project`` (key; several if the session
    spans projects, the first in order), ``path``, ``firstActivity``/``lastActivity`` (ISO
    UTC), ``durationMinutes`` (from the first to the last request), ``subagentCostUsd`` (known
    cost of its sidechain requests), ``claudeCodeCostUsd`` (the session's cost as Claude Code
    counts it, last passed to the status line, from ``claude_code_costs``; None when never)
    and the usage row."""
    projects = sorted(totals.projects)
    project = projects[0] if projects else None
    first, last = totals.first_ts_us, totals.last_ts_us
    return {
        "sessionId": session_id,
        "title": (titles or {}).get(session_id),
        "project": project,
        "projects": projects,
        "path": paths.get(project) if project else None,
        "firstActivity": iso_utc(first),
        "lastActivity": iso_utc(last),
        "durationMinutes": round((last - first) / 60_000_000, 2) if first is not None and last is not None else None,
        "subagentCostUsd": usd(totals.sidechain_cost_usd),
        "claudeCodeCostUsd": (claude_code_costs or {}).get(session_id),
        **usage_row(totals, breakdown),
    }
