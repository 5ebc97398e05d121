"""Budget alerts (issue 15): raised once per budget, period and threshold, across processes.

A budget's alert keys in its current period are the thresholds its spent amount reached
(``"50"``, ``"80"``, ``"100"``; :attr:`claude_usage.config.Alerts.thresholds`) and
``"projected"`` once its projection reaches the limit (:mod:`claude_usage.budgets`). Each key is
a row of the store's ``budget_alerts`` table (primary key: budget, period, threshold); the rows
are read and written in one write transaction, so that of two processes evaluating at once
exactly one records, and so raises, each alert. When several keys of one budget are new at once
(a jump from 40 % to 85 %), all are recorded but one alert is raised: the most severe (the
highest threshold; ``projected`` ranks just below 100 %); the others are kept with ``sent = 0``.

Who evaluates and who sends:
- ``claude-usage serve`` evaluates after every change of the store (:class:`~claude_usage.api.
  budget_routes.BudgetWatch`), pushes ``{"type": "alert", "alert": {...}}`` over SSE and POSTs
  the webhook from a background thread.
- ``claude-usage statusline`` evaluates on each run (so alerts come without a server) and
  hands the webhook to a detached process (:func:`claude_usage.webhook.send_detached`): the
  status line never waits for it.
Whichever process records an alert first sends it; the other finds it recorded. A rebuilt store
(schema change, damage) forgets its alerts: the current periods' alerts may come once more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from claude_usage.budgets import BudgetState
from claude_usage.config import Alerts
from claude_usage.rows import usd
from claude_usage.timebuckets import iso_utc

PROJECTED = "projected"
RECENT_S = 3600  # an alert raised this recently marks its budget in the status line


def threshold_key(threshold: float) -> str:
    """A threshold as stored: ``80`` for 80.0, ``12.5`` for 12.5."""
    return f"{threshold:g}"


def _severity(key: str) -> float:
    return 99.99 if key == PROJECTED else float(key)


@dataclass(frozen=True)
class Alert:
    """A raised alert: the budget's state when it was raised, the key that was reached
    (``threshold``: a percentage as text, or ``projected``) and when (UTC microseconds)."""

    state: BudgetState
    threshold: str
    time_us: int

    def body(self) -> dict[str, Any]:
        """The alert as JSON (the webhook's body and the SSE event's ``alert``)."""
        s = self.state
        reached = "projected to pass 100%" if self.threshold == PROJECTED else f"passed {self.threshold}%"
        return {
            "budget": s.budget.key,
            "label": s.budget.label,
            "project": s.budget.project,
            "period": s.budget.period,
            "periodStart": s.since,
            "periodEnd": s.until,
            "threshold": self.threshold,
            "spentUsd": usd(s.spent_usd),
            "limitUsd": usd(s.limit_usd),
            "percent": round(s.percent, 2),
            "projectedUsd": usd(s.projected_usd),
            "projectedPercent": None if s.projected_percent is None else round(s.projected_percent, 2),
            "status": s.status,
            "time": iso_utc(self.time_us),
            "message": f"{s.budget.label} budget {reached}: ${s.spent_usd:,.2f} of ${s.limit_usd:,.2f} "
                       f"({s.since}{'' if s.since == s.until else ' to ' + s.until})",
        }


def reached(state: BudgetState, settings: Alerts) -> list[str]:
    """The alert keys ``state`` has reached (see the module docstring)."""
    keys = [threshold_key(t) for t in state.thresholds_passed]
    if settings.projection and state.projected_usd is not None and state.projected_usd >= state.limit_usd:
        keys.append(PROJECTED)
    return keys


def _pairs(states: Iterable[BudgetState]) -> tuple[str, list[str]]:
    """SQL selecting the rows of the budgets' current periods, and its parameters."""
    pairs = sorted({(s.budget.key, s.period_key) for s in states})
    return " OR ".join(["(budget = ? AND period = ?)"] * len(pairs)) or "1 = 0", [v for pair in pairs for v in pair]


