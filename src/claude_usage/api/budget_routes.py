"""``GET /api/v2/budgets`` and the server's budget alerts (issue 15).

The settings file is read on each request (again only when it changed), so a budget set while
the server runs is served at once. :class:`BudgetWatch` evaluates the budgets after every
change of the store (any process's write) and raises their alerts (:mod:`claude_usage.alerts`):
an SSE event ``{"type": "alert", "alert": {...}}`` and the webhook, POSTed from a background
thread. A team server serves the state but raises no alerts (its store is the machines').
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from fastapi import APIRouter, Depends, Request, Response
from fastapi import Query as Q

from claude_usage import alerts, budgets
from claude_usage.api.budget_schemas import BudgetsResponse
from claude_usage.api.params import ApiError, CostModeParam, resolve_names, time_filters
from claude_usage.api.schemas import ErrorBody
from claude_usage.api.v2 import json_response
from claude_usage.config import ConfigError, config_path, load_config
from claude_usage.plan_value import plan_document
from claude_usage.reports import Query
from claude_usage.timebuckets import iso_utc

router = APIRouter(prefix="/api/v2", tags=["budgets"])
log = logging.getLogger("claude_usage.budgets")
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "A bad query parameter"},
    404: {"model": ErrorBody, "description": "No project matches the project filter"},
    503: {"model": ErrorBody, "description": "The settings file cannot be used (the message names the key)"},
}


def _settings() -> Any:
    try:
        return load_config()
    except ConfigError as error:
        raise ApiError(503, "bad_config", str(error)) from None


def budget_filters(
    request: Request,
    tz: str | None = Q(None, description="IANA time zone of the budgets' days, weeks and months (default: the server's)"),
    project: str | None = Q(None, description="Only the budgets of this project (key, path or last part of the path)"),
    mode: CostModeParam = Q("auto", description="Cost mode: auto (costUSD when present), calculate, display"),
) -> Query:
    """The filters that apply to budgets: the zone, a project, the cost mode (dates do not:
    a budget's period is the current one)."""
    query = time_filters(request, tz, None, None)
    projects, _ = resolve_names(request, project, None)
    return Query(zone=query.zone, project=projects, mode=mode)


@router.get("/budgets", response_model=BudgetsResponse, responses=ERRORS,
            summary="The budgets of the settings file in their current periods, and the alerts raised")
def budgets_state(request: Request, q: Query = Depends(budget_filters)) -> Response:
    settings = _settings()
    now_us = time.time_ns() // 1000
    store = request.app.state.store

    def compute(view: Any) -> dict[str, Any]:
        states = budgets.state(view, settings, now_us, q.zone, q.mode)
        if q.project is not None:
            wanted = set(q.project)
            states = [s for s in states if s.projects and wanted & set(s.projects)]
        raised = [] if store.team else alerts.current_alerts(view, states)
        return {"budgets": [budgets.state_row(s) for s in states], "alerts": raised,
                "thresholds": list(settings.alerts.thresholds), "plan": plan_document(settings.plan),
                "configPath": str(settings.path), "configured": settings.exists, "now": iso_utc(now_us),
                "timezone": q.clock.name}

    return json_response(store.answer(compute))


class BudgetWatch:
    """Evaluates the budgets of the settings file for a server and raises their alerts."""

    def __init__(self, state: Any, post: Callable[..., bool] | None = None):
        from claude_usage.webhook import post as webhook_post

        self.state = state
        self.post = post or webhook_post
        self._bad: str | None = None  # the settings error last logged
        self._seen = self._settings_stamp()

    @staticmethod
    def _settings_stamp() -> tuple[int, int] | None:
        """The settings file's (mtime in ns, size), None when there is none."""
        try:
            found = config_path().stat()
        except OSError:
            return None
        return found.st_mtime_ns, found.st_size

    def settings_changed(self) -> bool:
        """Whether the settings file changed (written, created or removed) since the last call
        (or since the server started)."""
        stamp = self._settings_stamp()
        changed, self._seen = stamp != self._seen, stamp
        return changed

    def check(self, publish: Callable[[dict], None], now_us: int | None = None) -> list[dict]:
        """Evaluate now: publish an SSE event per alert raised by this process and send its
        webhook in a background thread. Returns the alert bodies raised."""
        try:
            settings = load_config()
        except ConfigError as error:
            if str(error) != self._bad:
                log.warning("budgets: %s", error)
                self._bad = str(error)
            return []
        self._bad = None
        if not settings.budgets:
            return []
        now_us = now_us if now_us is not None else time.time_ns() // 1000
        zone = self.state.default_zone
        states = self.state.answer(lambda view: budgets.state(view, settings, now_us, zone))
        raised = [alert.body() for alert in alerts.raise_alerts(self.state.store, states, settings.alerts, now_us)]
        for body in raised:
            log.warning("budget alert: %s", body["message"])
            publish({"type": "alert", "alert": body})
            if settings.alerts.webhook_url:
                threading.Thread(target=self.post, name="claude-usage-webhook", daemon=True, args=(
                    settings.alerts.webhook_url, body, settings.alerts.webhook_timeout_s,
                    settings.alerts.webhook_retries)).start()
        return raised
