"""``GET /metrics``: the store in the Prometheus text format (issue 15), made by the
``prometheus-client`` library from the report queries at each scrape.

Counters (cumulative since the first request in the store; a scraper's ``rate()`` and
``increase()`` give use per interval): ``claude_usage_tokens_total{model, project, type}``
(``type``: ``input``, ``output``, ``cache_creation_5m``, ``cache_creation_1h``,
``cache_read``), ``claude_usage_cost_usd_total{model, project}`` (the known cost in USD, cost
mode ``auto``, DESIGN 5), ``claude_usage_requests_total{model, project}`` and
``claude_usage_unpriced_requests_total{model, project}`` (requests without a known price). Gauges:
``claude_usage_store_requests`` (deduplicated requests stored), ``claude_usage_last_activity_timestamp_seconds``
(the latest request, Unix seconds), ``claude_usage_data_files{state}`` (transcripts in the store:
``present`` or ``missing``, i.e. deleted since they were read). The official limits Claude Code
last passed to the status line (embedded store only): ``claude_usage_official_limit_used_percent{window}``
and ``claude_usage_official_limit_resets_at_timestamp_seconds{window}`` (``window``: ``five_hour``,
``seven_day``). The budgets of the settings file in their current periods (the server's zone):
``claude_usage_budget_limit_usd``, ``claude_usage_budget_spent_usd``,
``claude_usage_budget_used_percent`` and ``claude_usage_budget_projected_usd`` (once projected)
``{budget, period, project}``, and ``claude_usage_settings_valid`` (0 while the settings file
cannot be read; its error is in the server's log and ``/api/v2/budgets``).

Every family is a function of one scrape (:class:`Scrape`: one consistent view of the store, the
time, the server's zone) registered with
:func:`metric_family`: adding a family is adding one such function. The sums are SQL aggregates
of the rollups (:mod:`claude_usage.reports`), so the endpoint serves a team server too.

Only loopback clients are served unless the server runs with ``--metrics-public``; others get
403 with the API's error body.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from fastapi import APIRouter, Request, Response
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from claude_usage import budgets, limits_report, reports
from claude_usage.api.params import ApiError
from claude_usage.api.schemas import ErrorBody
from claude_usage.reports import Query



@dataclass(frozen=True)
class Scrape:
    """What a family reads: ``view`` (one read transaction of the store), ``now_us`` (UTC
    microseconds) and ``zone`` (the server's IANA zone: the budgets' days, weeks and months)."""

    view: Any
    now_us: int
    zone: str | None


Family = Callable[[Scrape], Iterable[Metric]]  # one scrape -> metric families
FAMILIES: list[Family] = []
_TOKEN_TYPES = (("input", "input_tokens"), ("output", "output_tokens"), ("cache_creation_5m", "cache_creation_5m_tokens"),
                ("cache_creation_1h", "cache_creation_1h_tokens"), ("cache_read", "cache_read_tokens"))


def metric_family(function: Family) -> Family:
    """Register ``function(scrape)`` (:class:`Scrape`; its view is the same transaction for
    every family of the scrape), which returns Prometheus metric families
    (``prometheus_client.core.CounterMetricFamily``, ``GaugeMetricFamily``...)."""
    FAMILIES.append(function)
    return function


@metric_family
def usage_counters(scrape: Scrape) -> list[Metric]:
    """Tokens by type, cost, requests and unpriced requests per model and project."""
    labels = ["model", "project"]
    tokens = CounterMetricFamily("claude_usage_tokens", "Tokens of the deduplicated requests, by model, project "
                                 "and token type", labels=[*labels, "type"])
    cost = CounterMetricFamily("claude_usage_cost_usd", "Known cost of the deduplicated requests in USD (cost mode "
                               "auto: the line's costUSD when present, else calculated)", labels=labels)
    requests = CounterMetricFamily("claude_usage_requests", "Deduplicated requests (API responses)", labels=labels)
    unpriced = CounterMetricFamily("claude_usage_unpriced_requests", "Requests whose model has no known price "
                                   "(their cost is not in claude_usage_cost_usd)", labels=labels)
    groups = reports.grouped(scrape.view, Query(zone="UTC"), reports.PROJECT, by_model=True)
    for project, totals in sorted(groups.items()):
        for model, sub in sorted((totals.by_model or {}).items()):
            for kind, name in _TOKEN_TYPES:
                tokens.add_metric([model, project, kind], getattr(sub, name))
            cost.add_metric([model, project], round(sub.cost_usd, 10))
            requests.add_metric([model, project], sub.requests)
            unpriced.add_metric([model, project], sub.unpriced_requests)
    return [tokens, cost, requests, unpriced]


@metric_family
def store_gauges(scrape: Scrape) -> list[Metric]:
    """How much the store holds and how recent it is."""
    view = scrape.view
    stored = view.one("SELECT value FROM meta WHERE key = 'requests'")
    records = GaugeMetricFamily("claude_usage_store_requests", "Deduplicated requests in the store",
                                value=int(stored[0]) if stored else 0)
    last = view.one("SELECT MAX(last_ts) FROM session_usage")[0]
    latest = GaugeMetricFamily("claude_usage_last_activity_timestamp_seconds",
                               "Time of the latest request (Unix seconds; absent without requests)")
    if last is not None:
        latest.add_metric([], last / 1e6)
    files = GaugeMetricFamily("claude_usage_data_files", "Transcript files in the store: present, or missing "
                              "(deleted since they were read; their requests still count)", labels=["state"])
    counts = dict(view.rows("SELECT missing, COUNT(*) FROM files GROUP BY missing"))
    files.add_metric(["present"], counts.get(0, 0))
    files.add_metric(["missing"], counts.get(1, 0))
    return [records, latest, files]


@metric_family
def official_limit_gauges(scrape: Scrape) -> list[Metric]:
    """The official 5-hour and weekly use of the latest observation with limits (none before
    the status line saw any, or on a team store)."""
    labels = ["window"]
    used = GaugeMetricFamily("claude_usage_official_limit_used_percent", "Official use of the subscription limit "
                             "as Claude Code last passed it to the status line (100 = the limit)", labels=labels)
    resets = GaugeMetricFamily("claude_usage_official_limit_resets_at_timestamp_seconds", "When that limit window "
                               "resets (Unix seconds)", labels=labels)
    latest = limits_report.latest(scrape.view)
    if latest is not None:
        for window, percent, reset_us in (("five_hour", latest.five_hour_pct, latest.five_hour_reset_us),
                                          ("seven_day", latest.seven_day_pct, latest.seven_day_reset_us)):
            if percent is not None:
                used.add_metric([window], percent)
            if reset_us is not None:
                resets.add_metric([window], reset_us / 1e6)
    return [used, resets]


@metric_family
def budget_gauges(scrape: Scrape) -> list[Metric]:
    """Every budget of the settings file in its current period (:func:`claude_usage.budgets.state`)."""
    from claude_usage.config import ConfigError, load_config

    labels = ["budget", "period", "project"]
    families = {name: GaugeMetricFamily(f"claude_usage_budget_{name}", text, labels=labels) for name, text in (
        ("limit_usd", "The budget's limit in USD per period"),
        ("spent_usd", "Known cost in the budget's current period, USD"),
        ("used_percent", "Spent share of the budget (100 = the limit)"),
        ("projected_usd", "Projected cost at the end of the period (linear; once a quarter of it has passed)"),
    )}
    try:
        settings = load_config()
    except ConfigError:
        return [GaugeMetricFamily("claude_usage_settings_valid", "1 when the settings file can be read", value=0)]
    for state in budgets.state(scrape.view, settings, scrape.now_us, scrape.zone):
        key = [state.budget.key, state.budget.period, state.budget.project or ""]
        families["limit_usd"].add_metric(key, state.limit_usd)
        families["spent_usd"].add_metric(key, round(state.spent_usd, 10))
        families["used_percent"].add_metric(key, state.percent)
        if state.projected_usd is not None:
            families["projected_usd"].add_metric(key, round(state.projected_usd, 10))
    valid = GaugeMetricFamily("claude_usage_settings_valid", "1 when the settings file can be read", value=1)
    return [*families.values(), valid]


class StoreCollector:
    """A ``prometheus_client`` collector that reads every registered family from one view of
    the store at scrape time (nothing is kept between scrapes)."""

    def __init__(self, store: Any, zone: str | None = None):
        self.store = store
        self.zone = zone

    def describe(self) -> list[Metric]:
        return []  # the families are known only when read

    def collect(self) -> list[Metric]:
        with self.store.reading() as view:
            scrape = Scrape(view, time.time_ns() // 1000, self.zone)
            return [metric for family in FAMILIES for metric in family(scrape)]


def metrics_text(store: Any, zone: str | None = None) -> bytes:
    """The families of :data:`FAMILIES` over ``store`` (any store with ``reading()``) in
    ``zone`` (None: ``$TZ`` or the machine's), in the Prometheus text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store, zone))
    return generate_latest(registry)


def client_allowed(client: Any, public: bool) -> bool:
    """Whether a client (the ASGI scope's ``(host, port)``, or None) may read ``/metrics``:
    any client when ``public``, else only a loopback address."""
    if public:
        return True
    host = client[0] if client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


router = APIRouter(tags=["integrations"])


@router.get("/metrics", response_class=Response, summary="Usage in the Prometheus text format", responses={
    200: {"description": "The metric families (see the README)", "content": {"text/plain": {"schema": {"type": "string"}}}},
    403: {"model": ErrorBody, "description": "A client from another machine, and the server does not run with --metrics-public"},
})
def metrics(request: Request) -> Response:
    """Tokens, cost and requests per model and project, and the store's state, for Prometheus."""
    if not client_allowed(request.scope.get("client"), getattr(request.app.state, "metrics_public", False)):
        raise ApiError(403, "forbidden", "/metrics answers clients on this machine only; start the server with "
                                         "--metrics-public to serve it to other machines")
    state = request.app.state.store
    return Response(metrics_text(state.store, state.default_zone), media_type=CONTENT_TYPE_LATEST)