def _recorded(rows_of: Callable[[str, list], list], states: Iterable[BudgetState]) -> set[tuple[str, str, str]]:
    """The keys recorded for the budgets' current periods (``rows_of(sql, params)`` runs a query)."""
    condition, params = _pairs(states)
    return {tuple(row) for row in rows_of(f"SELECT budget, period, threshold FROM budget_alerts WHERE {condition}", params)}  # type: ignore[misc]


def raise_alerts(store: Any, states: list[BudgetState], settings: Alerts, now_us: int) -> list[Alert]:
    """Record the alert keys the ``states`` reached that no process recorded yet, and return
    the alerts this process must raise (one per budget at most, see the module docstring). A
    quick read first: nothing is written (no write lock is taken) when every key is recorded."""
    wanted = {(s.budget.key, s.period_key, key): s for s in states for key in reached(s, settings)}
    if not wanted:
        return []
    with store.reading() as view:
        if not set(wanted) - _recorded(view.rows, states):
            return []
    raised = []
    with store.writing() as conn:
        new = sorted(set(wanted) - _recorded(lambda sql, p: conn.execute(sql, p).fetchall(), states), key=lambda k: (k[0], -_severity(k[2])))
        chosen: set[str] = set()
        for budget, period, key in new:
            s = wanted[(budget, period, key)]
            send = budget not in chosen
            cursor = conn.execute(
                "INSERT INTO budget_alerts (budget, period, threshold, ts, spent_usd, limit_usd, projected_usd, sent) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (budget, period, key, now_us, s.spent_usd, s.limit_usd, s.projected_usd, int(send)))
            if send and cursor.rowcount == 1:
                chosen.add(budget)
                raised.append(Alert(s, key, now_us))
    return raised


def recent_keys(view: Any, now_us: int, within_s: int = RECENT_S) -> set[str]:
    """The budgets with an alert raised in the last ``within_s`` seconds."""
    rows = view.rows("SELECT DISTINCT budget FROM budget_alerts WHERE sent = 1 AND ts >= ?", (now_us - within_s * 1_000_000,))
    return {row[0] for row in rows}


def current_alerts(view: Any, states: list[BudgetState]) -> list[dict[str, Any]]:
    """The alerts raised in the budgets' current periods, latest first: ``{budget, period
    (e.g. day:2025-07-16), threshold, time, spentUsd, limitUsd, projectedUsd}``."""
    condition, params = _pairs(states)
    rows = view.rows(f"SELECT budget, period, threshold, ts, spent_usd, limit_usd, projected_usd FROM budget_alerts "
                     f"WHERE sent = 1 AND ({condition}) ORDER BY ts DESC, budget", params)
    return [{"budget": b, "period": p, "threshold": t, "time": iso_utc(ts), "spentUsd": usd(spent), "limitUsd": usd(limit),
             "projectedUsd": usd(projected)} for b, p, t, ts, spent, limit, projected in rows]


def status_line_segments(store: Any, zone: str | None, now_us: int) -> list[str]:
    """The status line's budget segments (:func:`claude_usage.budgets.status_segments`): the
    budgets' state, alerts raised and recorded on the way (their webhook sent by a detached
    process). Never raises: a bad settings file or a busy store gives a short segment."""
    from claude_usage.budgets import state, status_segments
    from claude_usage.config import ConfigError, load_config

    try:
        config = load_config()
    except ConfigError:
        return ["budgets: bad settings file (see `claude-usage config`)"]
    if not config.budgets:
        return []
    try:
        with store.reading() as view:
            states = state(view, config, now_us, zone)
        try:
            raised = raise_alerts(store, states, config.alerts, now_us)
        except Exception:  # the store is busy: the next run records them
            raised = []
        if raised and config.alerts.webhook_url:
            from claude_usage.webhook import send_detached

            for alert in raised:
                send_detached(alert.body())
        with store.reading() as view:
            recent = recent_keys(view, now_us)
    except Exception as error:
        return [f"budgets: {type(error).__name__}"]
    return status_segments(states, recent)
