"""Value for money (issue 15): what the month's use would have cost on the API against the plan's
price.

Per local month: the API-equivalent cost is the month's computed cost (``costUsd`` of the month
row: the priced requests, in the cost mode asked for); the plan's price is the monthly price of
the settings' plan (:data:`claude_usage.config.PLAN_PRICES_USD`, or its custom ``price_usd``),
the whole price for every month, the current one included (a month in progress shows its value
so far); ``valueRatio = cost / price`` (3.0: the use was worth three times the price). Without a
plan, or on the ``api`` plan (pay per use), both fields are null.
"""

from __future__ import annotations

import logging
from typing import Any

from claude_usage.config import ConfigError, Plan, load_config

log = logging.getLogger("claude_usage.plan_value")


def value_ratio(cost_usd: float | None, price_usd: float | None) -> float | None:
    """``cost / price`` rounded to 4 decimals; None without a price or a known cost."""
    if cost_usd is None or not price_usd:
        return None
    return round(cost_usd / price_usd, 4)


def value_fields(cost_usd: float | None, plan: Plan | None) -> dict[str, Any]:
    """``{"planPriceUsd", "valueRatio"}`` of a month whose API-equivalent cost is ``cost_usd``."""
    price = plan.price_usd if plan is not None else None
    return {"planPriceUsd": price, "valueRatio": value_ratio(cost_usd, price)}


def with_value(rows: list[dict[str, Any]], plan: Plan | None) -> list[dict[str, Any]]:
    """Month rows (usage rows with ``costUsd``) with :func:`value_fields` added (new dicts)."""
    return [{**row, **value_fields(row["costUsd"], plan)} for row in rows]


def plan_document(plan: Plan | None) -> dict[str, Any] | None:
    """The plan as JSON: ``{"name", "priceUsd"}`` (null price on the api plan), or None."""
    return None if plan is None else {"name": plan.name, "priceUsd": plan.price_usd}


def served_plan() -> Plan | None:
    """The settings' plan for the server: a bad settings file gives no plan (logged; the
    ``/api/v2/budgets`` answer and ``claude-usage config`` say what is wrong)."""
    try:
        return load_config().plan
    except ConfigError as error:
        log.warning("%s", error)
        return None
